"""Supervisors' actions: permission-checked at the edge, recorded here, and carried out by the
routing services so that consoles and the dashboard follow live."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

import routing.services as routing_services
from contactcenter.errors import Conflict, InvalidInput, NotFound
from routing import events as routing_events
from routing.models import Agent, AgentStatusChange, PresenceStatus, WorkItem
from supervisor.models import SupervisorAction

# Priorities a supervisor may set (the engine serves higher first).
MIN_PRIORITY, MAX_PRIORITY = -100, 100


def set_agent_presence(*, actor: AbstractBaseUser, agent_id: int, status_id: int | None) -> Agent:
    """Change an agent's presence for them; their console shows it at once."""
    agent = Agent.objects.select_related("user", "status").filter(pk=agent_id).first()
    if agent is None:
        raise NotFound(f"No agent {agent_id}.", field="agent_id")
    if status_id is not None and not PresenceStatus.objects.filter(pk=status_id).exists():
        raise InvalidInput(f"No presence status {status_id}.", field="status_id")
    before = agent.status.name if agent.status else "Offline"
    with transaction.atomic():
        agent = routing_services.set_presence(
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


def set_priority(*, actor: AbstractBaseUser, work_item_id: int, priority: int) -> WorkItem:
    """Move a waiting item up (or down) its line; it keeps its place among equals by age."""
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
        SupervisorAction.objects.create(
            kind=SupervisorAction.Kind.SET_PRIORITY,
            actor=actor,
            work_item=item,
            detail={"from": before, "to": priority},
        )
        routing_services.announce_queue_positions({item.queue_id})
        routing_events.queue_changed()
        routing_services.request_round()
    return item


def reassign(
    *,
    actor: AbstractBaseUser,
    work_item_id: int,
    queue_id: int | None = None,
    agent_id: int | None = None,
    note: str = "",
) -> WorkItem:
    """Hand an item to another queue or agent. Work nobody has accepted moves (or is held for
    the agent); work an agent holds is transferred for them, as if they had done it, and goes
    on in a new item. Returns the item that carries on."""
    holder = (
        WorkItem.objects.filter(pk=work_item_id, status=WorkItem.Status.ASSIGNED)
        .values_list("agent", flat=True)
        .first()
    )
    who = actor.get_full_name() or actor.get_username()
    with transaction.atomic():
        if holder is not None:
            if agent_id is not None and agent_id == holder:
                raise InvalidInput("That agent already works on this item.", field="agent_id")
            before = WorkItem.objects.select_related("queue", "agent__user").get(pk=work_item_id)
            item = routing_services.transfer_work(
                agent=before.agent,
                work_item_id=work_item_id,
                queue_id=queue_id,
                to_agent_id=agent_id,
                note=note or f"Reassigned by {who}.",
            )
        else:
            before = (
                WorkItem.objects.select_related("queue", "agent__user")
                .filter(pk=work_item_id)
                .first()
            )
            if before is None:
                raise NotFound(f"No work item {work_item_id}.", field="work_item_id")
            item = routing_services.redirect_waiting_item(
                work_item_id=work_item_id, queue_id=queue_id, agent_id=agent_id
            )
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
            },
        )
    return item
