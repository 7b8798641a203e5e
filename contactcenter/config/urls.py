from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from channels_app import views as channel_views
from channels_app import webhooks

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
    path("api/", include("channels_app.api.urls")),
    path("hooks/twilio/messaging/", webhooks.twilio_messaging, name="hook-twilio-messaging"),
    path("hooks/twilio/voice/", webhooks.twilio_voice, name="hook-twilio-voice"),
    path(
        "hooks/twilio/voice/status/", webhooks.twilio_voice_status, name="hook-twilio-voice-status"
    ),
    path("hooks/meta/", webhooks.meta_messaging, name="hook-meta"),
    path("hooks/email/", webhooks.inbound_email, name="hook-email"),
]
