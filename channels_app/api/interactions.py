"""The generic intake API: any other channel posts its customers' messages here."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app.api.customers import error_response
from channels_app.providers import twilio
from contactcenter.crm import inbound
from contactcenter.crm.models import ContactPoint
from contactcenter.kernel.errors import DomainError, InvalidInput
from routing.models import Agent
from routing.services import conversations

API_PREFIX = "api:"


class CanPostInteractions(permissions.BasePermission):
    message = "This account may not post interactions (contactcenter.add_interaction)."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.user.has_perm("contactcenter.add_interaction")


def text_field(data: dict[str, Any], name: str, *, required: bool = False) -> str:
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string.", field=name)
    if required and not value.strip():
        raise InvalidInput(f"{name} is required.", field=name)
    return value


def inbound_message(data: Any) -> inbound.InboundMessage:
    if not isinstance(data, dict):
        raise InvalidInput("The body must be a JSON object.", field="body")
    sender = data.get("from")
    if not isinstance(sender, dict):
        raise InvalidInput("from must be an object with kind and value.", field="from")
    kind = text_field(sender, "kind", required=True)
    if kind not in ContactPoint.Kind.values:
        raise InvalidInput(
            f"from.kind must be one of {', '.join(ContactPoint.Kind.values)}.", field="from.kind"
        )
    replies_to = data.get("in_reply_to", [])
    if not isinstance(replies_to, list) or not all(isinstance(ref, str) for ref in replies_to):
        raise InvalidInput("in_reply_to must be a list of message ids.", field="in_reply_to")
    return inbound.InboundMessage(
        channel=text_field(data, "channel", required=True),
        address_kind=kind,
        address=text_field(sender, "value", required=True),
        platform=text_field(sender, "platform"),
        body=text_field(data, "body", required=True),
        provider_message_id=API_PREFIX + text_field(data, "message_id", required=True),
        business_address=text_field(data, "to"),
        customer_name=text_field(data, "name"),
        subject=text_field(data, "subject"),
        replies_to=tuple(API_PREFIX + ref for ref in replies_to),
    )


class InboundInteraction(APIView):
    """Store a customer's message from any channel: 201 when new, 200 when already stored."""

    permission_classes = [permissions.IsAuthenticated, CanPostInteractions]

    @extend_schema(request=dict, responses={200: dict, 201: dict, 400: dict, 403: dict})
    def post(self, request: Request) -> Response:
        try:
            received = conversations.receive(inbound_message(request.data))
        except DomainError as exc:
            return error_response(exc)
        message = received.message
        interaction = message.interaction
        work_item = interaction.work_items.order_by("-id").first()
        return Response(
            {
                "message_id": message.pk,
                "interaction_id": interaction.pk,
                "case_id": interaction.case_id,
                "customer_id": interaction.case.customer_id,
                "work_item_id": work_item.pk if work_item else None,
                "duplicate": not received.created,
            },
            status=status.HTTP_201_CREATED if received.created else status.HTTP_200_OK,
        )


class AgentVoiceToken(APIView):
    """The signed-in agent's access token for Twilio's Voice SDK (their browser phone)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: dict, 403: dict, 404: dict})
    def get(self, request: Request) -> Response:
        agent = Agent.objects.filter(user=request.user).first()
        if agent is None:
            return Response(
                {"error": "Only agents have a browser phone.", "field": None},
                status=status.HTTP_403_FORBIDDEN,
            )
        try:
            token = twilio.agent_voice_token(agent.pk)
        except DomainError as exc:
            return error_response(exc)
        return Response(
            {"identity": twilio.agent_identity(agent.pk), "token": token, "ttl_seconds": 3600}
        )
