"""Supervisors' actions on the live floor, as a REST API (the dashboard calls it)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app.api.customers import error_response
from contactcenter.kernel.errors import DomainError, InvalidInput, NotFound
from contactcenter.kernel.roles import is_supervisor
from routing.selectors.payloads import agent_payload_by_id
from supervisor import services

MAX_ID = 2**63 - 1


class IsSupervisor(permissions.BasePermission):
    message = "Only supervisors can act on agents and work."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return is_supervisor(request.user)


def body_of(request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise InvalidInput("The body must be a JSON object.", field="body")
    return request.data


class AgentPresence(APIView):
    """Set an agent's presence (``{"status_id": int | null}``; null is offline). Recorded as
    the supervisor's action and in the agent's status history; their console follows live."""

    permission_classes = [permissions.IsAuthenticated, IsSupervisor]

    @extend_schema(request=dict, responses={200: dict, 400: dict, 404: dict})
    def post(self, request: Request, agent_id: int) -> Response:
        try:
            data = body_of(request)
            if "status_id" not in data:
                raise InvalidInput("status_id is required (null for offline).", field="status_id")
            status_id = data["status_id"]
            if status_id is not None and (
                isinstance(status_id, bool) or not isinstance(status_id, int) or status_id < 1
            ):
                raise InvalidInput("status_id must be a status id or null.", field="status_id")
            if agent_id > MAX_ID or (status_id or 0) > MAX_ID:
                raise NotFound("No such agent or status.", field="agent_id")
            agent = services.set_agent_presence(
                actor=request.user, agent_id=agent_id, status_id=status_id
            )
        except DomainError as exc:
            return error_response(exc)
        return Response(agent_payload_by_id(agent.pk))


class WorkItemPriority(APIView):
    """Change a waiting item's priority (``{"priority": int}``, -100 to 100; higher first)."""

    permission_classes = [permissions.IsAuthenticated, IsSupervisor]

    @extend_schema(request=dict, responses={200: dict, 400: dict, 404: dict, 409: dict})
    def post(self, request: Request, work_item_id: int) -> Response:
        try:
            data = body_of(request)
            if work_item_id > MAX_ID:
                raise NotFound(f"No work item {work_item_id}.", field="work_item_id")
            item = services.set_priority(
                actor=request.user, work_item_id=work_item_id, priority=data.get("priority")
            )
        except DomainError as exc:
            return error_response(exc)
        return Response({"work_item_id": item.pk, "priority": item.priority})


def _optional_id(data: dict[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{name} must be an id or null.", field=name)
    if value > MAX_ID:
        raise NotFound(f"No such {name.removesuffix('_id')}.", field=name)
    return value


class WorkItemReassign(APIView):
    """Hand an item to another queue and/or agent (``{"queue_id": int | null, "agent_id":
    int | null, "note": str}``). Waiting or offered work moves; work an agent holds is
    transferred for them. The note (up to 800 characters) is an internal message for
    whoever takes it. Recorded as the supervisor's action; consoles follow live."""

    permission_classes = [permissions.IsAuthenticated, IsSupervisor]

    @extend_schema(request=dict, responses={200: dict, 400: dict, 404: dict, 409: dict})
    def post(self, request: Request, work_item_id: int) -> Response:
        try:
            data = body_of(request)
            if work_item_id > MAX_ID:
                raise NotFound(f"No work item {work_item_id}.", field="work_item_id")
            note = data.get("note", "")
            if not isinstance(note, str):
                raise InvalidInput("note must be text.", field="note")
            item = services.reassign(
                actor=request.user,
                work_item_id=work_item_id,
                queue_id=_optional_id(data, "queue_id"),
                agent_id=_optional_id(data, "agent_id"),
                note=note,
            )
        except DomainError as exc:
            return error_response(exc)
        return Response(
            {
                "work_item_id": item.pk,
                "status": item.status,
                "queue_id": item.queue_id,
                "preferred_agent_id": item.preferred_agent_id,
            }
        )
