"""Reads of the CRM for pages and sockets, each a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Count

from contactcenter.crm.models import Attachment, Case, Customer, Interaction, Message
from contactcenter.kernel.errors import NotFound


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
        "internal": message.internal,
        "attachments": [attachment_payload(attachment) for attachment in attachments_of(message)],
    }


def attachments_of(message: Message) -> list[Attachment]:
    """A message's attachments without a query of its own: those just stored with it, or
    those prefetched with the transcript it was read in."""
    attached = getattr(message, "attached", None)
    if attached is not None:
        return attached
    prefetched = getattr(message, "_prefetched_objects_cache", {})
    return list(prefetched.get("attachments", ()))


def attachment_payload(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": f"/api/attachments/{attachment.pk}/",
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


def customer_transcript(interaction_id: int) -> list[Message]:
    """The conversation as the customer sees it: agents' internal notes left out."""
    return list(
        Message.objects.filter(interaction_id=interaction_id, internal=False)
        .select_related("author", "interaction__case__customer")
        .prefetch_related("attachments")
    )


def transcripts(interaction_ids: Iterable[int]) -> dict[int, list[Message]]:
    by_interaction: dict[int, list[Message]] = {pk: [] for pk in interaction_ids}
    messages = (
        Message.objects.filter(interaction_id__in=list(by_interaction))
        .select_related("author", "interaction__case__customer")
        .prefetch_related("attachments")
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


def stored_attachment(attachment_id: int) -> Attachment:
    """The attachment with its file still in storage, or NotFound."""
    attachment = Attachment.objects.filter(pk=attachment_id).first()
    if attachment is None or not attachment.file.storage.exists(attachment.file.name):
        raise NotFound(f"No attachment {attachment_id}.", field="attachment_id")
    return attachment


def customer_payload(customer: Customer) -> dict[str, Any]:
    """A customer's profile and addresses (contact points prefetched)."""
    return {
        "id": customer.pk,
        "name": customer.name,
        "tier": customer.tier,
        "language": customer.language,
        "notes": customer.notes,
        "contact_points": [
            {"kind": point.kind, "value": point.value} for point in customer.contact_points.all()
        ],
    }


def case_payloads(customer: Customer, *, limit: int) -> list[dict[str, Any]]:
    """The customer's cases, newest first, in one query."""
    cases = customer.cases.order_by("-created_at", "-id").values(
        "id", "subject", "status", "created_at", "closed_at"
    )[:limit]
    return [
        {
            "id": case["id"],
            "number": Case(pk=case["id"]).number,
            "subject": case["subject"],
            "status": case["status"],
            "created_at": case["created_at"].isoformat(),
            "closed_at": case["closed_at"].isoformat() if case["closed_at"] else None,
        }
        for case in cases
    ]


def interaction_payload(
    interaction: Interaction, messages: list[Message], *, agents: list[str]
) -> dict[str, Any]:
    """One conversation of a customer's timeline (its case selected with it)."""
    return {
        "id": interaction.pk,
        "channel": interaction.channel,
        "direction": interaction.direction,
        "status": interaction.status,
        "subject": interaction.subject,
        "started_at": interaction.started_at.isoformat(),
        "ended_at": interaction.ended_at.isoformat() if interaction.ended_at else None,
        "case": {
            "id": interaction.case_id,
            "number": interaction.case.number,
            "subject": interaction.case.subject,
            "status": interaction.case.status,
        },
        "agents": agents,
        "messages": [message_payload(message) for message in messages],
    }


def bot_report(since: datetime) -> dict[str, Any]:
    """How the self-service bot did with the contacts that started since ``since``."""
    counts = dict(
        Interaction.objects.filter(started_at__gte=since)
        .exclude(bot_status=Interaction.BotStatus.NONE)
        .values_list("bot_status")
        .annotate(count=Count("id"))
        .values_list("bot_status", "count")
    )
    handled = sum(counts.values())
    resolved = counts.get(Interaction.BotStatus.RESOLVED, 0)
    return {
        "since": since.isoformat(),
        "handled": handled,
        "resolved_without_agent": resolved,
        "handed_off": counts.get(Interaction.BotStatus.HANDED_OFF, 0),
        "abandoned": counts.get(Interaction.BotStatus.ABANDONED, 0),
        "still_talking": counts.get(Interaction.BotStatus.ACTIVE, 0),
        "resolution_rate": round(resolved / handled, 3) if handled else None,
    }
