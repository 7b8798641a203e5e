"""The agent's browser phone: a token for Twilio's Voice SDK."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app.api.errors import error_responses
from channels_app.api.permissions import IsAgent, acting_agent
from channels_app.api.serializers import PayloadSerializer
from channels_app.providers import twilio

TOKEN_TTL_SECONDS = 3600


class VoiceTokenSerializer(PayloadSerializer):
    identity = serializers.CharField(help_text="The Twilio Client identity, agent-<id>.")
    token = serializers.CharField(help_text="A signed access token (JWT) for the Voice SDK.")
    ttl_seconds = serializers.IntegerField()


class AgentVoiceToken(APIView):
    """The signed-in agent's access token for Twilio's Voice SDK (their browser phone); 404
    while the browser phone is not set up."""

    permission_classes = [IsAuthenticated, IsAgent]

    @extend_schema(responses={200: VoiceTokenSerializer, **error_responses(404)})
    def get(self, request: Request) -> Response:
        agent = acting_agent(request)
        token = twilio.agent_voice_token(agent.pk, ttl_seconds=TOKEN_TTL_SECONDS)
        return Response(
            VoiceTokenSerializer(
                {
                    "identity": twilio.agent_identity(agent.pk),
                    "token": token,
                    "ttl_seconds": TOKEN_TTL_SECONDS,
                }
            ).data
        )
