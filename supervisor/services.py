"""Supervisors' actions: permission-checked at the edge, recorded here, and carried out by the
routing services so that consoles and the dashboard follow live."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from contactcenter.crm.messages import append_message
from contactcenter.crm.models import Message
from contactcenter.kernel.errors import Conflict, InvalidInput, NotFound
from contactcenter.kernel.text import clean_text
from routing.models import Agent, AgentStatusChange, PresenceStatus, WorkItem
from routing.services import presence, queueing, steps, transfers
from supervisor.models import SupervisorAction


def set_agent_presence(*, actor: AbstractBaseUser, agent_id: int, status_id: int | None) -> Agent:
    """Change an agent's presence for them; their console shows it at once."""
    agent = Agent.objects.select_related("user", "status").filter(pk=agent_id).first()
    if agent is None:
        raise NotFound(f"No agent {agent_id}.", field="agent_id")
    if status_id is not None and not PresenceStatus.objects.filter(pk=status_id).exists():
        raise InvalidInput(f"No presence status {status_id}.", field="status_id")
    before = agent.status.name if agent.status else "Offline"
    with transaction.atomic():
        agent = presence.set_presence(
            agent=agent,
            status_id=status_id,
            cause=AgentStatusChange.Cause.SUPERVISOR,
            changed_by=actor,
        )
        after = (
            PresenceStatus.objects.values_list("name", flat=True).get(pk=status_id)
            if status_id
            else "Offline"
        )
        SupervisorAction.objects.create(
            kind=SupervisorAction.Kind.SET_PRESENCE,
            actor=actor,
            agent=agent,
            detail={"from": before, "to": after},
        )
    return agent


def set_priority(*, actor: AbstractBaseUser, work_item_id: int, priority: object) -> WorkItem:
    """Move a waiting item up (or down) its line; it keeps its place among equals by age."""
    with transaction.atomic():
        item, before = queueing.reprioritize(work_item_id=work_item_id, priority=priority)
        SupervisorAction.objects.create(
            kind=SupervisorAction.Kind.SET_PRIORITY,
            actor=actor,
            work_item=item,
            detail={"from": before, "to": item.priority},
        )
    return item


# A supervisor's note on a reassignment: room is left for "Reassigned by NAME." within the
# 1,000 characters of an agent's transfer note.
NOTE_MAX_LENGTH = 800


def reassign(
    *,
    actor: AbstractBaseUser,
    work_item_id: int,
    queue_id: int | None = None,
    agent_id: int | None = None,
    note: str = "",
) -> WorkItem:
    """Hand an item to another queue or agent, with an optional note for whoever takes it.
    Work nobody has accepted moves (or is held for the agent); work an agent holds is
    transferred for them, as if they had done it, and goes on in a new item. Returns the item
    that carries on."""
    note = clean_text(note, field="note", max_length=NOTE_MAX_LENGTH, label="Note")
    who = actor.get_full_name() or actor.get_username()
    # Which path depends on the item's state, read before its lock is taken (each path
    # locks in the order its transitions use); if the state moved on meanwhile, read again.
    for attempt in range(2):
        before = (
            WorkItem.objects.select_related("queue", "agent__user", "channel")
            .filter(pk=work_item_id)
            .first()
        )
        if before is None:
            raise NotFound(f"No work item {work_item_id}.", field="work_item_id")
        try:
            with transaction.atomic():
                item = _hand_on(before, queue_id=queue_id, agent_id=agent_id, note=note, who=who)
                _record_reassignment(actor, before, item, note=note)
            return item
        except (Conflict, NotFound) as error:
            moved_on = (
                WorkItem.objects.filter(pk=work_item_id).values_list("status", flat=True).first()
                != before.status
            )
            if attempt == 0 and moved_on and error.field != "agent_id":
                continue
            raise
    raise AssertionError("unreachable")


def _hand_on(
    before: WorkItem, *, queue_id: int | None, agent_id: int | None, note: str, who: str
) -> WorkItem:
    if before.status != WorkItem.Status.ASSIGNED:
        item = transfers.redirect_waiting_item(
            work_item_id=before.pk, queue_id=queue_id, agent_id=agent_id
        )
        if note:
            append_message(
                item.interaction,
                sender=Message.Sender.SYSTEM,
                body=f"Reassigned by {who}. Note: {note}",
                work_item_id=item.pk,
                agent_id=None,
                internal=True,
            )
        return item
    if agent_id is not None and agent_id == before.agent_id:
        raise InvalidInput("That agent already works on this item.", field="agent_id")
    queue, agent = steps.transfer_targets(queue_id, agent_id)
    if agent is not None:
        # The same test as for waiting work: nobody hands work to an agent on a break.
        steps.check_named_agent(agent, before, queue or before.queue)
    return transfers.transfer_work(
        agent=before.agent,
        work_item_id=before.pk,
        queue_id=queue_id,
        to_agent_id=agent_id,
        note=f"Reassigned by {who}." + (f" {note}" if note else ""),
    )


def _record_reassignment(
    actor: AbstractBaseUser, before: WorkItem, item: WorkItem, *, note: str
) -> None:
    after = WorkItem.objects.select_related("queue", "preferred_agent__user").get(pk=item.pk)
    SupervisorAction.objects.create(
        kind=SupervisorAction.Kind.REASSIGN,
        actor=actor,
        agent=after.preferred_agent,
        work_item=after,
        detail={
            "from_queue": before.queue.name,
            "from_agent": before.agent.name if before.agent else None,
            "to_queue": after.queue.name,
            "to_agent": after.preferred_agent.name if after.preferred_agent else None,
            "transferred_from": before.pk if after.pk != before.pk else None,
            "note": note,
        },
    )
