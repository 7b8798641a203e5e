"""Every CRM event the front-end can receive."""

from __future__ import annotations

from typing import Any

from contactcenter.kernel.realtime import agent_group, interaction_group, publish


def message_created(
    *, interaction_id: int, payload: dict[str, Any], agent_id: int | None, internal: bool = False
) -> None:
    """A message reaches the customer's chat and the agent working the interaction; an
    internal note reaches the agent only."""
    if not internal:
        publish(interaction_group(interaction_id), "message.created", payload)
    if agent_id is not None:
        publish(agent_group(agent_id), "message.created", payload)


def message_delivery_changed(interaction_id: int, payload: dict[str, Any]) -> None:
    """An agent's reply was sent out by its provider, or could not be."""
    from routing.selectors import current_assignment

    _, agent_id = current_assignment(interaction_id)
    if agent_id is not None:
        publish(agent_group(agent_id), "message.delivery", payload)


def customer_typing(interaction_id: int, *, typing: bool) -> None:
    """The customer started or stopped typing: the agent working the chat sees it."""
    from routing.selectors import current_assignment

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
