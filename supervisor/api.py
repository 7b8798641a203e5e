"""Supervisors' actions on the live floor, as a REST API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import routing.services as routing_services
from contactcenter.errors import DomainError, NotFound
from routing.models import Agent, AgentStatusChange
from routing.selectors import agent_payload_by_id
from supervisor.access import is_supervisor

MAX_ID = 2**63 - 1


class IsSupervisor(permissions.BasePermission):
    message = "Only supervisors can change an agent's presence."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return is_supervisor(request.user)


class AgentPresence(APIView):
    """Set an agent's presence (``{"status_id": int | null}``; null is offline). Recorded in
    the agent's status history as a supervisor's change; their console follows live."""

    permission_classes = [permissions.IsAuthenticated, IsSupervisor]

    @extend_schema(request=dict, responses={200: dict, 400: dict, 404: dict})
    def post(self, request: Request, agent_id: int) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        if "status_id" not in data:
            return Response(
                {"error": "status_id is required (null for offline).", "field": "status_id"},
                status=status.HTTP_400_BAD_REQUEST,
            )
        status_id = data["status_id"]
        if status_id is not None and (
            isinstance(status_id, bool) or not isinstance(status_id, int) or status_id < 1
        ):
            return Response(
                {"error": "status_id must be a status id or null.", "field": "status_id"},
                status=status.HTTP_400_BAD_REQUEST,
            )
        agent = (
            Agent.objects.select_related("user").filter(pk=agent_id).first()
            if agent_id <= MAX_ID
            else None
        )
        try:
            if agent is None:
                raise NotFound(f"No agent {agent_id}.", field="agent_id")
            routing_services.set_presence(
                agent=agent,
                status_id=status_id,
                cause=AgentStatusChange.Cause.SUPERVISOR,
                changed_by=request.user,
            )
        except DomainError as exc:
            code = status.HTTP_404_NOT_FOUND if isinstance(exc, NotFound) else 400
            return Response({"error": exc.message, "field": exc.field}, status=code)
        return Response(agent_payload_by_id(agent.pk))
