"""What the agent's console and the visitor's chat are shown: agents, offers, work items with
their transcripts and case history, and the console's snapshot."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet

from contactcenter.crm.models import CannedResponse, ContactPoint, Customer, Interaction, Message
from contactcenter.crm.selectors import (
    case_payloads,
    customer_email,
    customer_payload,
    interaction_payload,
    message_payload,
    transcripts,
)
from contactcenter.kernel.errors import NotFound
from routing.models import (
    Agent,
    DeclineReason,
    Disposition,
    Offer,
    PresenceStatus,
    Queue,
    Skill,
    WorkItem,
)
from routing.selectors.lines import (
    agents_available,
    first_customer_messages,
    queue_position,
    worked_by,
)
from routing.selectors.snapshot import used_units


def work_items_with_context() -> QuerySet[WorkItem]:
    return WorkItem.objects.select_related(
        "interaction__case__customer",
        "interaction__contact_point",
        "queue",
        "channel",
        "agent__user",
    ).prefetch_related(
        Prefetch(
            "interaction__case__customer__contact_points",
            queryset=ContactPoint.objects.order_by("kind", "value"),
        )
    )


def agent_payload_by_id(agent_id: int) -> dict[str, Any]:
    return agent_payloads([agent_id])[0]


# What the console shows of an agent, as ``values()`` names; hand-written SQL selects the
# same columns in this order.
AGENT_PAYLOAD_FIELDS = (
    "pk",
    "capacity",
    "status_id",
    "status__name",
    "status_since",
    "user__username",
    "user__first_name",
    "user__last_name",
)


def agent_payloads(agent_ids: Iterable[int]) -> list[dict[str, Any]]:
    """What the console shows of each agent (status, capacity, load), in two queries."""
    rows = list(Agent.objects.filter(pk__any=list(agent_ids)).values(*AGENT_PAYLOAD_FIELDS))
    used = used_units(row["pk"] for row in rows)
    return [agent_payload(row, used_units=used.get(row["pk"], 0)) for row in rows]


def agent_payload(row: Mapping[str, Any], *, used_units: int = 0) -> dict[str, Any]:
    """The console's view of an agent from a row of ``AGENT_PAYLOAD_FIELDS``."""
    name = f"{row['user__first_name']} {row['user__last_name']}".strip()
    return {
        "id": row["pk"],
        "name": name or row["user__username"],
        "status_id": row["status_id"],
        "status_name": row["status__name"] or "Offline",
        "status_since": row["status_since"].isoformat(),
        "capacity": row["capacity"],
        "used_units": used_units,
    }


def status_payloads() -> list[dict[str, Any]]:
    statuses = PresenceStatus.objects.prefetch_related("channels")
    return [
        {
            "id": status.pk,
            "name": status.name,
            "channels": sorted(channel.kind for channel in status.channels.all()),
        }
        for status in statuses
    ]


def offer_payloads(offers: list[Offer], now: datetime) -> list[dict[str, Any]]:
    """What an agent's console shows of each offer; plain values, since a round sends many."""
    items = {
        row["pk"]: row
        for row in WorkItem.objects.filter(pk__any=[o.work_item_id for o in offers]).values(
            "pk",
            "interaction_id",
            "enqueued_at",
            "channel__kind",
            "queue__name",
            "interaction__case__customer__name",
        )
    }
    previews = first_customer_messages([item["interaction_id"] for item in items.values()])
    payloads = []
    for offer in offers:
        item = items[offer.work_item_id]
        payloads.append(
            offer_payload(
                offer_id=offer.pk,
                work_item_id=item["pk"],
                channel=item["channel__kind"],
                queue=item["queue__name"],
                customer_name=item["interaction__case__customer__name"],
                preview=previews.get(item["interaction_id"], ""),
                enqueued_at=item["enqueued_at"],
                created_at=offer.created_at,
                expires_at=offer.expires_at,
                now=now,
            )
        )
    return payloads


