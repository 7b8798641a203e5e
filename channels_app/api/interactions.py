"""The generic intake API: any other channel posts its customers' messages here."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app.api.errors import error_responses
from channels_app.api.fields import OptionalTextField, TextField
from channels_app.api.serializers import PayloadSerializer, RequestSerializer, validated
from contactcenter.crm import inbound
from contactcenter.crm.models import ChannelKind, ContactPoint
from routing.selectors import lines
from routing.services import conversations

API_PREFIX = "api:"
# The CRM stores a provider's message id of up to 200 characters, and this API's carry its prefix.
MAX_MESSAGE_ID_LENGTH = 200 - len(API_PREFIX)


class CanPostInteractions(BasePermission):
    message = "This account may not post interactions (contactcenter.add_interaction)."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.user.has_perm("contactcenter.add_interaction")


class AddressSerializer(RequestSerializer):
    """Who wrote: the kind of address and the address."""

    kind = serializers.ChoiceField(choices=ContactPoint.Kind.choices)
    value = TextField(
        max_length=254, help_text="An email address, a phone number, or the platform's user id."
    )
    platform = OptionalTextField(
        max_length=30, help_text="With kind platform: its short lower-case name, e.g. telegram."
    )


class InboundInteractionSerializer(RequestSerializer):
    """A customer's message on your channel."""

    channel = serializers.ChoiceField(choices=ChannelKind.choices)
    body = TextField(
        max_length=max(inbound.DEFAULT_MAX_BODY_LENGTH, *inbound.MAX_BODY_LENGTH.values()),
        help_text=f"Up to {inbound.DEFAULT_MAX_BODY_LENGTH} characters, or "
        f"{inbound.MAX_BODY_LENGTH[ChannelKind.EMAIL]} on email.",
    )
    message_id = TextField(
        max_length=MAX_MESSAGE_ID_LENGTH,
        help_text="Your id of the message: posting it again stores nothing new.",
    )
    to = OptionalTextField(max_length=254, help_text="Your address the customer wrote to.")
    name = OptionalTextField(max_length=inbound.MAX_NAME_LENGTH, help_text="The customer's name.")
    subject = OptionalTextField(max_length=inbound.MAX_SUBJECT_LENGTH)
    in_reply_to = serializers.ListField(
        child=TextField(max_length=MAX_MESSAGE_ID_LENGTH),
        required=False,
        default=list,
        help_text="Your ids of earlier messages this one answers.",
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        # "from" is a Python keyword, so it cannot be declared as a class attribute.
        return {"from": AddressSerializer(), **super().get_fields()}


class InteractionStoredSerializer(PayloadSerializer):
    message_id = serializers.IntegerField()
    interaction_id = serializers.IntegerField()
    case_id = serializers.IntegerField()
    customer_id = serializers.IntegerField()
    work_item_id = serializers.IntegerField(
        allow_null=True, help_text="Null while the self-service bot has the conversation."
    )
    duplicate = serializers.BooleanField(help_text="The message was stored before.")


def inbound_message(data: dict[str, Any]) -> inbound.InboundMessage:
    sender = data["from"]
    return inbound.InboundMessage(
        channel=data["channel"],
        address_kind=sender["kind"],
        address=sender["value"],
        platform=sender["platform"],
        body=data["body"],
        provider_message_id=API_PREFIX + data["message_id"],
        business_address=data["to"],
        customer_name=data["name"],
        subject=data["subject"],
        replies_to=tuple(API_PREFIX + ref for ref in data["in_reply_to"]),
    )


def stored(received: inbound.Received) -> dict[str, Any]:
    """What the answer says of a stored message: where it landed, and the work it queued."""
    message = received.message
    interaction = message.interaction
    return {
        "message_id": message.pk,
        "interaction_id": interaction.pk,
        "case_id": interaction.case_id,
        "customer_id": interaction.case.customer_id,
        "work_item_id": lines.latest_work_item_id(interaction.pk),
        "duplicate": not received.created,
    }


class InboundInteraction(APIView):
    """Store a customer's message from any channel: 201 when new, 200 when already stored."""

    permission_classes = [IsAuthenticated, CanPostInteractions]

    @extend_schema(
        request=InboundInteractionSerializer,
        responses={
            201: OpenApiResponse(InteractionStoredSerializer, description="Stored."),
            200: OpenApiResponse(InteractionStoredSerializer, description="Stored before."),
            **error_responses(400),
        },
    )
    def post(self, request: Request) -> Response:
        data = validated(InboundInteractionSerializer, request.data)
        received = conversations.receive(inbound_message(data))
        return Response(
            InteractionStoredSerializer(stored(received)).data,
            status=status.HTTP_201_CREATED if received.created else status.HTTP_200_OK,
        )
