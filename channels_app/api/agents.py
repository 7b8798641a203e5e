"""Agents over REST: a supervisor sets an agent's presence (the dashboard calls it)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app.api.errors import error_responses
from channels_app.api.fields import IdField, IsoDateTimeField
from channels_app.api.permissions import IsSupervisor
from channels_app.api.serializers import PayloadSerializer, RequestSerializer, validated
from routing.selectors.payloads import agent_payload_by_id
from supervisor import services


class PresenceChangeSerializer(RequestSerializer):
    status_id = IdField(allow_null=True, help_text="A presence status's id; null is offline.")


class AgentSerializer(PayloadSerializer):
    """An agent as the console and the dashboard show them."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    status_id = serializers.IntegerField(allow_null=True, help_text="Null while offline.")
    status_name = serializers.CharField()
    status_since = IsoDateTimeField()
    capacity = serializers.IntegerField()
    used_units = serializers.IntegerField(help_text="Capacity taken by the work they hold.")


class AgentPresence(APIView):
    """Set an agent's presence. Recorded as the supervisor's action and in the agent's status
    history; their console follows live."""

    permission_classes = [IsAuthenticated, IsSupervisor]

    @extend_schema(
        request=PresenceChangeSerializer,
        responses={200: AgentSerializer, **error_responses(400, 404)},
    )
    def post(self, request: Request, agent_id: int) -> Response:
        status_id = validated(PresenceChangeSerializer, request.data)["status_id"]
        agent = services.set_agent_presence(
            actor=request.user, agent_id=agent_id, status_id=status_id
        )
        return Response(AgentSerializer(agent_payload_by_id(agent.pk)).data)
