"""Pushing events to browsers: one envelope, sent only after the transaction commits."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

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
    publish_current(group, event_type, lambda: data)


def publish_current(group: str, event_type: str, read: Callable[[], dict[str, Any]]) -> None:
    """Send an event whose data is read after the commit, so it shows the committed state.

    Used for state snapshots (an agent's load) that a concurrent transaction may change
    between this one's read and its commit.
    """

    def send_committed_state() -> None:
        _group_send(group, {"type": "push.frame", "frame": envelope(event_type, read())})

    after_commit(send_committed_state)


def publish_batch(read: Callable[[], list[tuple[str, str, dict[str, Any]]]]) -> None:
    """Send many events once the transaction commits, their data read after the commit.

    One trip through the event loop for all of them: a round's hundreds of offers would
    otherwise pay the sync-to-async hop once per frame.
    """

    def send_committed_batch() -> None:
        async_to_sync(_send_all)(read())

    after_commit(send_committed_batch)


async def _send_all(messages: list[tuple[str, str, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    for group, event_type, data in messages:
        try:
            await layer.group_send(
                group, {"type": "push.frame", "frame": envelope(event_type, data)}
            )
        except Exception:
            # One unreachable group must not silence the rest of the batch.
            logger.exception("could not push %s to %s", event_type, group)


def nudge_supervisors() -> None:
    """Tell dashboards that something changed; each dashboard coalesces nudges."""

    def nudge() -> None:
        _group_send(SUPERVISORS_GROUP, {"type": "dashboard.changed"})

    after_commit(nudge)


def after_commit(callback: Callable[[], Any]) -> None:
    """Run a side effect after the commit; if it fails, log it and let the others run.

    The data is already committed by then, so a failed push or task dispatch must not stop
    the pushes queued after it: the periodic sweep and the next snapshot repair what it missed.
    Django names a failed callback by its ``__qualname__``, so callbacks are functions, not
    ``functools.partial`` objects.
    """
    transaction.on_commit(callback, robust=True)


def _group_send(group: str, message: dict[str, Any]) -> None:
    async_to_sync(get_channel_layer().group_send)(group, message)
