"""Routing's REST API: thin views over routing reads."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcenter.errors import NotFound
from routing import explanations
from supervisor.access import is_supervisor

# The largest id the database can hold: a larger one in the URL is simply not found.
MAX_ID = 2**63 - 1


class IsSupervisor(permissions.BasePermission):
    message = "Only supervisors can see routing explanations."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return is_supervisor(request.user)


class WorkItemExplanation(APIView):
    """Why a work item waits (agents excluded per reason), or why it went to its agent."""

    permission_classes = [permissions.IsAuthenticated, IsSupervisor]

    @extend_schema(responses={200: dict, 404: dict})
    def get(self, request: Request, work_item_id: int) -> Response:
        try:
            if work_item_id > MAX_ID:
                raise NotFound(f"No work item {work_item_id}.", field="work_item_id")
            explanation = explanations.explain_work_item(work_item_id, timezone.now())
        except NotFound as exc:
            return Response(
                {"detail": str(exc), "field": exc.field}, status=status.HTTP_404_NOT_FOUND
            )
        return Response(explanation)
