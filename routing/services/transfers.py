"""Handing work on: an agent transfers a conversation they hold to a queue, a colleague or a
skill; a supervisor redirects waiting or offered work to another queue or agent."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from contactcenter.crm.messages import append_message
from contactcenter.crm.models import Message
from contactcenter.crm.web_chat import CUSTOMER_LEFT
from contactcenter.kernel.errors import Conflict, InvalidInput, NotFound
from contactcenter.kernel.text import clean_text
from routing import events
from routing.models import Agent, Offer, Queue, Skill, WorkItem, WorkItemMove, WorkItemSkill
from routing.selectors import access
from routing.services import triggers
from routing.services.steps import (
    OfferedMeanwhile,
    announce_position,
    announce_queue_positions,
    check_member,
    check_named_agent,
    record_moves,
    require_skills,
    return_to_queue,
    system_note,
    transfer_targets,
)

# A transfer to a named agent waits this long for them before anyone may take it.
TRANSFER_PREFERENCE_SECONDS = 120


def transfer_work(
    *,
    agent: Agent,
    work_item_id: int,
    queue_id: int | None = None,
    to_agent_id: int | None = None,
    skill_id: int | None = None,
    note: str = "",
    now: datetime | None = None,
) -> WorkItem:
    """Hand a conversation the agent works on to a queue, a colleague or a skill, with a note.

    The agent's item ends as transferred (their capacity is free at once, with no wrap-up);
    a new item carries the conversation on, routed afresh, so that anyone who declined the
    first offer may take it now. A named colleague gets it first for a while; a skill is
    required of whoever takes it. The note is internal: the customer never sees it.
    """
    now = now or timezone.now()
    note = clean_text(note, field="note", max_length=1000, label="Note")
    if queue_id is None and to_agent_id is None and skill_id is None:
        raise InvalidInput("Transfer to a queue, an agent or a skill.", field="queue_id")
    queue, colleague = transfer_targets(queue_id, to_agent_id)
    if colleague is not None and colleague.pk == agent.pk:
        raise InvalidInput("Transfer to someone else.", field="agent_id")
    skill = _skill(skill_id)
    with transaction.atomic():
        item = access.access_work_item(agent, work_item_id, for_update=True)
        target_queue = queue or Queue.objects.select_related("routing_config").get(pk=item.queue_id)
        if colleague is not None:
            check_member(colleague, target_queue)
        if item.interaction.customer_connection == CUSTOMER_LEFT:
            raise Conflict("The customer has left this chat: close it instead.")
        item.status = WorkItem.Status.TRANSFERRED
        item.closed_at = now
        item.save(update_fields=["status", "closed_at"])
        successor = _successor(item, target_queue, colleague, skill, handed_on_by=agent, now=now)
        append_message(
            item.interaction,
            sender=Message.Sender.AGENT,
            author=agent.user,
            body=f"Transferred to {_label(queue, colleague, skill)}."
            + (f" Note: {note}" if note else ""),
            work_item_id=item.pk,
            agent_id=agent.pk,
            internal=True,
        )
        system_note(item, "You are being transferred; please hold on.", agent_id=agent.pk)
        events.work_closed(agent.pk, item.pk)
        events.agent_updated(agent.pk)
        announce_position(successor)
        events.queue_changed()
        triggers.request_round()
    return successor


def _label(queue: Queue | None, colleague: Agent | None, skill: Skill | None) -> str:
    """Where a transfer went, as the internal note names it: "Billing, Ada, skill Spanish"."""
    parts = (
        queue.name if queue else "",
        colleague.name if colleague else "",
        f"skill {skill.name}" if skill else "",
    )
    return ", ".join(part for part in parts if part)


def _skill(skill_id: int | None) -> Skill | None:
    if skill_id is None:
        return None
    skill = Skill.objects.filter(pk=skill_id).first()
    if skill is None:
        raise NotFound(f"No skill {skill_id}.", field="skill_id")
    return skill


def _successor(
    item: WorkItem,
    queue: Queue,
    colleague: Agent | None,
    skill: Skill | None,
    *,
    handed_on_by: Agent,
    now: datetime,
) -> WorkItem:
    """The new item that carries a transferred conversation on, waiting in ``queue``."""
    successor = WorkItem.objects.create(
        interaction=item.interaction,
        channel=item.channel,
        queue=queue,
        priority=item.priority,
        units=queue.routing_config.units_per_item,
        enqueued_at=now,
        preferred_agent=colleague,
        preferred_until=(
            now + timedelta(seconds=TRANSFER_PREFERENCE_SECONDS) if colleague else None
        ),
        transferred_from=item,
    )
    # The conversation keeps what it needed (a language, say), plus the skill asked for.
    require_skills(
        successor,
        WorkItemSkill.objects.filter(work_item=item).exclude(skill_id=skill.pk if skill else None),
    )
    if skill is not None:
        WorkItemSkill.objects.create(work_item=successor, skill=skill, min_level=1)
    # The agent who hands it on is not offered it back.
    Offer.objects.create(
        work_item=successor,
        agent=handed_on_by,
        outcome=Offer.Outcome.TRANSFERRED,
        created_at=now,
        expires_at=now + timedelta(seconds=1),
        responded_at=now,
    )
    return successor


def redirect_waiting_item(
    *,
    work_item_id: int,
    queue_id: int | None = None,
    agent_id: int | None = None,
    now: datetime | None = None,
) -> WorkItem:
    """Send work nobody has accepted yet to another queue, or hold it for a named agent (or
    both), on a supervisor's word. A pending offer is withdrawn (it does not count against
    the agent it was made to). Moved work keeps its place in line by age, like overflow; a
    named agent gets the first offer while the transfer preference lasts, as soon as they
    have room; moved to a queue alone, it is held for nobody."""
    now = now or timezone.now()
    if queue_id is None and agent_id is None:
        raise InvalidInput("Choose a queue or an agent.", field="queue_id")
    target_queue, agent = transfer_targets(queue_id, agent_id)
    for _ in range(3):
        try:
            return _redirect(work_item_id, target_queue, agent, now=now)
        except OfferedMeanwhile:
            continue
    raise Conflict("The item is being offered right now: try again.", field="work_item_id")


def _redirect(
    work_item_id: int, target_queue: Queue | None, agent: Agent | None, *, now: datetime
) -> WorkItem:
    with transaction.atomic():
        pending, item = _lock_waiting(work_item_id)
        queue = target_queue or item.queue
        if agent is not None:
            check_named_agent(agent, item, queue)
        if pending is not None:
            return_to_queue(pending, outcome=Offer.Outcome.CANCELLED, now=now)
            events.agent_updated(pending.agent_id)
            item.status, item.agent = WorkItem.Status.QUEUED, None
        moved_lines = {item.queue_id, queue.pk}
        if queue.pk != item.queue_id:
            record_moves(
                [item.pk],
                from_queue_id=item.queue_id,
                to_queue_id=queue.pk,
                now=now,
                cause=WorkItemMove.Cause.SUPERVISOR,
            )
            item.overflowed_from_id, item.overflowed_at = item.queue_id, now
            item.queue, item.units = queue, queue.routing_config.units_per_item
        item.preferred_agent = agent
        item.preferred_until = (
            now + timedelta(seconds=TRANSFER_PREFERENCE_SECONDS) if agent is not None else None
        )
        item.save(
            update_fields=[
                "queue",
                "units",
                "overflowed_from",
                "overflowed_at",
                "preferred_agent",
                "preferred_until",
            ]
        )
        announce_queue_positions(moved_lines)
        events.queue_changed()
        triggers.request_round()
    return item


def _lock_waiting(work_item_id: int) -> tuple[Offer | None, WorkItem]:
    """A waiting or offered item and its pending offer, locked offers first (the lock order of
    every other transition); OfferedMeanwhile if a round offered it between the two reads."""
    pending = (
        Offer.objects.select_for_update(of=("self",))
        .select_related("work_item")
        .filter(work_item_id=work_item_id, outcome=Offer.Outcome.PENDING)
        .first()
    )
    item = (
        WorkItem.objects.select_for_update(of=("self",))
        .select_related("queue", "channel")
        .filter(pk=work_item_id)
        .first()
    )
    if item is None:
        raise NotFound(f"No work item {work_item_id}.", field="work_item_id")
    if item.status == WorkItem.Status.OFFERED and pending is None:
        raise OfferedMeanwhile
    if item.status not in (WorkItem.Status.QUEUED, WorkItem.Status.OFFERED):
        raise Conflict(
            "Only waiting or offered work can be redirected; this item is "
            f"{item.get_status_display().lower()}.",
            field="work_item_id",
        )
    return pending, item
