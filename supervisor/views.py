from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from supervisor.access import is_supervisor


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    if not is_supervisor(request.user):
        raise PermissionDenied("Only supervisors can open the dashboard.")
    return render(request, "supervisor/dashboard.html")
