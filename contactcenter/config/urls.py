from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from channels_app import views as channel_views
from channels_app import webhooks
from channels_app.api import customers as crm_api
from channels_app.api import interactions as channel_api
from channels_app.api import supervision as supervisor_api
from channels_app.api import work_items as routing_api

urlpatterns = [
    path("", channel_views.home, name="home"),
    path("chat/", channel_views.chat, name="chat"),
    path("console/", channel_views.console, name="console"),
    path("supervisor/", channel_views.dashboard, name="supervisor-dashboard"),
    path("supervisor/reports/", channel_views.reports, name="supervisor-reports"),
    path(
        "supervisor/reports/export.csv",
        channel_views.reports_csv,
        name="supervisor-reports-csv",
    ),
    path("healthz/", channel_views.health, name="health"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/interactions/", channel_api.InboundInteraction.as_view(), name="api-interactions"),
    path("api/voice/token/", channel_api.AgentVoiceToken.as_view(), name="voice-token"),
    path(
        "api/customers/<int:customer_id>/timeline/",
        crm_api.CustomerTimeline.as_view(),
        name="customer-timeline",
    ),
    path(
        "api/customers/<int:customer_id>/",
        crm_api.CustomerProfile.as_view(),
        name="customer-profile",
    ),
    path(
        "api/customers/<int:customer_id>/merge/",
        crm_api.CustomerMerge.as_view(),
        name="customer-merge",
    ),
    path("api/reports/bot/", crm_api.BotReport.as_view(), name="bot-report"),
    path(
        "api/work-items/<int:work_item_id>/priority/",
        supervisor_api.WorkItemPriority.as_view(),
        name="work-item-priority",
    ),
    path(
        "api/work-items/<int:work_item_id>/reassign/",
        supervisor_api.WorkItemReassign.as_view(),
        name="work-item-reassign",
    ),
    path(
        "api/agents/<int:agent_id>/presence/",
        supervisor_api.AgentPresence.as_view(),
        name="agent-presence",
    ),
    path(
        "api/attachments/<int:attachment_id>/",
        crm_api.AttachmentDownload.as_view(),
        name="attachment-download",
    ),
    path("hooks/twilio/messaging/", webhooks.twilio_messaging, name="hook-twilio-messaging"),
    path("hooks/twilio/voice/", webhooks.twilio_voice, name="hook-twilio-voice"),
    path(
        "hooks/twilio/voice/status/", webhooks.twilio_voice_status, name="hook-twilio-voice-status"
    ),
    path("hooks/meta/", webhooks.meta_messaging, name="hook-meta"),
    path("hooks/email/", webhooks.inbound_email, name="hook-email"),
    path(
        "api/work-items/<int:work_item_id>/replies/",
        routing_api.WorkItemReply.as_view(),
        name="work-item-reply",
    ),
    path(
        "api/work-items/<int:work_item_id>/explanation/",
        routing_api.WorkItemExplanation.as_view(),
        name="work-item-explanation",
    ),
]