# The console shows the start of the customer's first message with an offer.
PREVIEW_CHARACTERS = 280


def offer_payload(
    *,
    offer_id: int,
    work_item_id: int,
    channel: str,
    queue: str,
    customer_name: str,
    preview: str,
    enqueued_at: datetime,
    created_at: datetime,
    expires_at: datetime,
    now: datetime,
) -> dict[str, Any]:
    return {
        "offer_id": offer_id,
        "work_item_id": work_item_id,
        "channel": channel,
        "queue": queue,
        "customer_name": customer_name,
        "preview": preview[:PREVIEW_CHARACTERS],
        "waiting_since": enqueued_at.isoformat(),
        "expires_at": expires_at.isoformat(),
        "timeout_seconds": int((expires_at - created_at).total_seconds()),
        "remaining_seconds": max(int((expires_at - now).total_seconds() + 0.999), 0),
    }


# The most an item's payload carries of its case's earlier conversations.
EARLIER_MESSAGES = 200


def earlier_in_cases(items: list[WorkItem]) -> dict[int, list[dict[str, Any]]]:
    """Per case, its other conversations (a chat before this call, an email before this chat),
    oldest first, with their last EARLIER_MESSAGES messages: one query for any number."""
    current = {item.interaction_id for item in items}
    case_ids = {item.interaction.case_id for item in items}
    by_case: dict[int, dict[int, dict[str, Any]]] = {case_id: {} for case_id in case_ids}
    messages = list(
        Message.objects.filter(interaction__case_id__in=case_ids)
        .exclude(interaction_id__in=current)
        .select_related("author", "interaction__case__customer")
        .prefetch_related("attachments")
        .order_by("-created_at", "-id")[: EARLIER_MESSAGES * max(1, len(case_ids))]
    )
    for message in reversed(messages):
        interaction = message.interaction
        conversations = by_case[interaction.case_id]
        if interaction.pk not in conversations:
            conversations[interaction.pk] = {
                "interaction_id": interaction.pk,
                "channel": interaction.channel,
                "started_at": interaction.started_at.isoformat(),
                "messages": [],
            }
        conversations[interaction.pk]["messages"].append(message_payload(message))
    return {case_id: list(conversations.values()) for case_id, conversations in by_case.items()}


def work_item_payloads(items: list[WorkItem]) -> list[dict[str, Any]]:
    messages = transcripts(item.interaction_id for item in items)
    earlier = earlier_in_cases(items) if items else {}
    return [
        {
            "work_item_id": item.pk,
            "interaction_id": item.interaction_id,
            "channel": item.channel.kind,
            "queue": item.queue.name,
            "customer_name": item.interaction.case.customer.name,
            "customer_email": customer_email(item.interaction.case.customer),
            "case_number": item.interaction.case.number,
            "accepted_at": item.accepted_at.isoformat() if item.accepted_at else None,
            "units": item.units,
            "messages": [
                message_payload(message, work_item_id=item.pk)
                for message in messages[item.interaction_id]
            ],
            "customer_id": item.interaction.case.customer_id,
            # A web chat visitor's typed email, not vouched for by the site: not theirs for sure.
            "claimed_email": item.interaction.claimed_email,
            "customer_address": (
                item.interaction.contact_point.value if item.interaction.contact_point else ""
            ),
            "subject": item.interaction.subject,
            "started_at": item.interaction.started_at.isoformat(),
            "earlier": earlier.get(item.interaction.case_id, []),
        }
        for item in items
    ]


