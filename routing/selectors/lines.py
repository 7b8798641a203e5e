"""Queue lines and who works what: places in line, waits, assignments, past service."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.db.models.functions import Coalesce

from contactcenter.crm.models import Message
from routing.models import Agent, WorkItem


def first_customer_message(interaction_id: int) -> str:
    return first_customer_messages([interaction_id]).get(interaction_id, "")


def first_customer_messages(interaction_ids: list[int]) -> dict[int, str]:
    first: dict[int, str] = {}
    rows = (
        Message.objects.filter(interaction_id__any=interaction_ids, sender=Message.Sender.CUSTOMER)
        .order_by("interaction_id", "created_at", "id")
        .values_list("interaction_id", "body")
    )
    for interaction_id, body in rows:
        first.setdefault(interaction_id, body)
    return first


def last_agent_of(customer_id: int, *, exclude_interaction: int | None = None) -> int | None:
    """The agent who most recently took work from this customer, on any channel."""
    served = WorkItem.objects.filter(
        interaction__case__customer_id=customer_id, accepted_at__isnull=False
    )
    if exclude_interaction is not None:
        served = served.exclude(interaction_id=exclude_interaction)
    return served.order_by("-accepted_at", "-id").values_list("agent_id", flat=True).first()


def latest_work_item_id(interaction_id: int) -> int | None:
    """The interaction's newest work item, whatever its status."""
    return (
        WorkItem.objects.filter(interaction_id=interaction_id)
        .order_by("-id")
        .values_list("pk", flat=True)
        .first()
    )


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


def waiting_since_before(queue_id: int, cutoff: datetime) -> list[int]:
    """Items waiting in the queue that entered it before the cutoff, oldest first."""
    entered = Coalesce("overflowed_at", "enqueued_at")
    return list(
        WorkItem.objects.filter(queue_id=queue_id, status=WorkItem.Status.QUEUED)
        .annotate(entered=entered)
        .filter(entered__lt=cutoff)
        .order_by("entered", "id")
        .values_list("pk", flat=True)
    )


def agents_available(queue_id: int, channel_id: int) -> int:
    """Members of the queue whose presence accepts the channel right now."""
    return Agent.objects.filter(queues=queue_id, status__channels=channel_id).distinct().count()


def worked_by(interaction_ids: list[int]) -> dict[int, list[str]]:
    """Interaction -> the names of the agents who took its work, first taken first."""
    agents: dict[int, list[str]] = {}
    worked = (
        WorkItem.objects.filter(interaction_id__in=interaction_ids, agent__isnull=False)
        .order_by("accepted_at", "id")
        .values_list(
            "interaction_id",
            "agent__user__first_name",
            "agent__user__last_name",
            "agent__user__username",
        )
    )
    for interaction_id, first, last, username in worked:
        name = f"{first} {last}".strip() or username
        names = agents.setdefault(interaction_id, [])
        if name not in names:
            names.append(name)
    return agents
