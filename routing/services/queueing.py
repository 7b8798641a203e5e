"""New work enters a queue, and waiting work changes priority."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from contactcenter.crm.models import Interaction
from contactcenter.kernel.errors import Conflict, InvalidInput, NotFound
from routing import events, intake
from routing.models import Queue, WorkItem
from routing.selectors import lines
from routing.services import triggers
from routing.services.steps import announce_position, announce_queue_positions, require_skills

# A call an agent placed waits at least this long for that agent (who may first have to close
# the chat they escalated), whatever the voice queue's own preference.
ESCALATION_PREFERENCE_SECONDS = 120
# Priorities an item may be given by hand (the engine serves higher first).
MIN_PRIORITY, MAX_PRIORITY = -100, 100


def enqueue(
    interaction: Interaction,
    *,
    intent: str = "",
    now: datetime | None = None,
    preferred_agent_id: int | None = None,
) -> WorkItem:
    """Put an interaction in the queue its intake rule chooses, with the rule's skills and
    priority, preferring the agent who last served the customer (or ``preferred_agent_id``,
    the agent who escalated to this contact)."""
    now = now or timezone.now()
    customer = interaction.case.customer
    decision = intake.decide(
        intake.Contact(
            channel_kind=interaction.channel,
            customer_tier=customer.tier,
            customer_language=customer.language,
            first_message=(
                lines.first_customer_message(interaction.pk) if intake.reads_first_message() else ""
            ),
            intent=intent,
        )
    )
    channel = intake.service_channel(interaction.channel)
    # The rules are kept per process; the queue's terms are read fresh, so that a change to
    # them (even one that bypasses signals, such as a queryset update) applies at once.
    queue = Queue.objects.select_related("routing_config").get(pk=decision.queue.pk)
    config = queue.routing_config
    prefer_seconds = config.preferred_agent_seconds
    if preferred_agent_id is not None:
        prefer_seconds = max(prefer_seconds, ESCALATION_PREFERENCE_SECONDS)
    elif config.preferred_agent_seconds:
        preferred_agent_id = lines.last_agent_of(customer.pk, exclude_interaction=interaction.pk)
    # In the caller's transaction (the contact's): its one round request needs no batch.
    item = WorkItem.objects.create(
        interaction=interaction,
        channel=channel,
        queue=queue,
        priority=decision.priority,
        units=config.units_per_item,
        enqueued_at=now,
        intake_rule=decision.rule,
        preferred_agent_id=preferred_agent_id,
        preferred_until=(now + timedelta(seconds=prefer_seconds) if preferred_agent_id else None),
    )
    require_skills(item, decision.skills)
    announce_position(item)
    events.queue_changed()
    triggers.request_round(if_room_for=item)
    return item


def reprioritize(*, work_item_id: int, priority: object) -> tuple[WorkItem, int]:
    """Move a waiting item up (or down) its line; it keeps its place among equals by age.
    Returns the item and its priority before."""
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise InvalidInput("priority must be a whole number.", field="priority")
    if not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise InvalidInput(
            f"priority must be between {MIN_PRIORITY} and {MAX_PRIORITY}.", field="priority"
        )
    with transaction.atomic():
        item = WorkItem.objects.select_for_update(of=("self",)).filter(pk=work_item_id).first()
        if item is None:
            raise NotFound(f"No work item {work_item_id}.", field="work_item_id")
        if item.status != WorkItem.Status.QUEUED:
            raise Conflict("Only a waiting item's priority can be changed.", field="work_item_id")
        before = item.priority
        item.priority = priority
        item.save(update_fields=["priority"])
        announce_queue_positions({item.queue_id})
        events.queue_changed()
        triggers.request_round()
    return item, before
