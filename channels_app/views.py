from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from channels_app.models import ChatSite
from routing.models import Agent
from supervisor.access import is_supervisor


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
