"""Work items over REST: an agent's reply with files, and for supervisors why an item waits,
its priority and handing it to another queue or agent."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app.api.errors import error_responses
from channels_app.api.fields import IdField, TextField, UploadField, WholeNumberField
from channels_app.api.permissions import IsAgent, IsSupervisor, acting_agent
from channels_app.api.serializers import PayloadSerializer, RequestSerializer, validated
from contactcenter.crm.messages import MAX_MESSAGE_LENGTH, MAX_REPLY_FILES
from contactcenter.crm.models import ChannelKind
from routing import explanations
from routing.models import WorkItem
from routing.services import queueing, work
from supervisor import services

# --- an agent's reply with files -------------------------------------------------------------


class ReplySerializer(RequestSerializer):
    body = TextField(required=False, allow_blank=True, default="", max_length=MAX_MESSAGE_LENGTH)
    files = serializers.ListField(
        child=UploadField(),
        required=False,
        default=list,
        max_length=MAX_REPLY_FILES,
        help_text="Email conversations only.",
    )


class ReplySentSerializer(PayloadSerializer):
    message_id = serializers.IntegerField()


class WorkItemReply(APIView):
    """An agent's reply with files (multipart: ``body`` and ``files``) on an email they work on;
    text-only replies go over the console's socket."""

    permission_classes = [IsAuthenticated, IsAgent]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": ReplySerializer},
        responses={201: ReplySentSerializer, **error_responses(400, 404, 409)},
    )
    def post(self, request: Request, work_item_id: int) -> Response:
        agent = acting_agent(request)
        data = validated(ReplySerializer, request.data)
        message = work.send_agent_reply(
            agent=agent, work_item_id=work_item_id, body=data["body"], uploads=data["files"]
        )
        return Response(
            ReplySentSerializer({"message_id": message.pk}).data, status=status.HTTP_201_CREATED
        )


# --- why it waits ----------------------------------------------------------------------------


class ExcludedAgentsSerializer(PayloadSerializer):
    reason = serializers.CharField(help_text="offline, not_open_for_channel, missing_skill...")
    count = serializers.IntegerField()
    skill = serializers.CharField(required=False, help_text="With missing_skill.")
    min_level = serializers.IntegerField(required=False, help_text="With missing_skill.")
    label = serializers.CharField()


class WorkItemExplanationSerializer(PayloadSerializer):
    """Every item has the first five fields and ``summary``; a waiting one the agents each
    reason excludes; an offered or assigned one its agent and the routing model's reason."""

    work_item_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=WorkItem.Status.choices)
    queue = serializers.CharField()
    channel = serializers.ChoiceField(choices=ChannelKind.choices)
    waited_seconds = serializers.IntegerField()
    agent = serializers.CharField(required=False)
    routing_model = serializers.CharField(required=False)
    routing_key = serializers.ListField(
        child=serializers.JSONField(),
        required=False,
        help_text="The routing model's sort key for the agent (smaller first).",
    )
    agents_considered = serializers.IntegerField(required=False)
    eligible_agents = serializers.IntegerField(required=False)
    excluded = ExcludedAgentsSerializer(many=True, required=False)
    waiting_for_preferred_agent = serializers.CharField(required=False, allow_null=True)
    summary = serializers.CharField()


class WorkItemExplanation(APIView):
    """Why a work item waits (agents excluded per reason), or why it went to its agent."""

    permission_classes = [IsAuthenticated, IsSupervisor]

    @extend_schema(responses={200: WorkItemExplanationSerializer, **error_responses(404)})
    def get(self, request: Request, work_item_id: int) -> Response:
        explanation = explanations.explain_work_item(work_item_id, timezone.now())
        return Response(WorkItemExplanationSerializer(explanation).data)


# --- a supervisor's hand on waiting and held work --------------------------------------------


class PriorityChangeSerializer(RequestSerializer):
    priority = WholeNumberField(
        min_value=queueing.MIN_PRIORITY,
        max_value=queueing.MAX_PRIORITY,
        help_text="Higher is served first; items of equal priority by age.",
    )


class PrioritySetSerializer(PayloadSerializer):
    work_item_id = serializers.IntegerField(source="pk")
    priority = serializers.IntegerField()


class WorkItemPriority(APIView):
    """Change a waiting item's priority (409 once it is no longer waiting)."""

    permission_classes = [IsAuthenticated, IsSupervisor]

    @extend_schema(
        request=PriorityChangeSerializer,
        responses={200: PrioritySetSerializer, **error_responses(400, 404, 409)},
    )
    def post(self, request: Request, work_item_id: int) -> Response:
        priority = validated(PriorityChangeSerializer, request.data)["priority"]
        item = services.set_priority(
            actor=request.user, work_item_id=work_item_id, priority=priority
        )
        return Response(PrioritySetSerializer(item).data)


class ReassignSerializer(RequestSerializer):
    queue_id = IdField(required=False, allow_null=True)
    agent_id = IdField(required=False, allow_null=True)
    note = TextField(
        required=False,
        allow_blank=True,
        default="",
        max_length=services.NOTE_MAX_LENGTH,
        help_text="An internal message for whoever takes it.",
    )


class ReassignedSerializer(PayloadSerializer):
    work_item_id = serializers.IntegerField(
        source="pk", help_text="The item that carries on: a new one when held work moved."
    )
    status = serializers.ChoiceField(choices=WorkItem.Status.choices)
    queue_id = serializers.IntegerField()
    preferred_agent_id = serializers.IntegerField(allow_null=True)


class WorkItemReassign(APIView):
    """Hand an item to another queue and/or agent (at least one of them). Waiting or offered
    work moves; work an agent holds is transferred for them. Recorded as the supervisor's
    action; consoles follow live."""

    permission_classes = [IsAuthenticated, IsSupervisor]

    @extend_schema(
        request=ReassignSerializer,
        responses={200: ReassignedSerializer, **error_responses(400, 404, 409)},
    )
    def post(self, request: Request, work_item_id: int) -> Response:
        data = validated(ReassignSerializer, request.data)
        item = services.reassign(
            actor=request.user,
            work_item_id=work_item_id,
            queue_id=data.get("queue_id"),
            agent_id=data.get("agent_id"),
            note=data["note"],
        )
        return Response(ReassignedSerializer(item).data)
