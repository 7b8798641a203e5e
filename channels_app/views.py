from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from routing.models import Agent
from supervisor.access import is_supervisor


def chat(request: HttpRequest) -> HttpResponse:
    return render(request, "chat/chat.html")


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
