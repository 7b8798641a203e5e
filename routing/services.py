"""Routing services: enqueue work, run rounds, and every transition of offers and work items.

Correctness across processes comes from the database: an item is claimed with a
state-guarded UPDATE (its row count checked) while the agent's row is locked, so two rounds
running at once can neither offer one item twice nor overfill an agent.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

import contactcenter.services as crm
from contactcenter.errors import Conflict, NotFound
from contactcenter.models import Interaction, Message
from contactcenter.realtime import after_commit
from routing import engine, events, selectors
from routing.models import Agent, Offer, PresenceStatus, ServiceChannel, WorkItem

logger = logging.getLogger(__name__)

# Rounds in one process take turns: the engine plans from a snapshot, and two rounds planning
# from the same snapshot would only race for the same rows. Across processes the row locks
# and guarded updates below keep the result correct.
_ROUND_LOCK = threading.Lock()
# Waiting visitors told their exact place in line; the rest learn they are further back.
ANNOUNCED_POSITIONS = 100


def request_round() -> None:
    """Run a routing round once the current transaction commits."""
    from routing import tasks

    after_commit(tasks.run_routing_round.delay)


# --- intake -----------------------------------------------------------------------------------


def enqueue(interaction: Interaction, *, now: datetime | None = None) -> WorkItem:
    """Put an interaction in its channel's queue."""
    now = now or timezone.now()
    channel = (
        ServiceChannel.objects.select_related("default_queue__routing_config")
        .filter(kind=interaction.channel)
        .first()
    )
    if channel is None or channel.default_queue is None:
        raise Conflict(f"No queue takes {interaction.get_channel_display()} work yet.")
    queue = channel.default_queue
    item = WorkItem.objects.create(
        interaction=interaction,
        channel=channel,
        queue=queue,
        units=queue.routing_config.units_per_item,
        enqueued_at=now,
    )
    _announce_position(
        interaction.pk,
        selectors.queue_position(item),
        selectors.agents_available(queue.pk, channel.pk),
    )
    events.queue_changed()
    request_round()
    return item


# --- rounds -----------------------------------------------------------------------------------


def run_round(*, now: datetime | None = None) -> list[Offer]:
    """Offer waiting items to the best eligible agents; returns the offers made."""
    with _ROUND_LOCK:
        now = now or timezone.now()
        agents = selectors.agent_states()
        items, timeouts = selectors.waiting_items(agents)
        if not items:
            return []
        assignments = engine.plan(items, agents, now)
        by_id = {item.id: item for item in items}
        offers = []
        for assignment in assignments:
            item = by_id[assignment.item_id]
            offer = _make_offer(
                item, assignment.agent_id, now=now, timeout=timedelta(seconds=timeouts[item.id])
            )
            if offer is not None:
                offers.append(offer)
        announce_queue_positions({by_id[offer.work_item_id].queue_id for offer in offers})
        return offers


def announce_queue_positions(queue_ids: set[int]) -> None:
    """Tell the visitors at the head of these queues their new place in line.

    Only the first ``ANNOUNCED_POSITIONS`` hear their place, so a move costs a bounded number
    of pushes however long the line is. The visitor just behind them hears that they are
    beyond it (an item returned to the line can push them there); the rest were told so at
    enqueue, which stays true until they reach the head.
    """
    for queue_id in queue_ids:
        waiting = selectors.waiting_line(queue_id, limit=ANNOUNCED_POSITIONS + 1)
        available = {
            channel_id: selectors.agents_available(queue_id, channel_id)
            for channel_id in {channel_id for _, channel_id in waiting}
        }
        for position, (interaction_id, channel_id) in enumerate(waiting, start=1):
            _announce_position(interaction_id, position, available[channel_id])


def _announce_position(interaction_id: int, position: int, agents_available: int) -> None:
    beyond = position > ANNOUNCED_POSITIONS
    events.chat_status(
        interaction_id,
        state="waiting",
        position=None if beyond else position,
        position_beyond=ANNOUNCED_POSITIONS if beyond else None,
        agents_available=agents_available,
    )


