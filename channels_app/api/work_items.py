"""Routing's REST API: thin views over routing reads."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app.api.customers import error_response
from contactcenter.crm.files import InboundAttachment
from contactcenter.crm.messages import check_reply_files
from contactcenter.kernel.errors import DomainError, NotFound
from contactcenter.kernel.roles import is_supervisor
from routing import explanations
from routing.models import Agent
from routing.selectors import access
from routing.services import work

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


class WorkItemReply(APIView):
    """An agent's reply with files (multipart: ``body`` and ``files``) on an email they work on;
    text-only replies go over the console's socket."""

    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [MultiPartParser]

    @extend_schema(request=dict, responses={201: dict, 400: dict, 404: dict, 409: dict})
    def post(self, request: Request, work_item_id: int) -> Response:
        agent = Agent.objects.select_related("user").filter(user=request.user).first()
        try:
            if agent is None or work_item_id > MAX_ID:
                raise NotFound(f"No work item {work_item_id}.", field="work_item_id")
            uploads = request.FILES.getlist("files")
            held = access.access_work_item(agent, work_item_id)
            # Checked before any file is read into memory.
            check_reply_files(held.interaction.channel, [upload.size for upload in uploads])
            files = tuple(
                InboundAttachment(
                    filename=upload.name or "file",
                    content_type=upload.content_type or "application/octet-stream",
                    data=upload.read(),
                )
                for upload in uploads
            )
            message = work.send_agent_message(
                agent=agent,
                work_item_id=work_item_id,
                body=str(request.data.get("body", "")),
                files=files,
            )
        except DomainError as exc:
            return error_response(exc)
        return Response({"message_id": message.pk}, status=status.HTTP_201_CREATED)