def console_snapshot(agent: Agent, now: datetime) -> dict[str, Any]:
    offers = list(
        Offer.objects.filter(agent=agent, outcome=Offer.Outcome.PENDING).order_by(
            "created_at", "id"
        )
    )
    items = list(
        work_items_with_context()
        .filter(agent=agent, status=WorkItem.Status.ASSIGNED)
        .order_by("accepted_at", "id")
    )
    return {
        "agent": agent_payload_by_id(agent.pk),
        "statuses": status_payloads(),
        "decline_reasons": list(DeclineReason.objects.filter(is_active=True).values("id", "name")),
        "dispositions": list(Disposition.objects.filter(is_active=True).values("id", "name")),
        "canned_responses": list(
            CannedResponse.objects.filter(is_active=True).values("id", "title", "body")
        ),
        "transfer_targets": {
            "queues": list(Queue.objects.order_by("name").values("id", "name")),
            "agents": [
                {
                    "id": row["pk"],
                    "name": f"{row['user__first_name']} {row['user__last_name']}".strip()
                    or row["user__username"],
                }
                for row in Agent.objects.exclude(pk=agent.pk)
                .order_by("user__first_name", "user__username")
                .values("pk", "user__first_name", "user__last_name", "user__username")
            ],
            "skills": list(Skill.objects.order_by("name").values("id", "name")),
        },
        "offers": offer_payloads(offers, now),
        "work_items": work_item_payloads(items),
    }


# --- the visitor's chat --------------------------------------------------------------------

# Waiting visitors told their exact place in line; the rest learn they are further back.
ANNOUNCED_POSITIONS = 100


def chat_status_data(
    *,
    state: str,
    position: int | None = None,
    position_beyond: int | None = None,
    agents_available: int | None = None,
    agent_name: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """A ``chat.status`` frame's data: where the visitor's chat stands."""
    return {
        "state": state,
        "position": position,
        "position_beyond": position_beyond,
        "agents_available": agents_available,
        "agent_name": agent_name,
        "note": note,
    }


def position_status(position: int, agents_available: int) -> dict[str, Any]:
    """A waiting visitor's place in line, or that they are beyond the announced places."""
    beyond = position > ANNOUNCED_POSITIONS
    return chat_status_data(
        state="waiting",
        position=None if beyond else position,
        position_beyond=ANNOUNCED_POSITIONS if beyond else None,
        agents_available=agents_available,
    )


def chat_status_now(interaction_id: int) -> dict[str, Any]:
    """The ``chat.status`` a visitor coming back to their chat should see."""
    interaction = Interaction.objects.filter(pk=interaction_id).first()
    if interaction is None or interaction.status != Interaction.Status.OPEN:
        return chat_status_data(state="closed")
    item = (
        WorkItem.objects.filter(interaction_id=interaction_id)
        .select_related("agent__user")
        .order_by("-id")
        .first()
    )
    if item is None:
        if interaction.bot_status == Interaction.BotStatus.ACTIVE:
            return chat_status_data(state="assistant")
        return chat_status_data(state="waiting")
    if item.status == WorkItem.Status.ASSIGNED:
        return chat_status_data(state="connected", agent_name=item.agent.name)
    if item.status in (WorkItem.Status.QUEUED, WorkItem.Status.OFFERED):
        return position_status(
            queue_position(item) if item.status == WorkItem.Status.QUEUED else 1,
            agents_available(item.queue_id, item.channel_id),
        )
    return chat_status_data(state="closed")


# --- the customer 360 --------------------------------------------------------------------


def customer_timeline(customer_id: int, *, limit: int = 50) -> dict[str, Any]:
    """Everything a customer did on every channel, newest first, in seven queries whatever
    its size: the customer with contact points, their cases, the interactions (with case),
    their messages with attachments, and who worked them."""
    customer = Customer.objects.prefetch_related("contact_points").filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(f"No customer {customer_id}.", field="customer_id")
    interactions = list(
        Interaction.objects.filter(case__customer_id=customer_id)
        .select_related("case")
        .order_by("-started_at", "-id")[:limit]
    )
    messages = transcripts(interaction.pk for interaction in interactions)
    agents = worked_by([interaction.pk for interaction in interactions])
    return {
        "customer": customer_payload(customer),
        "cases": case_payloads(customer, limit=limit),
        "interactions": [
            interaction_payload(
                interaction, messages[interaction.pk], agents=agents.get(interaction.pk, [])
            )
            for interaction in interactions
        ],
    }