def _make_offer(
    item: engine.WaitingItem, agent_id: int, *, now: datetime, timeout: timedelta
) -> Offer | None:
    """Claim the item for the agent, re-checking the plan against the locked agent row."""
    try:
        with transaction.atomic():
            agent = (
                Agent.objects.select_for_update(of=("self",))
                .filter(pk=agent_id, status__channels__id=item.channel_id)
                .first()
            )
            if agent is None:
                return None
            used = selectors.used_units([agent.pk]).get(agent.pk, 0)
            if used + item.units > agent.capacity:
                return None
            claimed = WorkItem.objects.filter(pk=item.id, status=WorkItem.Status.QUEUED).update(
                status=WorkItem.Status.OFFERED, agent=agent
            )
            if claimed != 1:
                return None
            offer = Offer.objects.create(
                work_item_id=item.id, agent=agent, created_at=now, expires_at=now + timeout
            )
            events.offer_created(agent.pk, selectors.offer_payloads([offer], now)[0])
            events.agent_updated(agent.pk)
            return offer
    except IntegrityError:
        # Another round offered this item to this agent first: nothing was written.
        return None


# --- offers -----------------------------------------------------------------------------------


def accept_offer(*, agent: Agent, offer_id: int, now: datetime | None = None) -> WorkItem:
    now = now or timezone.now()
    with transaction.atomic():
        offer = selectors.access_offer(agent, offer_id, for_update=True)
        if offer.outcome != Offer.Outcome.PENDING:
            raise Conflict(f"This offer was already {offer.get_outcome_display().lower()}.")
        expired = offer.expires_at <= now
        if not expired:
            claimed = WorkItem.objects.filter(
                pk=offer.work_item_id, status=WorkItem.Status.OFFERED, agent=agent
            ).update(status=WorkItem.Status.ASSIGNED, accepted_at=now)
            if claimed:
                return _start_work(offer, agent, now=now)
            # The customer left while the offer was on its way: the offer ends with the item.
            _end_offer(offer, outcome=Offer.Outcome.CANCELLED, now=now)
            events.agent_updated(agent.pk)
    if not expired:
        raise Conflict("The customer has left; this chat is no longer waiting.")
    # Outside the atomic block above, so the time-out is kept while the agent hears "too late".
    expire_offer(offer_id=offer_id, now=now)
    raise Conflict("This offer has expired.")


def _start_work(offer: Offer, agent: Agent, *, now: datetime) -> WorkItem:
    _end_offer(offer, outcome=Offer.Outcome.ACCEPTED, now=now)
    item = selectors.work_items_with_context().get(pk=offer.work_item_id)
    _system_note(item, f"{agent.name} joined the chat.", agent_id=agent.pk)
    events.work_assigned(agent.pk, selectors.work_item_payloads([item])[0])
    events.chat_status(item.interaction_id, state="connected", agent_name=agent.name)
    return item


def decline_offer(
    *, agent: Agent, offer_id: int, reason: str = "", now: datetime | None = None
) -> None:
    now = now or timezone.now()
    reason = crm.clean_text(reason, field="reason", max_length=200, label="Reason")
    with transaction.atomic():
        offer = selectors.access_offer(agent, offer_id, for_update=True)
        if offer.outcome != Offer.Outcome.PENDING:
            raise Conflict(f"This offer was already {offer.get_outcome_display().lower()}.")
        _requeue(offer, outcome=Offer.Outcome.DECLINED, now=now, reason=reason)


def expire_offer(*, offer_id: int, now: datetime | None = None) -> bool:
    """Time out a pending offer whose push time-out has passed; False if it already ended."""
    now = now or timezone.now()
    with transaction.atomic():
        offer = (
            Offer.objects.select_for_update()
            .filter(pk=offer_id, outcome=Offer.Outcome.PENDING, expires_at__lte=now)
            .first()
        )
        if offer is None:
            return False
        _requeue(offer, outcome=Offer.Outcome.TIMED_OUT, now=now)
        return True


