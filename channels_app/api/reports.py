"""Reports over REST: how the self-service bot did."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app.api.errors import error_responses
from channels_app.api.fields import IsoDateTimeField
from channels_app.api.permissions import IsSupervisor
from channels_app.api.serializers import PayloadSerializer, RequestSerializer, validated
from contactcenter.crm import selectors

MAX_REPORT_HOURS = 24 * 90


class BotReportQuerySerializer(RequestSerializer):
    hours = serializers.IntegerField(
        min_value=1,
        max_value=MAX_REPORT_HOURS,
        default=24,
        help_text="How many hours to look back (at most 90 days).",
    )


class BotReportSerializer(PayloadSerializer):
    since = IsoDateTimeField()
    handled = serializers.IntegerField(help_text="Contacts the bot took, started since then.")
    resolved_without_agent = serializers.IntegerField()
    handed_off = serializers.IntegerField()
    abandoned = serializers.IntegerField()
    still_talking = serializers.IntegerField()
    resolution_rate = serializers.FloatField(
        allow_null=True, help_text="Resolved out of handled, to three places; null for none."
    )


class BotReport(APIView):
    """How many contacts the self-service bot handled, resolved without an agent, handed off."""

    permission_classes = [IsAuthenticated, IsSupervisor]

    @extend_schema(
        parameters=[BotReportQuerySerializer],
        responses={200: BotReportSerializer, **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        hours = validated(BotReportQuerySerializer, request.query_params)["hours"]
        report = selectors.bot_report(timezone.now() - timedelta(hours=hours))
        return Response(BotReportSerializer(report).data)
