from __future__ import annotations

from django.urls import path

from channels_app import consumers

websocket_urlpatterns = [
    path("ws/chat/", consumers.VisitorChatConsumer.as_asgi()),
    path("ws/agent/", consumers.AgentConsumer.as_asgi()),
    path("ws/supervisor/", consumers.SupervisorConsumer.as_asgi()),
]
