"""The REST API's URLs, mounted under ``api/`` by the project's URL configuration. Every id
in a path goes through the one ``<id:...>`` converter (``channels_app.api.converters``)."""

from __future__ import annotations

from django.urls import path, register_converter
from drf_spectacular.views import SpectacularAPIView

from channels_app.api import agents, customers, interactions, reports, voice, work_items
from channels_app.api.converters import IdConverter

register_converter(IdConverter, "id")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("interactions/", interactions.InboundInteraction.as_view(), name="api-interactions"),
    path("voice/token/", voice.AgentVoiceToken.as_view(), name="voice-token"),
    path(
        "customers/<id:customer_id>/timeline/",
        customers.CustomerTimeline.as_view(),
        name="customer-timeline",
    ),
    path(
        "customers/<id:customer_id>/",
        customers.CustomerProfile.as_view(),
        name="customer-profile",
    ),
    path(
        "customers/<id:customer_id>/merge/",
        customers.CustomerMerge.as_view(),
        name="customer-merge",
    ),
    path(
        "attachments/<id:attachment_id>/",
        customers.AttachmentDownload.as_view(),
        name="attachment-download",
    ),
    path("reports/bot/", reports.BotReport.as_view(), name="bot-report"),
    path(
        "agents/<id:agent_id>/presence/",
        agents.AgentPresence.as_view(),
        name="agent-presence",
    ),
    path(
        "work-items/<id:work_item_id>/replies/",
        work_items.WorkItemReply.as_view(),
        name="work-item-reply",
    ),
    path(
        "work-items/<id:work_item_id>/explanation/",
        work_items.WorkItemExplanation.as_view(),
        name="work-item-explanation",
    ),
    path(
        "work-items/<id:work_item_id>/priority/",
        work_items.WorkItemPriority.as_view(),
        name="work-item-priority",
    ),
    path(
        "work-items/<id:work_item_id>/reassign/",
        work_items.WorkItemReassign.as_view(),
        name="work-item-reassign",
    ),
]
