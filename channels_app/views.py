"""The pages: the customer chat, the agent console, the supervisor dashboard and reports."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from channels_app.models import ChatSite
from contactcenter.kernel.roles import is_supervisor
from routing.models import Agent
from supervisor import history
from supervisor import reports as reporting


@xframe_options_exempt
def chat(request: HttpRequest) -> HttpResponse:
    """The customer chat page; with ``?site=<key>`` the compact page the widget frames.

    Only the site's allowed origins may frame it (CSP frame-ancestors, which browsers
    enforce); the page alone may not be framed at all.
    """
    key = request.GET.get("site")
    if key is None:
        response = render(request, "chat/chat.html", {"embedded": False})
        response["Content-Security-Policy"] = "frame-ancestors 'none'"
        return response
    site = ChatSite.objects.filter(key=key, is_active=True).first()
    if site is None:
        raise Http404("No chat widget is set up with this key.")
    response = render(request, "chat/chat.html", {"embedded": True, "site": site})
    response["Content-Security-Policy"] = "frame-ancestors " + " ".join(site.origins())
    return response


@login_required
def console(request: HttpRequest) -> HttpResponse:
    agent = Agent.objects.select_related("user").filter(user=request.user).first()
    if agent is None:
        raise PermissionDenied("Only agents can open the console.")
    return render(request, "console/console.html", {"agent_name": agent.name})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each person to the page of their role."""
    if is_supervisor(request.user):
        return redirect("supervisor-dashboard")
    if Agent.objects.filter(user=request.user).exists():
        return redirect("console")
    if request.user.is_staff:
        return redirect("admin:index")
    raise PermissionDenied("Your account has no agent or supervisor role yet.")


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    Agent.objects.exists()
    return JsonResponse({"status": "ok"})


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    if not is_supervisor(request.user):
        raise PermissionDenied("Only supervisors can open the dashboard.")
    return render(request, "supervisor/dashboard.html")


@login_required
def reports(request: HttpRequest) -> HttpResponse:
    if not is_supervisor(request.user):
        raise PermissionDenied("Only supervisors can open the reports.")
    today = timezone.localdate()
    try:
        query = reporting.parse_query(request.GET, today=today)
    except reporting.BadParameter as error:
        context = {"error": error, "form": reporting.form_values(request.GET, today=today)}
        return render(request, "supervisor/reports.html", context, status=400)
    figures = history.report(query.period)
    return render(request, "supervisor/reports.html", reporting.page_context(query, figures))


@login_required
def reports_csv(request: HttpRequest) -> HttpResponse:
    if not is_supervisor(request.user):
        raise PermissionDenied("Only supervisors can export the reports.")
    try:
        table = reporting.parse_table(request.GET)
        query = reporting.parse_query(request.GET, today=timezone.localdate())
    except reporting.BadParameter as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")
    return reporting.csv_response(table, query, history.report(query.period))
