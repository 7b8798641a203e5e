"""Reference data a fresh install needs to route web chat: channels, presence, a chat queue,
the default intake rule and decline reasons.

Each part takes an app registry so that the migration that introduced its models can call it
with its own historical models.
"""

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


DECLINE_REASONS = ["Busy with another customer", "Not my area", "Going on a break", "Other"]
DISPOSITIONS = ["Resolved", "Follow-up needed", "Not resolved", "Wrong contact or spam"]
MISSED_STATUS = "Missed offer"
DEFAULT_RULE = "Everything else"


def create_reference_data(apps: Any) -> None:
    """All of it, idempotently (tests call this after flushing the tables)."""
    create_channels_and_presence(apps)
    create_routing_semantics_data(apps)
    create_channel_queues(apps)
    create_dispositions(apps)


def create_channels_and_presence(apps: Any) -> None:
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


def create_routing_semantics_data(apps: Any) -> None:
    """The default intake rule, decline reasons, and the status a missed offer moves agents to."""
    IntakeRule = apps.get_model("routing", "IntakeRule")
    DeclineReason = apps.get_model("routing", "DeclineReason")
    PresenceStatus = apps.get_model("routing", "PresenceStatus")
    RoutingConfig = apps.get_model("routing", "RoutingConfig")

    if not IntakeRule.objects.filter(is_default=True).exists():
        IntakeRule.objects.create(name=DEFAULT_RULE, is_default=True, position=0)
    for position, name in enumerate(DECLINE_REASONS, start=1):
        DeclineReason.objects.get_or_create(name=name, defaults={"position": position})
    missed, _ = PresenceStatus.objects.get_or_create(name=MISSED_STATUS, defaults={"position": 7})
    RoutingConfig.objects.filter(name="Web chat", status_after_missed_offer__isnull=True).update(
        status_after_missed_offer=missed
    )


# Lower routing priority is served first: a ringing caller before a chat, a chat before mail.
CHANNEL_QUEUES = [
    # (queue and config name, config fields, channel kinds it is the default queue of)
    (
        "Voice",
        {
            "routing_priority": 5,
            "units_per_item": 1,
            "capacity_percent": 100,
            "push_timeout_seconds": 20,
            # A customer who calls while chatting reaches the agent they chat with.
            "preferred_agent_seconds": 60,
        },
        ["voice"],
    ),
    (
        "Messaging",
        {
            "routing_priority": 15,
            "units_per_item": 1,
            "push_timeout_seconds": 45,
            "preferred_agent_seconds": 120,
        },
        ["sms", "messaging", "social"],
    ),
    ("Email", {"routing_priority": 30, "units_per_item": 1, "push_timeout_seconds": 60}, ["email"]),
]


def create_channel_queues(apps: Any) -> None:
    """A queue for every channel that web chat's queue does not serve, so that any channel's
    contacts can be routed on a fresh install; admins refine them, or add intake rules."""
    ServiceChannel = apps.get_model("routing", "ServiceChannel")
    PresenceStatus = apps.get_model("routing", "PresenceStatus")
    RoutingConfig = apps.get_model("routing", "RoutingConfig")
    Queue = apps.get_model("routing", "Queue")

    missed = PresenceStatus.objects.filter(name=MISSED_STATUS).first()
    for name, fields, kinds in CHANNEL_QUEUES:
        config, _ = RoutingConfig.objects.get_or_create(
            name=name, defaults={**fields, "status_after_missed_offer": missed}
        )
        queue, _ = Queue.objects.get_or_create(name=name, defaults={"routing_config": config})
        ServiceChannel.objects.filter(kind__in=kinds, default_queue__isnull=True).update(
            default_queue=queue
        )


def create_dispositions(apps: Any) -> None:
    Disposition = apps.get_model("routing", "Disposition")
    for position, name in enumerate(DISPOSITIONS, start=1):
        Disposition.objects.get_or_create(name=name, defaults={"position": position})
