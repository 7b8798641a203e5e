"""Reads of the CRM for pages and sockets, each a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from contactcenter.models import Customer, Message


def message_payload(message: Message, *, work_item_id: int | None = None) -> dict[str, Any]:
    return {
        "id": message.pk,
        "interaction_id": message.interaction_id,
        "work_item_id": work_item_id,
        "sender": message.sender,
        "author_name": message_author_name(message),
        "body": message.body,
        "created_at": message.created_at.isoformat(),
        "delivery": message.delivery,
        "delivery_error": message.delivery_error,
    }


def delivery_payload(message: Message) -> dict[str, Any]:
    """Where an outgoing message stands with its provider."""
    return {
        "id": message.pk,
        "interaction_id": message.interaction_id,
        "delivery": message.delivery,
        "delivery_error": message.delivery_error,
    }


def message_author_name(message: Message) -> str:
    if message.sender == Message.Sender.AGENT and message.author is not None:
        return message.author.get_full_name() or message.author.get_username()
    if message.sender == Message.Sender.CUSTOMER:
        return message.interaction.case.customer.name
    if message.sender == Message.Sender.BOT:
        return "Assistant"
    return "System"


def transcript(interaction_id: int) -> list[Message]:
    return list(
        Message.objects.filter(interaction_id=interaction_id).select_related(
            "author", "interaction__case__customer"
        )
    )


def transcripts(interaction_ids: Iterable[int]) -> dict[int, list[Message]]:
    by_interaction: dict[int, list[Message]] = {pk: [] for pk in interaction_ids}
    messages = Message.objects.filter(interaction_id__in=list(by_interaction)).select_related(
        "author", "interaction__case__customer"
    )
    for message in messages:
        by_interaction[message.interaction_id].append(message)
    return by_interaction


def customer_email(customer: Customer) -> str:
    """The customer's email from prefetched contact points (no query when prefetched)."""
    for point in customer.contact_points.all():
        if point.kind == point.Kind.EMAIL:
            return point.value
    return ""
