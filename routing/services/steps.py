"""Steps that several routing transitions share: ending an offer, returning an item to its
line, telling waiting visitors their place, a line in the transcript, and the checks on
whom work may be handed to. They run inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from contactcenter.crm.messages import append_message
from contactcenter.crm.models import ChannelKind, Message
from contactcenter.kernel.errors import Conflict, InvalidInput, NotFound
from routing import events, intake
from routing.engine import SkillNeed
from routing.models import Agent, DeclineReason, Offer, Queue, WorkItem, WorkItemMove, WorkItemSkill
from routing.selectors import lines, payloads
from routing.services.triggers import request_round

# Channels whose customers watch a waiting page and hear their place in line; an email or a
# text message waits without one.
WATCHED_CHANNELS = frozenset({ChannelKind.CHAT})


class OfferedMeanwhile(Exception):
    """A round offered the item between reading its offers and locking it: start over."""


def end_offer(
    offer: Offer,
    *,
    outcome: str,
    now: datetime,
    reason: DeclineReason | None = None,
    note: str = "",
) -> None:
    offer.outcome = outcome
    offer.responded_at = now
    offer.decline_reason = reason
    offer.decline_note = note
    offer.save(update_fields=["outcome", "responded_at", "decline_reason", "decline_note"])
    events.offer_closed(
        agent_id=offer.agent_id, offer_id=offer.pk, work_item_id=offer.work_item_id, outcome=outcome
    )


def requeue(
    offer: Offer,
    *,
    outcome: str,
    now: datetime,
    reason: DeclineReason | None = None,
    note: str = "",
) -> None:
    """End a pending offer and put its item back in the queue, keeping its place in line."""
    queue_id = return_to_queue(offer, outcome=outcome, now=now, reason=reason, note=note)
    line_moved(offer.agent_id, {queue_id})


def return_to_queue(
    offer: Offer,
    *,
    outcome: str,
    now: datetime,
    reason: DeclineReason | None = None,
    note: str = "",
) -> int:
    """The data half of ``requeue``; returns the item's queue."""
    end_offer(offer, outcome=outcome, now=now, reason=reason, note=note)
    WorkItem.objects.filter(
        pk=offer.work_item_id, status=WorkItem.Status.OFFERED, agent_id=offer.agent_id
    ).update(status=WorkItem.Status.QUEUED, agent=None)
    return offer.work_item.queue_id


def line_moved(agent_id: int, queue_ids: set[int]) -> None:
    """After items returned to their queues: tell the waiting, the agent, and route again."""
    announce_queue_positions(queue_ids)
    events.agent_updated(agent_id)
    events.queue_changed()
    request_round()


def announce_queue_positions(queue_ids: set[int]) -> None:
    """Tell the visitors at the head of these queues their new place in line.

    Only the first ``payloads.ANNOUNCED_POSITIONS`` hear their place, so a move costs a
    bounded number of pushes however long the line is. The visitor just behind them hears
    that they are beyond it (an item returned to the line can push them there); the rest were
    told so at enqueue, which stays true until they reach the head.
    """
    statuses = []
    watched = intake.channel_ids(WATCHED_CHANNELS)
    for queue_id in queue_ids:
        waiting = lines.waiting_line(queue_id, limit=payloads.ANNOUNCED_POSITIONS + 1)
        available = {
            channel_id: lines.agents_available(queue_id, channel_id)
            for channel_id in {channel_id for _, channel_id in waiting} & watched
        }
        statuses += [
            (interaction_id, payloads.position_status(position, available[channel_id]))
            for position, (interaction_id, channel_id) in enumerate(waiting, start=1)
            if channel_id in watched
        ]
    if statuses:
        events.chat_statuses(statuses)


def announce_position(item: WorkItem) -> None:
    """Tell a visitor whose chat just entered a line their place in it."""
    if item.interaction.channel not in WATCHED_CHANNELS:
        return
    status = payloads.position_status(
        lines.queue_position(item), lines.agents_available(item.queue_id, item.channel_id)
    )
    events.chat_statuses([(item.interaction_id, status)])


def system_note(item: WorkItem, body: str, *, agent_id: int) -> None:
    """A line in the transcript that both the customer and the agent see."""
    append_message(
        item.interaction,
        sender=Message.Sender.SYSTEM,
        body=body,
        work_item_id=item.pk,
        agent_id=agent_id,
    )


def require_skills(item: WorkItem, needs: Iterable[SkillNeed | WorkItemSkill]) -> None:
    """Store what an item needs of whoever takes it (an intake rule's needs, or another
    item's)."""
    WorkItemSkill.objects.bulk_create(
        WorkItemSkill(
            work_item=item,
            skill_id=need.skill_id,
            min_level=need.min_level,
            drop_after_seconds=need.drop_after_seconds,
        )
        for need in needs
    )


def record_moves(
    item_ids: Iterable[int], *, from_queue_id: int, to_queue_id: int, now: datetime, cause: str
) -> None:
    WorkItemMove.objects.bulk_create(
        WorkItemMove(
            work_item_id=item_id,
            from_queue_id=from_queue_id,
            to_queue_id=to_queue_id,
            moved_at=now,
            cause=cause,
        )
        for item_id in item_ids
    )


def transfer_targets(
    queue_id: int | None, agent_id: int | None
) -> tuple[Queue | None, Agent | None]:
    """The queue and agent that work is handed to, each optional; NotFound names the field."""
    queue = None
    if queue_id is not None:
        queue = Queue.objects.select_related("routing_config").filter(pk=queue_id).first()
        if queue is None:
            raise NotFound(f"No queue {queue_id}.", field="queue_id")
    agent = None
    if agent_id is not None:
        agent = Agent.objects.select_related("user", "status").filter(pk=agent_id).first()
        if agent is None:
            raise NotFound(f"No agent {agent_id}.", field="agent_id")
    return queue, agent


def check_member(agent: Agent, queue: Queue) -> None:
    if not agent.queues.filter(pk=queue.pk).exists():
        raise InvalidInput(
            f"{agent.name} is not a member of {queue.name}: choose their queue too, or "
            "another agent.",
            field="agent_id",
        )


def check_named_agent(agent: Agent, item: WorkItem, queue: Queue) -> None:
    """Work handed to a named agent must be work they can take now, or it would wait for
    nobody: a member of the queue, open for the item's channel, and not one who refused it."""
    check_member(agent, queue)
    if agent.status is None or not agent.status.channels.filter(pk=item.channel_id).exists():
        status = agent.status.name if agent.status else "offline"
        raise Conflict(
            f"{agent.name} is {status} and not taking {item.channel.name} work now.",
            field="agent_id",
        )
    refused = (
        Offer.objects.filter(work_item=item, agent=agent, outcome__in=Offer.REFUSALS)
        .values_list("outcome", flat=True)
        .first()
    )
    if refused is not None:
        done = {Offer.Outcome.DECLINED: "declined", Offer.Outcome.TIMED_OUT: "missed"}
        raise Conflict(
            f"{agent.name} already {done.get(refused, 'handed on')} this item; it is not "
            "offered to them again.",
            field="agent_id",
        )
