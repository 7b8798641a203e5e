"""Every routing event the front-end can receive (see docs/protocol.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from contactcenter.kernel.realtime import (
    agent_group,
    interaction_group,
    nudge_supervisors,
    publish,
    publish_batch,
    publish_current,
)
from routing.selectors import agent_payload_by_id, used_units


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
    nudge_supervisors()


def offer_closed(*, agent_id: int, offer_id: int, work_item_id: int, outcome: str) -> None:
    publish(
        agent_group(agent_id),
        "offer.closed",
        {"offer_id": offer_id, "work_item_id": work_item_id, "outcome": outcome},
    )
    nudge_supervisors()


def work_assigned(agent_id: int, payload: dict[str, Any]) -> None:
    publish(agent_group(agent_id), "work.assigned", payload)
    nudge_supervisors()


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
    nudge_supervisors()


def agent_updated(agent_id: int) -> None:
    """The agent's presence or load changed; the console gets the committed state."""
    publish_current(agent_group(agent_id), "agent.updated", lambda: agent_payload_by_id(agent_id))
    nudge_supervisors()


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


def chat_status_data(
    *,
    state: str,
    position: int | None = None,
    position_beyond: int | None = None,
    agents_available: int | None = None,
    agent_name: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    return {
        "state": state,
        "position": position,
        "position_beyond": position_beyond,
        "agents_available": agents_available,
        "agent_name": agent_name,
        "note": note,
    }


def chat_statuses(statuses: list[tuple[int, dict[str, Any]]]) -> None:
    """Many visitors' ``chat.status`` (e.g. a whole line moving up) in one batch."""
    frames = [
        (interaction_group(interaction_id), "chat.status", data)
        for interaction_id, data in statuses
    ]
    publish_batch(lambda: frames)


def queue_changed() -> None:
    nudge_supervisors()
