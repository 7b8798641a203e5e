"""Reads for routing: the engine's snapshot, the console's state, and access checks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet, Sum

from contactcenter.errors import NotFound
from contactcenter.models import ContactPoint, Message
from contactcenter.selectors import customer_email, message_payload, transcripts
from routing import engine
from routing.models import Agent, Offer, PresenceStatus, WorkItem

ACTIVE_STATUSES = (WorkItem.Status.OFFERED, WorkItem.Status.ASSIGNED)
# A round looks at this many of the first-served waiting items that some free agent could
# take; the next round picks up the rest as agents free up.
ROUND_ITEM_LIMIT = 2000


def work_items_with_context() -> QuerySet[WorkItem]:
    return WorkItem.objects.select_related(
        "interaction__case__customer", "queue", "channel", "agent__user"
    ).prefetch_related(
        Prefetch(
            "interaction__case__customer__contact_points",
            queryset=ContactPoint.objects.order_by("kind", "value"),
        )
    )


def access_offer(agent: Agent, offer_id: int, *, for_update: bool = False) -> Offer:
    """The agent's own offer, or NotFound: an agent never sees another agent's offers."""
    offers = Offer.objects.filter(pk=offer_id, agent=agent)
    if for_update:
        offers = offers.select_for_update()
    offer = offers.first()
    if offer is None:
        raise NotFound(f"No offer {offer_id} for you.", field="offer_id")
    return offer


def access_work_item(agent: Agent, work_item_id: int, *, for_update: bool = False) -> WorkItem:
    """A work item the agent is working on, or NotFound."""
    items = WorkItem.objects.filter(
        pk=work_item_id, agent=agent, status=WorkItem.Status.ASSIGNED
    ).select_related("interaction", "agent__user")
    if for_update:
        items = items.select_for_update(of=("self",))
    item = items.first()
    if item is None:
        raise NotFound(f"You are not working on item {work_item_id}.", field="work_item_id")
    return item


def used_units(agent_ids: Iterable[int]) -> dict[int, int]:
    rows = (
        WorkItem.objects.filter(agent_id__in=list(agent_ids), status__in=ACTIVE_STATUSES)
        .values("agent_id")
        .annotate(units=Sum("units"))
    )
    return {row["agent_id"]: row["units"] for row in rows}


def current_assignment(interaction_id: int) -> tuple[int | None, int | None]:
    """(work item id, agent id) of the agent working the interaction now, or (None, None)."""
    row = (
        WorkItem.objects.filter(interaction_id=interaction_id, status=WorkItem.Status.ASSIGNED)
        .values_list("pk", "agent_id")
        .first()
    )
    return row if row is not None else (None, None)


def waiting_line(queue_id: int, *, limit: int) -> list[tuple[int, int]]:
    """(interaction id, channel id) of the first items waiting in a queue, next served first."""
    return list(
        WorkItem.objects.filter(queue_id=queue_id, status=WorkItem.Status.QUEUED)
        .order_by("-priority", "enqueued_at", "id")
        .values_list("interaction_id", "channel_id")[:limit]
    )


def queue_position(item: WorkItem) -> int:
    """1 for the next item to be served in its queue, in the order of ``waiting_line``."""
    waiting = WorkItem.objects.filter(queue_id=item.queue_id, status=WorkItem.Status.QUEUED)
    ahead = waiting.filter(
        Q(priority__gt=item.priority)
        | Q(priority=item.priority, enqueued_at__lt=item.enqueued_at)
        | Q(priority=item.priority, enqueued_at=item.enqueued_at, pk__lt=item.pk)
    )
    return ahead.count() + 1


def agents_available(queue_id: int, channel_id: int) -> int:
    """Members of the queue whose presence accepts the channel right now."""
    return Agent.objects.filter(queues=queue_id, status__channels=channel_id).distinct().count()


# --- the engine's snapshot -------------------------------------------------------------------


def waiting_items(
    agents: Iterable[engine.AgentState],
) -> tuple[list[engine.WaitingItem], dict[int, int]]:
    """Waiting items that one of these agents could take, with each one's push time-out.

    Only queues and channels with an agent open for them and free capacity are read, so a
    long line in a queue nobody serves cannot crowd the others out of a round.
    """
    servable = {
        (queue_id, channel_id)
        for agent in agents
        if agent.free_units > 0
        for queue_id in agent.queue_ids
        for channel_id in agent.open_channel_ids
    }
    if not servable:
        return [], {}
    in_servable_pool = Q()
    for queue_id, channel_id in sorted(servable):
        in_servable_pool |= Q(queue_id=queue_id, channel_id=channel_id)
    rows = list(
        WorkItem.objects.filter(in_servable_pool, status=WorkItem.Status.QUEUED)
        .order_by("queue__routing_config__routing_priority", "-priority", "enqueued_at", "id")
        .values(
            "id",
            "queue_id",
            "channel_id",
            "priority",
            "enqueued_at",
            "units",
            "queue__routing_config__routing_priority",
            "queue__routing_config__push_timeout_seconds",
        )[:ROUND_ITEM_LIMIT]
    )
    excluded: dict[int, set[int]] = {row["id"]: set() for row in rows}
    refusals = Offer.objects.filter(
        work_item_id__in=list(excluded), outcome__in=Offer.REFUSALS
    ).values_list("work_item_id", "agent_id")
    for item_id, agent_id in refusals:
        excluded[item_id].add(agent_id)
    items = [
        engine.WaitingItem(
            id=row["id"],
            queue_id=row["queue_id"],
            channel_id=row["channel_id"],
            routing_priority=row["queue__routing_config__routing_priority"],
            priority=row["priority"],
            enqueued_at=row["enqueued_at"],
            units=row["units"],
            excluded_agent_ids=frozenset(excluded[row["id"]]),
        )
        for row in rows
    ]
    timeouts = {row["id"]: row["queue__routing_config__push_timeout_seconds"] for row in rows}
    return items, timeouts


def agent_states() -> list[engine.AgentState]:
    """Agents whose presence accepts at least one channel, with their load."""
    agents = list(
        Agent.objects.filter(status__channels__isnull=False)
        .distinct()
        .select_related("status")
        .prefetch_related("status__channels", "queues")
    )
    load = used_units(agent.pk for agent in agents)
    return [
        engine.AgentState(
            id=agent.pk,
            capacity=agent.capacity,
            used_units=load.get(agent.pk, 0),
            open_channel_ids=frozenset(channel.pk for channel in agent.status.channels.all()),
            queue_ids=frozenset(queue.pk for queue in agent.queues.all()),
            idle_since=agent.last_work_ended_at,
        )
        for agent in agents
    ]


# --- payloads for the console --------------------------------------------------------------


def agent_payload(agent: Agent, *, used: int | None = None) -> dict[str, Any]:
    if used is None:
        used = used_units([agent.pk]).get(agent.pk, 0)
    return {
        "id": agent.pk,
        "name": agent.name,
        "status_id": agent.status_id,
        "status_name": agent.status.name if agent.status else "Offline",
        "status_since": agent.status_since.isoformat(),
        "capacity": agent.capacity,
        "used_units": used,
    }


def agent_payload_by_id(agent_id: int) -> dict[str, Any]:
    return agent_payload(Agent.objects.select_related("user", "status").get(pk=agent_id))


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


def _first_customer_messages(interaction_ids: list[int]) -> dict[int, str]:
    first: dict[int, str] = {}
    rows = (
        Message.objects.filter(interaction_id__in=interaction_ids, sender=Message.Sender.CUSTOMER)
        .order_by("interaction_id", "created_at", "id")
        .values_list("interaction_id", "body")
    )
    for interaction_id, body in rows:
        first.setdefault(interaction_id, body)
    return first


def offer_payloads(offers: list[Offer], now: datetime) -> list[dict[str, Any]]:
    items = {
        item.pk: item
        for item in work_items_with_context().filter(pk__in=[o.work_item_id for o in offers])
    }
    previews = _first_customer_messages([item.interaction_id for item in items.values()])
    payloads = []
    for offer in offers:
        item = items[offer.work_item_id]
        remaining = max(int((offer.expires_at - now).total_seconds() + 0.999), 0)
        payloads.append(
            {
                "offer_id": offer.pk,
                "work_item_id": item.pk,
                "channel": item.channel.kind,
                "queue": item.queue.name,
                "customer_name": item.interaction.case.customer.name,
                "preview": previews.get(item.interaction_id, "")[:280],
                "waiting_since": item.enqueued_at.isoformat(),
                "expires_at": offer.expires_at.isoformat(),
                "timeout_seconds": int((offer.expires_at - offer.created_at).total_seconds()),
                "remaining_seconds": remaining,
            }
        )
    return payloads


def work_item_payloads(items: list[WorkItem]) -> list[dict[str, Any]]:
    messages = transcripts(item.interaction_id for item in items)
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
        }
        for item in items
    ]


def console_snapshot(agent: Agent, now: datetime) -> dict[str, Any]:
    agent = Agent.objects.select_related("user", "status").get(pk=agent.pk)
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
        "agent": agent_payload(agent),
        "statuses": status_payloads(),
        "offers": offer_payloads(offers, now),
        "work_items": work_item_payloads(items),
    }
