"""Reference data a fresh install needs to route web chat: channels, presence, a chat queue."""

from __future__ import annotations

from typing import Any

CHANNELS = [
    ("chat", "Web chat"),
    ("email", "Email"),
    ("sms", "SMS"),
    ("messaging", "Messaging"),
    ("social", "Social"),
    ("voice", "Voice"),
]


def create_reference_data(apps: Any) -> None:
    """Idempotent; takes an app registry so that a migration can call it with its own."""
    ServiceChannel = apps.get_model("routing", "ServiceChannel")
    PresenceStatus = apps.get_model("routing", "PresenceStatus")
    RoutingConfig = apps.get_model("routing", "RoutingConfig")
    Queue = apps.get_model("routing", "Queue")

    channels = {}
    for kind, name in CHANNELS:
        channels[kind], _ = ServiceChannel.objects.get_or_create(kind=kind, defaults={"name": name})
    available, _ = PresenceStatus.objects.get_or_create(name="Available", defaults={"position": 1})
    available.channels.set(channels.values())
    PresenceStatus.objects.get_or_create(name="Break", defaults={"position": 8})
    PresenceStatus.objects.get_or_create(name="Offline", defaults={"position": 9})

    config, _ = RoutingConfig.objects.get_or_create(
        name="Web chat",
        defaults={"routing_priority": 10, "units_per_item": 2, "push_timeout_seconds": 30},
    )
    queue, _ = Queue.objects.get_or_create(name="Web chat", defaults={"routing_config": config})
    chat = channels["chat"]
    if chat.default_queue_id is None:
        chat.default_queue = queue
        chat.save(update_fields=["default_queue"])
