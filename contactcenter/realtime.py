"""Pushing events to browsers: one envelope, sent only after the transaction commits."""

from __future__ import annotations

from functools import partial
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

SUPERVISORS_GROUP = "supervisors"
PROTOCOL_VERSION = 1


def agent_group(agent_id: int) -> str:
    return f"agent.{agent_id}"


def interaction_group(interaction_id: int) -> str:
    return f"interaction.{interaction_id}"


def envelope(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": event_type, "v": PROTOCOL_VERSION, "data": data}


def publish(group: str, event_type: str, data: dict[str, Any]) -> None:
    """Send one event to a group's sockets once the current transaction commits."""
    message = {"type": "push.frame", "frame": envelope(event_type, data)}
    transaction.on_commit(partial(_group_send, group, message))


def nudge_supervisors() -> None:
    """Tell dashboards that something changed; each dashboard coalesces nudges."""
    transaction.on_commit(partial(_group_send, SUPERVISORS_GROUP, {"type": "dashboard.changed"}))


def _group_send(group: str, message: dict[str, Any]) -> None:
    async_to_sync(get_channel_layer().group_send)(group, message)
