from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone

from supervisor import history
from supervisor import reports as reporting
from supervisor.access import is_supervisor


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