def expire_offers(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    due = Offer.objects.filter(outcome=Offer.Outcome.PENDING, expires_at__lte=now).values_list(
        "pk", flat=True
    )
    return sum(expire_offer(offer_id=offer_id, now=now) for offer_id in list(due))


def _end_offer(offer: Offer, *, outcome: str, now: datetime, reason: str = "") -> None:
    offer.outcome = outcome
    offer.responded_at = now
    offer.decline_reason = reason
    offer.save(update_fields=["outcome", "responded_at", "decline_reason"])
    events.offer_closed(
        agent_id=offer.agent_id, offer_id=offer.pk, work_item_id=offer.work_item_id, outcome=outcome
    )


def _requeue(offer: Offer, *, outcome: str, now: datetime, reason: str = "") -> None:
    """End a pending offer and put its item back in the queue, keeping its place in line."""
    queue_id = _return_to_queue(offer, outcome=outcome, now=now, reason=reason)
    _line_moved(offer.agent_id, {queue_id})


def _return_to_queue(offer: Offer, *, outcome: str, now: datetime, reason: str = "") -> int:
    """The data half of ``_requeue``; returns the item's queue."""
    _end_offer(offer, outcome=outcome, now=now, reason=reason)
    WorkItem.objects.filter(
        pk=offer.work_item_id, status=WorkItem.Status.OFFERED, agent_id=offer.agent_id
    ).update(status=WorkItem.Status.QUEUED, agent=None)
    return offer.work_item.queue_id


def _line_moved(agent_id: int, queue_ids: set[int]) -> None:
    """After items returned to their queues: tell the waiting, the agent, and route again."""
    announce_queue_positions(queue_ids)
    events.agent_updated(agent_id)
    events.queue_changed()
    request_round()


# --- presence ---------------------------------------------------------------------------------


def set_presence(*, agent: Agent, status_id: int | None, now: datetime | None = None) -> Agent:
    """Change the agent's presence; offers on channels the new status does not accept end."""
    now = now or timezone.now()
    status = None
    if status_id is not None:
        status = PresenceStatus.objects.filter(pk=status_id).first()
        if status is None:
            raise NotFound(f"No presence status {status_id}.", field="status_id")
    with transaction.atomic():
        agent = Agent.objects.select_for_update().get(pk=agent.pk)
        if agent.status_id != (status.pk if status else None):
            agent.status = status
            agent.status_since = now
            agent.save(update_fields=["status", "status_since"])
        open_channels = set(status.channels.values_list("pk", flat=True)) if status else set()
        stranded = (
            Offer.objects.select_for_update(of=("self",))
            .select_related("work_item")
            .filter(agent=agent, outcome=Offer.Outcome.PENDING)
            .exclude(work_item__channel_id__in=open_channels)
        )
        returned_to = {
            _return_to_queue(offer, outcome=Offer.Outcome.CANCELLED, now=now) for offer in stranded
        }
        # Waiting visitors of every queue the agent serves learn whether anyone is there.
        _line_moved(agent.pk, returned_to | set(agent.queues.values_list("pk", flat=True)))
    return agent


def console_alive(*, agent: Agent, now: datetime | None = None) -> None:
    """An open console reports that the agent is at their desk."""
    Agent.objects.filter(pk=agent.pk).update(console_seen_at=now or timezone.now())


def sign_out_absent_agents(*, now: datetime | None = None) -> int:
    """Set offline the agents with a presence whose consoles stopped reporting in.

    Without this an agent who closes the browser stays available and every item offered to
    them waits out the push time-out. Agents who never opened a console (the demo's simulated
    agents) are left alone. Their assigned work stays theirs: it shows on the supervisor view
    and on their console when they return.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.CONSOLE_GRACE_SECONDS)
    absent = Agent.objects.filter(status__isnull=False, console_seen_at__lte=cutoff)
    signed_out = 0
    for agent_id in list(absent.values_list("pk", flat=True)):
        try:
            with transaction.atomic():
                # Checked again under the row lock: a console may have reported in meanwhile.
                agent = absent.select_for_update().filter(pk=agent_id).first()
                if agent is None:
                    continue
                set_presence(agent=agent, status_id=None, now=now)
                signed_out += 1
        except Exception:
            # One agent's failure must not keep the others at an empty desk or stop the sweep.
            logger.exception("could not sign out absent agent %s", agent_id)
    return signed_out


# --- work -------------------------------------------------------------------------------------


def send_agent_message(*, agent: Agent, work_item_id: int, body: str) -> Message:
    item = selectors.access_work_item(agent, work_item_id)
    with transaction.atomic():
        return crm.post_agent_message(
            interaction=item.interaction,
            author=agent.user,
            body=body,
            work_item_id=item.pk,
            agent_id=agent.pk,
        )


def close_work(*, agent: Agent, work_item_id: int, now: datetime | None = None) -> WorkItem:
    """The agent finishes the item: the contact closes and their capacity frees up."""
    now = now or timezone.now()
    with transaction.atomic():
        item = selectors.access_work_item(agent, work_item_id, for_update=True)
        item.status = WorkItem.Status.CLOSED
        item.closed_at = now
        item.save(update_fields=["status", "closed_at"])
        Agent.objects.filter(pk=agent.pk).update(last_work_ended_at=now)
        _system_note(item, f"{agent.name} closed the chat.", agent_id=agent.pk)
        crm.close_interaction(item.interaction, now=now)
        events.work_closed(agent.pk, item.pk)
        events.chat_status(item.interaction_id, state="closed")
        events.agent_updated(agent.pk)
        request_round()
    return item


def _system_note(item: WorkItem, body: str, *, agent_id: int) -> None:
    """A line in the transcript that both the customer and the agent see."""
    crm.append_message(
        item.interaction,
        sender=Message.Sender.SYSTEM,
        body=body,
        work_item_id=item.pk,
        agent_id=agent_id,
    )


class _OfferedMeanwhile(Exception):
    """A round offered the item between reading its offers and locking it."""


def customer_left(*, interaction_id: int, now: datetime | None = None) -> None:
    """The customer closed the chat: waiting work is abandoned, the agent is told."""
    now = now or timezone.now()
    attempts = 3
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                _abandon_work(interaction_id, now=now, strict=attempt < attempts)
            return
        except _OfferedMeanwhile:
            continue


def _abandon_work(interaction_id: int, *, now: datetime, strict: bool) -> None:
    # Offers are locked before their work items, the order every other transition uses, so
    # that a concurrent accept or time-out cannot deadlock with this one. A round may offer
    # the item in between; then the read is stale and the caller starts over (after the last
    # try, accepting that offer finds the item gone and ends it).
    pending = list(
        Offer.objects.select_for_update(of=("self",)).filter(
            work_item__interaction_id=interaction_id, outcome=Offer.Outcome.PENDING
        )
    )
    items = list(
        WorkItem.objects.select_for_update(of=("self",))
        .filter(
            interaction_id=interaction_id,
            status__in=[WorkItem.Status.QUEUED, *selectors.ACTIVE_STATUSES],
        )
        .select_related("interaction")
    )
    offered = {offer.work_item_id for offer in pending}
    if strict and any(
        item.status == WorkItem.Status.OFFERED and item.pk not in offered for item in items
    ):
        raise _OfferedMeanwhile
    for item in items:
        if item.status == WorkItem.Status.ASSIGNED:
            _system_note(item, "The customer left the chat.", agent_id=item.agent_id)
            continue
        for offer in pending:
            if offer.work_item_id == item.pk:
                _end_offer(offer, outcome=Offer.Outcome.CANCELLED, now=now)
        offered_to = item.agent_id
        item.status = WorkItem.Status.ABANDONED
        item.agent = None
        item.closed_at = now
        item.save(update_fields=["status", "agent", "closed_at"])
        crm.close_interaction(item.interaction, now=now)
        announce_queue_positions({item.queue_id})
        if offered_to is not None:
            events.agent_updated(offered_to)
            request_round()
        events.queue_changed()


# --- sweeps -----------------------------------------------------------------------------------


def run_sweep(*, now: datetime | None = None) -> int:
    """The periodic safety net: time out overdue offers, set absent agents offline, then run a
    round. Returns the number of offers made."""
    now = now or timezone.now()
    expire_offers(now=now)
    sign_out_absent_agents(now=now)
    return len(run_round(now=now))
