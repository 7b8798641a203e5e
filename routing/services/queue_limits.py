"""Queue limits: items that waited too long overflow to another queue, or reach the queue's
maximum wait (their priority rises, or the contact ends with a message)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from contactcenter.crm.interactions import close_interaction
from contactcenter.crm.messages import append_message
from contactcenter.crm.models import Message
from routing import events
from routing.models import Queue, WorkItem, WorkItemMove
from routing.selectors import lines
from routing.services import triggers
from routing.services.steps import announce_queue_positions, record_moves


def apply_queue_limits(*, now: datetime | None = None) -> tuple[int, int]:
    """Overflow items that waited too long in their queue, then apply maximum waits.

    Each queue's due items move in one statement, and the lines that moved hear their new
    places once at the end, however many items were due. Returns (items overflowed, items
    that reached the maximum wait).
    """
    now = now or timezone.now()
    moved_lines: set[int] = set()
    overflowed = 0
    for queue in Queue.objects.filter(overflow_queue__isnull=False).select_related(
        "overflow_queue__routing_config"
    ):
        moved = _overflow(queue, now=now)
        if moved:
            overflowed += moved
            moved_lines |= {queue.pk, queue.overflow_queue_id}
    expired = 0
    for queue in Queue.objects.filter(max_wait_seconds__isnull=False):
        reached = _apply_max_wait(queue, now=now)
        if reached:
            expired += reached
            moved_lines.add(queue.pk)
    if moved_lines:
        announce_queue_positions(moved_lines)
        events.queue_changed()
        triggers.request_round()
    return overflowed, expired


def _overflow(queue: Queue, *, now: datetime) -> int:
    """Move the queue's items that waited past its overflow time to its overflow queue."""
    due = lines.waiting_since_before(
        queue.pk, now - timedelta(seconds=queue.overflow_after_seconds)
    )
    if not due:
        return 0
    target = queue.overflow_queue
    with transaction.atomic():
        # Guarded by status and queue: a round may have offered an item meanwhile.
        moved = WorkItem.objects.filter(
            pk__any=due, status=WorkItem.Status.QUEUED, queue=queue
        ).update(
            queue=target,
            units=target.routing_config.units_per_item,
            overflowed_from=queue,
            overflowed_at=now,
        )
        if moved:
            record_moves(
                WorkItem.objects.filter(
                    pk__any=due, queue=target, overflowed_from=queue, overflowed_at=now
                ).values_list("pk", flat=True),
                from_queue_id=queue.pk,
                to_queue_id=target.pk,
                now=now,
                cause=WorkItemMove.Cause.OVERFLOW,
            )
    return moved


def _apply_max_wait(queue: Queue, *, now: datetime) -> int:
    """Raise the priority of, or end, the queue's items that waited its maximum."""
    due = lines.waiting_since_before(queue.pk, now - timedelta(seconds=queue.max_wait_seconds))
    if not due:
        return 0
    if queue.max_wait_action == Queue.MaxWaitAction.RAISE_PRIORITY:
        return WorkItem.objects.filter(
            pk__any=due,
            status=WorkItem.Status.QUEUED,
            queue=queue,
            priority__lt=queue.max_wait_priority,
        ).update(priority=queue.max_wait_priority)
    return sum(_end_after_max_wait(item_id, queue, now=now) for item_id in due)


def _end_after_max_wait(item_id: int, queue: Queue, *, now: datetime) -> int:
    """End a contact that waited the queue's maximum, telling the customer why."""
    with transaction.atomic():
        item = (
            WorkItem.objects.select_for_update(of=("self",))
            .select_related("interaction")
            .filter(pk=item_id, status=WorkItem.Status.QUEUED, queue=queue)
            .first()
        )
        if item is None:
            return 0
        item.status = WorkItem.Status.EXPIRED
        item.closed_at = now
        item.save(update_fields=["status", "closed_at"])
        if queue.max_wait_message:
            append_message(
                item.interaction,
                sender=Message.Sender.SYSTEM,
                body=queue.max_wait_message,
                work_item_id=item.pk,
                agent_id=None,
            )
        close_interaction(item.interaction, now=now)
        events.chat_status(item.interaction_id, state="closed")
    return 1
