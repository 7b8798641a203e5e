"""The CRM's REST API: a customer's timeline, and merging customers."""

from __future__ import annotations

from datetime import timedelta

from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcenter.crm import merging, selectors
from contactcenter.crm.customers import update_customer
from contactcenter.crm.models import Attachment
from contactcenter.kernel.errors import DomainError, NotFound, error_body, http_status
from contactcenter.kernel.roles import is_supervisor
from routing.models import Agent
from routing.selectors import payloads

MAX_ID = 2**63 - 1


def error_response(exc: DomainError) -> Response:
    """A domain error as the REST API answers it (every API module uses this one)."""
    return Response(error_body(exc), status=http_status(exc))


class WorksWithCustomers(permissions.BasePermission):
    message = "Only agents, supervisors and staff can read customers."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return (
            is_supervisor(user)
            or user.has_perm("contactcenter.view_customer")
            or Agent.objects.filter(user=user).exists()
        )


class CanMergeCustomers(permissions.BasePermission):
    message = "Merging customers needs the contactcenter.change_customer permission."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.user.has_perm("contactcenter.change_customer")


class CustomerTimeline(APIView):
    """All of a customer's interactions on every channel, newest first, with their messages."""

    permission_classes = [permissions.IsAuthenticated, WorksWithCustomers]

    @extend_schema(responses={200: dict, 404: dict})
    def get(self, request: Request, customer_id: int) -> Response:
        try:
            if customer_id > MAX_ID:
                raise NotFound(f"No customer {customer_id}.", field="customer_id")
            return Response(payloads.customer_timeline(customer_id))
        except DomainError as exc:
            return error_response(exc)


class EditsCustomers(permissions.BasePermission):
    message = "Only agents and staff who may change customers can edit them."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return (
            user.has_perm("contactcenter.change_customer")
            or Agent.objects.filter(user=user).exists()
        )


class CustomerProfile(APIView):
    """Edit a customer's name, tier, language and notes (agents, and staff who may change
    customers)."""

    permission_classes = [permissions.IsAuthenticated, EditsCustomers]

    @extend_schema(request=dict, responses={200: dict, 400: dict, 404: dict})
    def patch(self, request: Request, customer_id: int) -> Response:
        if not isinstance(request.data, dict):
            return Response(
                {"error": "The body must be a JSON object.", "field": "body"},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            if customer_id > MAX_ID:
                raise NotFound(f"No customer {customer_id}.", field="customer_id")
            customer = update_customer(customer_id, dict(request.data))
        except DomainError as exc:
            return error_response(exc)
        return Response(
            {
                "id": customer.pk,
                "name": customer.name,
                "tier": customer.tier,
                "language": customer.language,
                "notes": customer.notes,
            }
        )


class CustomerMerge(APIView):
    """Merge the customer named in ``merge`` into this one."""

    permission_classes = [permissions.IsAuthenticated, CanMergeCustomers]

    @extend_schema(request=dict, responses={200: dict, 400: dict, 404: dict})
    def post(self, request: Request, customer_id: int) -> Response:
        data = request.data
        merged_id = data.get("merge") if isinstance(data, dict) else None
        if isinstance(merged_id, bool) or not isinstance(merged_id, int):
            return Response(
                {"error": "merge must be the id of the customer to merge in.", "field": "merge"},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            if customer_id > MAX_ID or not 0 < merged_id <= MAX_ID:
                raise NotFound("No such customer.", field="merge")
            record = merging.merge_customers(
                survivor_id=customer_id, merged_id=merged_id, by=request.user
            )
        except DomainError as exc:
            return error_response(exc)
        return Response(
            {
                "survivor_id": record.survivor_id,
                "merged_customer_id": record.merged_customer_id,
                "moved": record.moved,
                "merged_at": record.merged_at.isoformat(),
            }
        )


class IsSupervisor(permissions.BasePermission):
    message = "Only supervisors can read reports."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return is_supervisor(request.user)


class BotReport(APIView):
    """How many contacts the self-service bot handled, resolved without an agent, handed off.

    ``?hours=N`` looks back N hours (default 24, at most 90 days).
    """

    permission_classes = [permissions.IsAuthenticated, IsSupervisor]

    @extend_schema(responses={200: dict, 400: dict})
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("hours", "24")
        try:
            hours = int(raw)
        except ValueError:
            hours = 0
        if not 1 <= hours <= 24 * 90:
            return Response(
                {"error": "hours must be a whole number from 1 to 2160.", "field": "hours"},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(selectors.bot_report(timezone.now() - timedelta(hours=hours)))


class AttachmentDownload(APIView):
    """A file a customer sent, for agents and staff; always downloaded, never shown inline,
    since its content is whatever the sender chose."""

    permission_classes = [permissions.IsAuthenticated, WorksWithCustomers]

    @extend_schema(responses={200: bytes, 404: dict})
    def get(self, request: Request, attachment_id: int) -> FileResponse | Response:
        attachment = (
            Attachment.objects.filter(pk=attachment_id).first() if attachment_id <= MAX_ID else None
        )
        if attachment is None or not attachment.file.storage.exists(attachment.file.name):
            return error_response(
                NotFound(f"No attachment {attachment_id}.", field="attachment_id")
            )
        response = FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.filename,
            content_type="application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response
