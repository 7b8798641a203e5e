"""Customers over REST: the timeline (Customer 360), profile edits, merging two records of
one person, and downloading a file a customer sent."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app.api.errors import error_responses
from channels_app.api.fields import IdField, IsoDateTimeField, TextField
from channels_app.api.serializers import PayloadSerializer, RequestSerializer, validated
from contactcenter.crm import merging, selectors
from contactcenter.crm.customers import CUSTOMER_FIELDS, update_customer
from contactcenter.crm.models import Case, ChannelKind, ContactPoint, Interaction, Message
from contactcenter.kernel.roles import is_supervisor
from routing.models import Agent
from routing.selectors import payloads

# --- who may ---------------------------------------------------------------------------------


class WorksWithCustomers(BasePermission):
    message = "Only agents, supervisors and staff can read customers."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return (
            is_supervisor(user)
            or user.has_perm("contactcenter.view_customer")
            or Agent.objects.filter(user=user).exists()
        )


class EditsCustomers(BasePermission):
    message = "Only agents and staff who may change customers can edit them."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return (
            user.has_perm("contactcenter.change_customer")
            or Agent.objects.filter(user=user).exists()
        )


class CanMergeCustomers(BasePermission):
    message = "Merging customers needs the contactcenter.change_customer permission."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.user.has_perm("contactcenter.change_customer")


# --- the timeline ----------------------------------------------------------------------------


class ContactPointSerializer(PayloadSerializer):
    kind = serializers.ChoiceField(choices=ContactPoint.Kind.choices)
    value = serializers.CharField()


class TimelineCustomerSerializer(PayloadSerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    tier = serializers.CharField()
    language = serializers.CharField()
    notes = serializers.CharField()
    contact_points = ContactPointSerializer(many=True)


class TimelineCaseSerializer(PayloadSerializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=Case.Status.choices)
    created_at = IsoDateTimeField()
    closed_at = IsoDateTimeField(allow_null=True)


class CaseBriefSerializer(PayloadSerializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=Case.Status.choices)


class AttachmentSerializer(PayloadSerializer):
    id = serializers.IntegerField()
    filename = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    url = serializers.CharField(help_text="Where staff and agents download it.")


class MessageSerializer(PayloadSerializer):
    id = serializers.IntegerField()
    interaction_id = serializers.IntegerField()
    work_item_id = serializers.IntegerField(allow_null=True)
    sender = serializers.ChoiceField(choices=Message.Sender.choices)
    author_name = serializers.CharField()
    body = serializers.CharField()
    created_at = IsoDateTimeField()
    delivery = serializers.ChoiceField(
        choices=Message.Delivery.choices, help_text="Where an outgoing message stands."
    )
    delivery_error = serializers.CharField()
    internal = serializers.BooleanField(help_text="An agents' note the customer never sees.")
    attachments = AttachmentSerializer(many=True)


class TimelineInteractionSerializer(PayloadSerializer):
    id = serializers.IntegerField()
    channel = serializers.ChoiceField(choices=ChannelKind.choices)
    direction = serializers.ChoiceField(choices=Interaction.Direction.choices)
    status = serializers.ChoiceField(choices=Interaction.Status.choices)
    subject = serializers.CharField()
    started_at = IsoDateTimeField()
    ended_at = IsoDateTimeField(allow_null=True)
    case = CaseBriefSerializer()
    agents = serializers.ListField(
        child=serializers.CharField(), help_text="Who worked it, first to last."
    )
    messages = MessageSerializer(many=True)


class CustomerTimelineSerializer(PayloadSerializer):
    customer = TimelineCustomerSerializer()
    cases = TimelineCaseSerializer(many=True)
    interactions = TimelineInteractionSerializer(many=True)


class CustomerTimeline(APIView):
    """All of a customer's interactions on every channel, newest first, with their messages."""

    permission_classes = [IsAuthenticated, WorksWithCustomers]

    @extend_schema(responses={200: CustomerTimelineSerializer, **error_responses(404)})
    def get(self, request: Request, customer_id: int) -> Response:
        return Response(CustomerTimelineSerializer(payloads.customer_timeline(customer_id)).data)


# --- the profile -----------------------------------------------------------------------------


class CustomerChangesSerializer(RequestSerializer):
    """The fields to change; those left out stay as they are."""

    reject_unknown_fields = True

    name = TextField(required=False, max_length=CUSTOMER_FIELDS["name"])
    tier = TextField(required=False, allow_blank=True, max_length=CUSTOMER_FIELDS["tier"])
    language = TextField(required=False, allow_blank=True, max_length=CUSTOMER_FIELDS["language"])
    notes = TextField(required=False, allow_blank=True, max_length=CUSTOMER_FIELDS["notes"])


class CustomerProfileSerializer(PayloadSerializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    tier = serializers.CharField()
    language = serializers.CharField()
    notes = serializers.CharField()


class CustomerProfile(APIView):
    """Edit a customer's name, tier, language and notes (agents, and staff who may change
    customers)."""

    permission_classes = [IsAuthenticated, EditsCustomers]

    @extend_schema(
        request=CustomerChangesSerializer,
        responses={200: CustomerProfileSerializer, **error_responses(400, 404)},
    )
    def patch(self, request: Request, customer_id: int) -> Response:
        changes = validated(CustomerChangesSerializer, request.data)
        customer = update_customer(customer_id, changes)
        return Response(CustomerProfileSerializer(customer).data)


# --- merging ---------------------------------------------------------------------------------


class CustomerMergeRequestSerializer(RequestSerializer):
    merge = IdField(help_text="The id of the customer to merge into this one.")


class MovedFieldsSerializer(PayloadSerializer):
    tier = serializers.CharField()
    language = serializers.CharField()
    notes = serializers.CharField()


class MovedSerializer(PayloadSerializer):
    contact_points = ContactPointSerializer(many=True)
    case_ids = serializers.ListField(child=serializers.IntegerField())
    orders = serializers.ListField(child=serializers.CharField(), help_text="Order numbers.")
    interactions = serializers.IntegerField(help_text="How many interactions the cases hold.")
    fields = MovedFieldsSerializer(help_text="The merged customer's own fields.")


class CustomerMergeResultSerializer(PayloadSerializer):
    survivor_id = serializers.IntegerField()
    merged_customer_id = serializers.IntegerField()
    moved = MovedSerializer()
    merged_at = IsoDateTimeField()


class CustomerMerge(APIView):
    """Merge the customer named in ``merge`` into this one."""

    permission_classes = [IsAuthenticated, CanMergeCustomers]

    @extend_schema(
        request=CustomerMergeRequestSerializer,
        responses={200: CustomerMergeResultSerializer, **error_responses(400, 404)},
    )
    def post(self, request: Request, customer_id: int) -> Response:
        merged_id = validated(CustomerMergeRequestSerializer, request.data)["merge"]
        record = merging.merge_customers(
            survivor_id=customer_id, merged_id=merged_id, by=request.user
        )
        return Response(CustomerMergeResultSerializer(record).data)


# --- files -----------------------------------------------------------------------------------


class AttachmentDownload(APIView):
    """A file a customer sent, for agents and staff; always downloaded, never shown inline,
    since its content is whatever the sender chose."""

    permission_classes = [IsAuthenticated, WorksWithCustomers]

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, as an attachment."
            ),
            **error_responses(404),
        }
    )
    def get(self, request: Request, attachment_id: int) -> FileResponse:
        attachment = selectors.stored_attachment(attachment_id)
        response = FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.filename,
            content_type="application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response
