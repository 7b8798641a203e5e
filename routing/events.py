"""Every event routing pushes to browsers (see docs/protocol.md): to agents' consoles, to
the visitor's chat, and the nudge that refreshes supervisors' dashboards.

``message_stored`` is connected to the CRM's hook of the same name (``RoutingConfigApp.ready``):
the CRM stores messages, routing knows who works the contact and pushes them there."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contactcenter.crm.messages import StoredMessage
from contactcenter.crm.models import Message
from contactcenter.crm.selectors import delivery_payload, message_payload
from contactcenter.kernel.realtime import (
    agent_group,
    interaction_group,
    nudge_supervisors,
    publish,
    publish_batch,
    publish_current,
)
from routing.selectors.lines import current_assignment
from routing.selectors.payloads import agent_payload_by_id, chat_status_data
from routing.selectors.snapshot import used_units


def offers_created(
    offers: list[tuple[int, dict[str, Any]]], agents: dict[int, dict[str, Any]]
) -> None:
    """A round's offers (agent id, payload): each agent hears of theirs and of their new load.

    The agents' payloads come from the claim, read under their row locks; only the load is
    read again once committed, since accepting or closing work changes it without taking
    those locks.
    """

    def committed_frames() -> list[tuple[str, str, dict[str, Any]]]:
        frames = [(agent_group(agent_id), "offer.created", payload) for agent_id, payload in offers]
        used = used_units(agents)
        frames += [
            (agent_group(agent_id), "agent.updated", {**agent, "used_units": used.get(agent_id, 0)})
            for agent_id, agent in agents.items()
        ]
        return frames

    publish_batch(committed_frames)
    nudge_supervisors(
        agents=[*agents, *(agent_id for agent_id, _ in offers)],
        work_items=[payload["work_item_id"] for _, payload in offers],
    )


def offer_closed(*, agent_id: int, offer_id: int, work_item_id: int, outcome: str) -> None:
    publish(
        agent_group(agent_id),
        "offer.closed",
        {"offer_id": offer_id, "work_item_id": work_item_id, "outcome": outcome},
    )
    nudge_supervisors(agents=[agent_id], work_items=[work_item_id])


def work_assigned(agent_id: int, payload: dict[str, Any]) -> None:
    publish(agent_group(agent_id), "work.assigned", payload)
    nudge_supervisors(agents=[agent_id], work_items=[payload["work_item_id"]])


def work_closed(agent_id: int, work_item_id: int, *, wrap_up_until: datetime | None = None) -> None:
    """The item left the agent (closed or transferred); ``wrap_up_until`` is when the
    after-contact work holding its capacity ends."""
    publish(
        agent_group(agent_id),
        "work.closed",
        {
            "work_item_id": work_item_id,
            "wrap_up_until": wrap_up_until.isoformat() if wrap_up_until else None,
        },
    )
    nudge_supervisors(agents=[agent_id], work_items=[work_item_id])


def agent_updated(agent_id: int) -> None:
    """The agent's presence or load changed; the console gets the committed state."""
    publish_current(agent_group(agent_id), "agent.updated", lambda: agent_payload_by_id(agent_id))
    nudge_supervisors(agents=[agent_id])


def chat_status(
    interaction_id: int,
    *,
    state: str,
    position: int | None = None,
    position_beyond: int | None = None,
    agents_available: int | None = None,
    agent_name: str | None = None,
    note: str | None = None,
) -> None:
    publish(
        interaction_group(interaction_id),
        "chat.status",
        chat_status_data(
            state=state,
            position=position,
            position_beyond=position_beyond,
            agents_available=agents_available,
            agent_name=agent_name,
            note=note,
        ),
    )


def chat_statuses(statuses: list[tuple[int, dict[str, Any]]]) -> None:
    """Many visitors' ``chat.status`` (e.g. a whole line moving up) in one batch."""
    frames = [
        (interaction_group(interaction_id), "chat.status", data)
        for interaction_id, data in statuses
    ]
    publish_batch(lambda: frames)


def queue_changed() -> None:
    """The line moved (an item entered, left or changed its place): queue rows and the
    waiting list are read again; no agent row."""
    nudge_supervisors()


def message_stored(stored: StoredMessage) -> None:
    """A message reaches the customer's chat and the agent working the interaction; an
    internal note reaches the agent only. The agent is the one the CRM was told of, or
    whoever works the interaction now."""
    message = stored.message
    work_item_id, agent_id = stored.work_item_id, stored.agent_id
    if agent_id is None:
        work_item_id, agent_id = current_assignment(message.interaction_id)
    payload = message_payload(message, work_item_id=work_item_id)
    if not stored.internal:
        publish(interaction_group(message.interaction_id), "message.created", payload)
    if agent_id is not None:
        publish(agent_group(agent_id), "message.created", payload)


def message_delivery_changed(message: Message) -> None:
    """An agent's reply was sent out by its provider, or could not be."""
    _, agent_id = current_assignment(message.interaction_id)
    if agent_id is not None:
        publish(agent_group(agent_id), "message.delivery", delivery_payload(message))


def customer_typing(interaction_id: int, *, typing: bool) -> None:
    """The customer started or stopped typing: the agent working the chat sees it."""
    work_item_id, agent_id = current_assignment(interaction_id)
    if agent_id is not None:
        publish(
            agent_group(agent_id),
            "chat.typing",
            {"interaction_id": interaction_id, "work_item_id": work_item_id, "typing": typing},
        )


def agent_typing(interaction_id: int, *, name: str, typing: bool) -> None:
    """The agent started or stopped typing: the customer's chat window shows it."""
    publish(interaction_group(interaction_id), "chat.typing", {"name": name, "typing": typing})
