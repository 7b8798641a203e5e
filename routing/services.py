"""Routing services: enqueue work, run rounds, and every transition of offers and work items.

Correctness across processes comes from the database: a round claims items only while it
holds their rows (FOR UPDATE SKIP LOCKED, still queued, still in the planned queue) and the
rows of the agents it offers them to, re-reading those agents' load under the locks, so two
rounds running at once can neither offer one item twice nor overfill an agent.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

import contactcenter.crm.services as crm
from contactcenter.crm import events as crm_events
from contactcenter.crm.models import ChannelKind, Interaction, Message
from contactcenter.kernel.errors import Conflict, DomainError, InvalidInput, NotFound
from contactcenter.kernel.realtime import after_commit
from routing import claims, engine, events, intake, selectors
from routing.models import (
    Agent,
    AgentStatusChange,
    DeclineReason,
    Disposition,
    Offer,
    PresenceStatus,
    Queue,
    Skill,
    WorkItem,
    WorkItemMove,
    WorkItemSkill,
)

logger = logging.getLogger(__name__)

# Rounds in one process take turns: the engine plans from a snapshot, and two rounds planning
# from the same snapshot would only race for the same rows. Across processes the row locks
# and guarded updates below keep the result correct.
_ROUND_LOCK = threading.Lock()
# Waiting visitors told their exact place in line; the rest learn they are further back.
ANNOUNCED_POSITIONS = 100
# Channels whose customers watch a waiting page and hear their place in line; an email or a
# text message waits without one.
WATCHED_CHANNELS = frozenset({ChannelKind.CHAT})
# Offers claimed per transaction: big enough to amortise the round trips, small enough that
# agents' row locks are not held for long.
OFFER_BATCH = 1000


# Set while a round is requested and has not started yet: triggers that find it set are
# served by that round, so a burst of enqueues runs a few rounds, not one each. Set only
# together with queueing the task that serves it, cleared only by a starting round. It
# expires on its own in case that task is lost (the sweep routes meanwhile).
ROUND_PENDING_KEY = "routing:round-pending"
ROUND_PENDING_SECONDS = 10
# A requested round that fails asks for another this much later.
ROUND_FAILED_RETRY_SECONDS = 1
# Requested rounds run at most ROUTING_ROUND_SLOTS at a time across all workers: more would
# only race for the same agents and starve the rest of the machine. A slot held by a worker
# that died frees itself after ROUND_SLOT_SECONDS; a request that finds every slot taken
# tries again after ROUND_SLOT_RETRY_SECONDS.
ROUND_SLOT_KEY = "routing:round-slot:{}"
ROUND_SLOT_SECONDS = 30
ROUND_SLOT_RETRY_SECONDS = 0.02
# How many requested rounds have started, for operators and for the coalescing tests.
ROUNDS_STARTED_KEY = "routing:rounds-started"


def request_round(*, if_room_for: WorkItem | None = None) -> None:
    """Run a routing round once the current transaction commits, unless one is pending.

    Every trigger of one transaction shares one dispatch; across transactions and processes
    the pending key in the shared cache coalesces them. A new item (``if_room_for``) asks for
    a round only if, once it is committed, some agent has room for it: while everyone is
    full, a burst of arrivals runs no rounds at all, and the agents' freed capacity brings
    the round that serves it. Checked after the commit, so that capacity freed at the same
    moment either is seen here or triggers a round that sees the committed item.
    """
    item_key = None
    if if_room_for is not None:
        # An item taking a share of capacity takes at least one unit of whoever gets it.
        percent = if_room_for.queue.routing_config.capacity_percent
        units = 1 if percent is not None else if_room_for.units
        item_key = (if_room_for.queue_id, if_room_for.channel_id, units)
    current = transaction.get_connection()
    if current.in_atomic_block:
        for _, callback, _ in current.run_on_commit:
            if getattr(callback, "round_not_yet_dispatched", False):
                # One dispatch per transaction: it asks unconditionally if any trigger did,
                # else if there is room for any of the new items.
                if callback.only_if_room_for is not None:
                    if item_key is None:
                        callback.only_if_room_for = None
                    else:
                        callback.only_if_room_for.add(item_key)
                return

    def dispatch_round() -> None:
        # Marked done when it runs: a test's captured callbacks stay in the list after they
        # run, and must not keep later transactions from dispatching.
        dispatch_round.round_not_yet_dispatched = False
        wanted = dispatch_round.only_if_room_for
        if wanted is not None and not any(
            selectors.has_agent_with_room(*key) for key in sorted(wanted)
        ):
            return
        _dispatch_round()

    dispatch_round.round_not_yet_dispatched = True
    dispatch_round.only_if_room_for = None if item_key is None else {item_key}
    after_commit(dispatch_round)


def _dispatch_round(*, countdown: float | None = None) -> None:
    from routing import tasks

    if cache.add(ROUND_PENDING_KEY, 1, timeout=ROUND_PENDING_SECONDS):
        tasks.run_routing_round.apply_async(countdown=countdown)


def rounds_started() -> int:
    return cache.get(ROUNDS_STARTED_KEY, 0)


def run_requested_round() -> list[claims.MadeOffer] | None:
    """Serve the pending round request, unless a round started since has.

    Only a starting round clears the pending flag, so a flag that is gone means the
    requesters' work is in a newer round's snapshot. Returns the offers made, or None when
    there was nothing to do or every round slot was taken (the request is then retried
    shortly, the flag still set).
    """
    from routing import tasks

    if cache.get(ROUND_PENDING_KEY) is None:
        return None
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # One process, rounds inline and taking turns (_ROUND_LOCK): no slots to share.
        return _start_requested_round()
    slot = _take_round_slot()
    if slot is None:
        tasks.run_routing_round.apply_async(countdown=ROUND_SLOT_RETRY_SECONDS)
        return None
    key, token = slot
    try:
        return _start_requested_round()
    finally:
        # Only our own: a slot held past ROUND_SLOT_SECONDS may belong to another round now.
        if cache.get(key) == token:
            cache.delete(key)


def _take_round_slot() -> tuple[str, str] | None:
    token = uuid.uuid4().hex
    for number in range(settings.ROUTING_ROUND_SLOTS):
        key = ROUND_SLOT_KEY.format(number)
        if cache.add(key, token, timeout=ROUND_SLOT_SECONDS):
            return key, token
    return None


def _start_requested_round() -> list[claims.MadeOffer]:
    # Cleared before the snapshot is read, so that work committed after this point requests
    # a new round and work committed before it is in this round's snapshot.
    cache.delete(ROUND_PENDING_KEY)
    if not cache.add(ROUNDS_STARTED_KEY, 1, timeout=None):
        try:
            cache.incr(ROUNDS_STARTED_KEY)
        except ValueError:
            cache.add(ROUNDS_STARTED_KEY, 1, timeout=None)
    try:
        return run_round()
    except Exception:
        # The requests it was serving were cleared with the flag: ask again, a moment later
        # so that a database that is down is not hammered.
        logger.exception("routing round failed; another is requested")
        _dispatch_round(countdown=ROUND_FAILED_RETRY_SECONDS)
        raise


# --- intake -----------------------------------------------------------------------------------


# A call an agent placed waits at least this long for that agent (who may first have to close
# the chat they escalated), whatever the voice queue's own preference.
ESCALATION_PREFERENCE_SECONDS = 120


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
                selectors.first_customer_message(interaction.pk)
                if intake.reads_first_message()
                else ""
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
        preferred_agent_id = selectors.last_agent_of(
            customer.pk, exclude_interaction=interaction.pk
        )
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
    WorkItemSkill.objects.bulk_create(
        WorkItemSkill(
            work_item=item,
            skill_id=need.skill_id,
            min_level=need.min_level,
            drop_after_seconds=need.drop_after_seconds,
        )
        for need in decision.skills
    )
    if interaction.channel in WATCHED_CHANNELS:
        _announce_position(
            interaction.pk,
            selectors.queue_position(item),
            selectors.agents_available(queue.pk, channel.pk),
        )
    events.queue_changed()
    request_round(if_room_for=item)
    return item


# --- rounds -----------------------------------------------------------------------------------


def run_round(*, now: datetime | None = None) -> list[claims.MadeOffer]:
    """Offer waiting items to the best eligible agents; returns the offers made."""
    with _ROUND_LOCK:
        now = now or timezone.now()
        agents = selectors.agent_states(now)
        window = selectors.round_item_window(agents)
        waiting = selectors.waiting_items(agents, limit=window)
        if not waiting.items:
            return []
        blocks = selectors.channel_blocks()
        assignments = engine.plan(waiting.items, agents, now, blocks=blocks)
        if (
            waiting.cut_short
            and window < selectors.ROUND_ITEM_LIMIT
            and _free_agent_left_idle(agents, assignments)
        ):
            waiting = selectors.waiting_items(agents, limit=selectors.ROUND_ITEM_LIMIT)
            assignments = engine.plan(waiting.items, agents, now, blocks=blocks)
        items, timeouts = waiting.items, waiting.timeouts
        by_id = {item.id: item for item in items}
        limits = {agent.id: agent.channel_limits for agent in agents}
        offers = []
        for start in range(0, len(assignments), OFFER_BATCH):
            batch = [
                (by_id[assignment.item_id], assignment)
                for assignment in assignments[start : start + OFFER_BATCH]
            ]
            offers += _make_offers(batch, now=now, timeouts=timeouts, blocks=blocks, limits=limits)
        announce_queue_positions({by_id[offer.work_item_id].queue_id for offer in offers})
    _auto_accept(offers, now=now)
    if len(offers) < len(assignments) and not settings.CELERY_TASK_ALWAYS_EAGER:
        # Some claims were lost to another round or transition since the snapshot: the agents
        # planned for them may still have room for other items, so look again soon.
        request_round()
    return offers


def _auto_accept(offers: list[claims.MadeOffer], *, now: datetime) -> None:
    """Accept at once the offers made to agents whose presence status says so."""
    if not offers:
        return
    accepting = {
        agent.pk: agent
        for agent in Agent.objects.select_related("user").filter(
            pk__in={offer.agent_id for offer in offers}, status__auto_accept=True
        )
    }
    for offer in offers:
        agent = accepting.get(offer.agent_id)
        if agent is None:
            continue
        try:
            accept_offer(agent=agent, offer_id=offer.id, now=now)
        except DomainError:
            # The customer left or the agent changed status meanwhile: the offer says so.
            continue


def _free_agent_left_idle(
    agents: list[engine.AgentState], assignments: list[engine.Assignment]
) -> bool:
    planned = {assignment.agent_id for assignment in assignments}
    return any(
        agent.free_units > 0 and agent.open_channel_ids and agent.id not in planned
        for agent in agents
    )


def announce_queue_positions(queue_ids: set[int]) -> None:
    """Tell the visitors at the head of these queues their new place in line.

    Only the first ``ANNOUNCED_POSITIONS`` hear their place, so a move costs a bounded number
    of pushes however long the line is. The visitor just behind them hears that they are
    beyond it (an item returned to the line can push them there); the rest were told so at
    enqueue, which stays true until they reach the head.
    """
    statuses = []
    watched = intake.channel_ids(WATCHED_CHANNELS)
    for queue_id in queue_ids:
        waiting = selectors.waiting_line(queue_id, limit=ANNOUNCED_POSITIONS + 1)
        available = {
            channel_id: selectors.agents_available(queue_id, channel_id)
            for channel_id in {channel_id for _, channel_id in waiting} & watched
        }
        statuses += [
            (interaction_id, _position_status(position, available[channel_id]))
            for position, (interaction_id, channel_id) in enumerate(waiting, start=1)
            if channel_id in watched
        ]
    if statuses:
        events.chat_statuses(statuses)


def chat_status_now(interaction_id: int) -> dict[str, Any]:
    """The ``chat.status`` a visitor coming back to their chat should see."""
    interaction = Interaction.objects.filter(pk=interaction_id).first()
    if interaction is None or interaction.status != Interaction.Status.OPEN:
        return events.chat_status_data(state="closed")
    item = (
        WorkItem.objects.filter(interaction_id=interaction_id)
        .select_related("agent__user")
        .order_by("-id")
        .first()
    )
    if item is None:
        if interaction.bot_status == Interaction.BotStatus.ACTIVE:
            return events.chat_status_data(state="assistant")
        return events.chat_status_data(state="waiting")
    if item.status == WorkItem.Status.ASSIGNED:
        return events.chat_status_data(state="connected", agent_name=item.agent.name)
    if item.status in (WorkItem.Status.QUEUED, WorkItem.Status.OFFERED):
        return _position_status(
            selectors.queue_position(item) if item.status == WorkItem.Status.QUEUED else 1,
            selectors.agents_available(item.queue_id, item.channel_id),
        )
    return events.chat_status_data(state="closed")


def end_chats_left_behind(*, now: datetime | None = None) -> int:
    """End the web chats whose visitor went away and did not come back in time."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.CHAT_RESUME_SECONDS)
    gone = list(
        Interaction.objects.filter(
            channel=ChannelKind.CHAT,
            status=Interaction.Status.OPEN,
            customer_away_since__lt=cutoff,
        ).values_list("pk", flat=True)[:500]
    )
    ended = 0
    for interaction_id in gone:
        # Claimed by clearing the mark: a concurrent sweep, or the visitor coming back right
        # now, finds it gone; a chat an agent holds stays open, and is not ended twice.
        claimed = Interaction.objects.filter(
            pk=interaction_id, customer_away_since__lt=cutoff
        ).update(customer_away_since=None)
        if not claimed:
            continue
        try:
            customer_left(interaction_id=interaction_id, now=now)
        except Exception:
            # Marked away again, so that the next sweep tries once more.
            Interaction.objects.filter(pk=interaction_id, customer_away_since=None).update(
                customer_away_since=cutoff
            )
            logger.exception("ending the departed chat %s failed", interaction_id)
            continue
        ended += 1
    return ended


def _announce_position(interaction_id: int, position: int, agents_available: int) -> None:
    events.chat_statuses([(interaction_id, _position_status(position, agents_available))])


def _position_status(position: int, agents_available: int) -> dict[str, Any]:
    beyond = position > ANNOUNCED_POSITIONS
    return events.chat_status_data(
        state="waiting",
        position=None if beyond else position,
        position_beyond=ANNOUNCED_POSITIONS if beyond else None,
        agents_available=agents_available,
    )


def _make_offers(
    planned: list[tuple[engine.WaitingItem, engine.Assignment]],
    *,
    now: datetime,
    timeouts: dict[int, int],
    blocks: dict[int, frozenset[int]],
    limits: dict[int, Mapping[int, int]],
) -> list[claims.MadeOffer]:
    """Claim planned items for their agents in one transaction, re-checking the plan.

    The plan came from a snapshot that other rounds and transitions may have changed since.
    So the agents' rows are locked, and under those locks each agent's presence, load and
    refusals are read again (channel limits are configuration, taken from the snapshot); an
    assignment that no longer fits is dropped and its item waits for the next round. Items
    are claimed only if still queued and in the planned queue, skipping any another
    transaction holds: whoever holds it is changing it.
    """
    planned_queue = {item.id: item.queue_id for item, _ in planned}
    with transaction.atomic():
        state = claims.lock_and_read(
            [assignment.agent_id for _, assignment in planned], planned_queue, now
        )
        made: list[claims.Claim] = []
        for item, assignment in planned:
            agent_id = assignment.agent_id
            capacity = state.capacities.get(agent_id)
            if (
                capacity is None
                or item.id not in state.claimable
                or (item.id, agent_id) in state.refused
                or item.channel_id not in state.open_channels.get(agent_id, ())
            ):
                continue
            units = item.units_for(capacity)
            load = state.loads.setdefault(agent_id, selectors.Load())
            if not _has_room(load, capacity, limits[agent_id], item.channel_id, units, blocks):
                continue
            load.units += units
            load.items += 1
            load.per_channel[item.channel_id] = load.per_channel.get(item.channel_id, 0) + 1
            made.append(claims.Claim(item, assignment, units, timeouts[item.id]))
        if not made:
            return []
        offers = claims.write_offers(made, now)
        events.offers_created(
            [(offer.agent_id, payload) for offer, payload in offers],
            {offer.agent_id: state.agent_payloads[offer.agent_id] for offer, _ in offers},
        )
    return [offer for offer, _ in offers]


def _has_room(
    load: selectors.Load,
    capacity: int,
    limits: Mapping[int, int],
    channel_id: int,
    units: int,
    blocks: dict[int, frozenset[int]],
) -> bool:
    if load.units + units > capacity:
        return False
    limit = limits.get(channel_id)
    if limit is not None and load.per_channel.get(channel_id, 0) >= limit:
        return False
    return not any(
        channel_id in blocks.get(held, frozenset())
        for held, count in load.per_channel.items()
        if count
    )


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
    # The agent answered, only too late: they are at their desk, so no missed-offer status.
    expire_offer(offer_id=offer_id, now=now, agent_answered=True)
    raise Conflict("This offer has expired.")


def _start_work(offer: Offer, agent: Agent, *, now: datetime) -> WorkItem:
    _end_offer(offer, outcome=Offer.Outcome.ACCEPTED, now=now)
    item = selectors.work_items_with_context().get(pk=offer.work_item_id)
    joined = "joined the chat" if item.interaction.channel == ChannelKind.CHAT else "took over"
    _system_note(item, f"{agent.name} {joined}.", agent_id=agent.pk)
    crm.work_started(item.interaction, agent_id=agent.pk)
    events.work_assigned(agent.pk, selectors.work_item_payloads([item])[0])
    events.chat_status(item.interaction_id, state="connected", agent_name=agent.name)
    return item


def decline_offer(
    *,
    agent: Agent,
    offer_id: int,
    reason_id: int | None = None,
    note: str = "",
    now: datetime | None = None,
) -> None:
    """Decline with a reason from the configured list (required when the list has any)."""
    now = now or timezone.now()
    note = crm.clean_text(note, field="note", max_length=200, label="Note")
    reason = _decline_reason(reason_id)
    with transaction.atomic():
        offer = selectors.access_offer(agent, offer_id, for_update=True)
        if offer.outcome != Offer.Outcome.PENDING:
            raise Conflict(f"This offer was already {offer.get_outcome_display().lower()}.")
        _requeue(offer, outcome=Offer.Outcome.DECLINED, now=now, reason=reason, note=note)


def _decline_reason(reason_id: int | None) -> DeclineReason | None:
    active = DeclineReason.objects.filter(is_active=True)
    if reason_id is None:
        if active.exists():
            raise InvalidInput("Pick a reason for declining.", field="reason_id")
        return None
    reason = active.filter(pk=reason_id).first()
    if reason is None:
        raise InvalidInput(f"No decline reason {reason_id}.", field="reason_id")
    return reason


def expire_offer(
    *, offer_id: int, now: datetime | None = None, agent_answered: bool = False
) -> bool:
    """Time out a pending offer whose push time-out has passed; False if it already ended.

    Unless the agent answered (too late), they then move to the routing configuration's
    missed-offer status, if it has one, so that an agent who is not at their desk stops
    receiving work.
    """
    now = now or timezone.now()
    with transaction.atomic():
        offer = (
            Offer.objects.select_for_update(of=("self",))
            .select_related("work_item__queue__routing_config")
            .filter(pk=offer_id, outcome=Offer.Outcome.PENDING, expires_at__lte=now)
            .first()
        )
        if offer is None:
            return False
        _requeue(offer, outcome=Offer.Outcome.TIMED_OUT, now=now)
    # A transaction of its own: presence locks the agent before their offers, the reverse
    # of the order above.
    missed_status_id = offer.work_item.queue.routing_config.status_after_missed_offer_id
    if missed_status_id is not None and not agent_answered:
        agent = Agent.objects.get(pk=offer.agent_id)
        if agent.status_id is not None and agent.status_id != missed_status_id:
            set_presence(
                agent=agent,
                status_id=missed_status_id,
                now=now,
                cause=AgentStatusChange.Cause.MISSED_OFFER,
                only_from_status_id=agent.status_id,
            )
    return True


def expire_offers(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    due = Offer.objects.filter(outcome=Offer.Outcome.PENDING, expires_at__lte=now).values_list(
        "pk", flat=True
    )
    return sum(expire_offer(offer_id=offer_id, now=now) for offer_id in list(due))


def _end_offer(
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


def _requeue(
    offer: Offer,
    *,
    outcome: str,
    now: datetime,
    reason: DeclineReason | None = None,
    note: str = "",
) -> None:
    """End a pending offer and put its item back in the queue, keeping its place in line."""
    queue_id = _return_to_queue(offer, outcome=outcome, now=now, reason=reason, note=note)
    _line_moved(offer.agent_id, {queue_id})


def _return_to_queue(
    offer: Offer,
    *,
    outcome: str,
    now: datetime,
    reason: DeclineReason | None = None,
    note: str = "",
) -> int:
    """The data half of ``_requeue``; returns the item's queue."""
    _end_offer(offer, outcome=outcome, now=now, reason=reason, note=note)
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


def set_presence(
    *,
    agent: Agent,
    status_id: int | None,
    now: datetime | None = None,
    cause: str = AgentStatusChange.Cause.AGENT,
    changed_by: AbstractBaseUser | None = None,
    only_from_status_id: int | None = None,
) -> Agent:
    """Change the agent's presence, recording who changed it and why; offers on channels the
    new status does not accept end.

    With ``only_from_status_id`` (a system change decided on an earlier read) nothing
    changes unless the agent is still in that status under the row lock.
    """
    now = now or timezone.now()
    status = None
    if status_id is not None:
        status = PresenceStatus.objects.filter(pk=status_id).first()
        if status is None:
            raise NotFound(f"No presence status {status_id}.", field="status_id")
    with transaction.atomic():
        agent = (
            Agent.objects.select_for_update(of=("self",)).select_related("status").get(pk=agent.pk)
        )
        if only_from_status_id is not None and agent.status_id != only_from_status_id:
            return agent
        if agent.status_id != (status.pk if status else None):
            AgentStatusChange.objects.create(
                agent=agent,
                from_status=agent.status,
                to_status=status,
                from_name=agent.status.name if agent.status else "Offline",
                to_name=status.name if status else "Offline",
                changed_at=now,
                changed_by=changed_by,
                cause=cause,
            )
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
                set_presence(
                    agent=agent, status_id=None, now=now, cause=AgentStatusChange.Cause.ABSENT
                )
                signed_out += 1
        except Exception:
            # One agent's failure must not keep the others at an empty desk or stop the sweep.
            logger.exception("could not sign out absent agent %s", agent_id)
    return signed_out


# --- work -------------------------------------------------------------------------------------


def send_agent_message(*, agent: Agent, work_item_id: int, body: str, files: tuple = ()) -> Message:
    item = selectors.access_work_item(agent, work_item_id)
    with transaction.atomic():
        return crm.post_agent_message(
            interaction=item.interaction,
            author=agent.user,
            body=body,
            work_item_id=item.pk,
            agent_id=agent.pk,
            files=files,
        )


def escalate_to_call(*, agent: Agent, work_item_id: int, phone: str = "") -> Interaction:
    """The agent calls the customer of a text conversation they work on: a voice contact on
    the same case, placed by the provider and then routed to this agent first."""
    item = selectors.access_work_item(agent, work_item_id)
    return crm.escalate_to_call(
        item.interaction, agent_id=agent.pk, agent_name=agent.name, phone=phone
    )


def agent_typing(*, agent: Agent, work_item_id: int, typing: bool) -> None:
    """The agent is writing to the customer of a chat they work on (NotFound otherwise)."""
    item = selectors.access_work_item(agent, work_item_id)
    if item.interaction.channel == ChannelKind.CHAT:
        crm_events.agent_typing(item.interaction_id, name=agent.name, typing=typing)


def close_work(
    *,
    agent: Agent,
    work_item_id: int,
    disposition_id: int | None = None,
    now: datetime | None = None,
) -> WorkItem:
    """The agent finishes the item with a disposition (required while any are configured):
    the contact closes, and their capacity frees up once the routing configuration's wrap-up
    time (after-contact work) has passed."""
    now = now or timezone.now()
    with transaction.atomic():
        item = selectors.access_work_item(agent, work_item_id, for_update=True)
        disposition = _disposition(disposition_id)
        wrap_up = item.queue.routing_config.wrap_up_seconds
        item.status = WorkItem.Status.CLOSED
        item.closed_at = now
        item.disposition = disposition
        item.wrap_up_until = now + timedelta(seconds=wrap_up) if wrap_up else None
        item.save(update_fields=["status", "closed_at", "disposition", "wrap_up_until"])
        Agent.objects.filter(pk=agent.pk).update(last_work_ended_at=now)
        _system_note(item, f"{agent.name} closed the conversation.", agent_id=agent.pk)
        crm.close_interaction(item.interaction, now=now)
        events.work_closed(agent.pk, item.pk, wrap_up_until=item.wrap_up_until)
        events.chat_status(item.interaction_id, state="closed")
        events.agent_updated(agent.pk)
        request_round()
    return item


def _disposition(disposition_id: int | None) -> Disposition | None:
    active = Disposition.objects.filter(is_active=True)
    if disposition_id is None:
        if active.exists():
            raise InvalidInput("Choose how the conversation ended.", field="disposition_id")
        return None
    disposition = active.filter(pk=disposition_id).first()
    if disposition is None:
        raise InvalidInput("Choose one of the listed dispositions.", field="disposition_id")
    return disposition


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
    note = crm.clean_text(note, field="note", max_length=1000, label="Note")
    if queue_id is None and to_agent_id is None and skill_id is None:
        raise InvalidInput("Transfer to a queue, an agent or a skill.", field="queue_id")
    queue, colleague = transfer_targets(queue_id, to_agent_id)
    if colleague is not None and colleague.pk == agent.pk:
        raise InvalidInput("Transfer to someone else.", field="agent_id")
    skill = None
    if skill_id is not None:
        skill = Skill.objects.filter(pk=skill_id).first()
        if skill is None:
            raise NotFound(f"No skill {skill_id}.", field="skill_id")
    with transaction.atomic():
        item = selectors.access_work_item(agent, work_item_id, for_update=True)
        target_queue = queue or Queue.objects.select_related("routing_config").get(pk=item.queue_id)
        if colleague is not None:
            check_member(colleague, target_queue)
        if item.interaction.customer_connection == crm.CUSTOMER_LEFT:
            raise Conflict("The customer has left this chat: close it instead.")
        item.status = WorkItem.Status.TRANSFERRED
        item.closed_at = now
        item.save(update_fields=["status", "closed_at"])
        config = target_queue.routing_config
        successor = WorkItem.objects.create(
            interaction=item.interaction,
            channel=item.channel,
            queue=target_queue,
            priority=item.priority,
            units=config.units_per_item,
            enqueued_at=now,
            preferred_agent=colleague,
            preferred_until=(
                now + timedelta(seconds=TRANSFER_PREFERENCE_SECONDS) if colleague else None
            ),
            transferred_from=item,
        )
        # The conversation keeps what it needed (a language, say), plus the skill asked for.
        WorkItemSkill.objects.bulk_create(
            WorkItemSkill(
                work_item=successor,
                skill_id=need.skill_id,
                min_level=need.min_level,
                drop_after_seconds=need.drop_after_seconds,
            )
            for need in WorkItemSkill.objects.filter(work_item=item).exclude(
                skill_id=skill.pk if skill else None
            )
        )
        if skill is not None:
            WorkItemSkill.objects.create(work_item=successor, skill=skill, min_level=1)
        # The agent who hands it on is not offered it back.
        Offer.objects.create(
            work_item=successor,
            agent=agent,
            outcome=Offer.Outcome.TRANSFERRED,
            created_at=now,
            expires_at=now + timedelta(seconds=1),
            responded_at=now,
        )
        target = ", ".join(
            part
            for part in (
                target_queue.name if queue else "",
                colleague.name if colleague else "",
                f"skill {skill.name}" if skill else "",
            )
            if part
        )
        crm.append_message(
            item.interaction,
            sender=Message.Sender.AGENT,
            author=agent.user,
            body=f"Transferred to {target}." + (f" Note: {note}" if note else ""),
            work_item_id=item.pk,
            agent_id=agent.pk,
            internal=True,
        )
        _system_note(item, "You are being transferred; please hold on.", agent_id=agent.pk)
        events.work_closed(agent.pk, item.pk)
        events.agent_updated(agent.pk)
        if item.interaction.channel in WATCHED_CHANNELS:
            _announce_position(
                item.interaction_id,
                selectors.queue_position(successor),
                selectors.agents_available(target_queue.pk, item.channel_id),
            )
        events.queue_changed()
        request_round()
    return successor


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
        except _OfferedMeanwhile:
            continue
    raise Conflict("The item is being offered right now: try again.", field="work_item_id")


def _redirect(
    work_item_id: int, target_queue: Queue | None, agent: Agent | None, *, now: datetime
) -> WorkItem:
    with transaction.atomic():
        # Offers before items: the lock order of every other transition.
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
            # A round offered it between the two reads: start over with its offer locked.
            raise _OfferedMeanwhile
        if item.status not in (WorkItem.Status.QUEUED, WorkItem.Status.OFFERED):
            raise Conflict(
                "Only waiting or offered work can be redirected; this item is "
                f"{item.get_status_display().lower()}.",
                field="work_item_id",
            )
        queue = target_queue or item.queue
        if agent is not None:
            check_named_agent(agent, item, queue)
        if pending is not None:
            _return_to_queue(pending, outcome=Offer.Outcome.CANCELLED, now=now)
            events.agent_updated(pending.agent_id)
            item.status, item.agent = WorkItem.Status.QUEUED, None
        lines = {item.queue_id, queue.pk}
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
        announce_queue_positions(lines)
        events.queue_changed()
        request_round()
    return item


def add_internal_note(*, agent: Agent, work_item_id: int, body: str) -> Message:
    """A note on the conversation for colleagues: the customer never sees it."""
    item = selectors.access_work_item(agent, work_item_id)
    return crm.post_internal_note(
        interaction=item.interaction,
        author=agent.user,
        body=body,
        work_item_id=item.pk,
        agent_id=agent.pk,
    )


def announce_wrap_ups_ended(*, now: datetime | None = None) -> int:
    """Tell the agents whose wrap-up ended since the last sweep that their capacity is back."""
    now = now or timezone.now()
    since = now - timedelta(seconds=2 * settings.ROUTING_SWEEP_SECONDS)
    agent_ids = set(
        WorkItem.objects.filter(
            status=WorkItem.Status.CLOSED, wrap_up_until__gt=since, wrap_up_until__lte=now
        ).values_list("agent_id", flat=True)
    )
    for agent_id in agent_ids:
        events.agent_updated(agent_id)
    return len(agent_ids)


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
    if not items:
        live = WorkItem.objects.filter(
            interaction_id=interaction_id,
            status__in=[WorkItem.Status.QUEUED, *selectors.ACTIVE_STATUSES],
        )
        if strict and live.exists():
            # A transfer committed its new item while this read waited on the old one.
            raise _OfferedMeanwhile
        # Nothing waits in a queue: the contact ends here (a bot conversation is settled).
        if not WorkItem.objects.filter(interaction_id=interaction_id).exists():
            crm.customer_left_unrouted(interaction_id, now=now)
        return
    offered = {offer.work_item_id for offer in pending}
    if strict and any(
        item.status == WorkItem.Status.OFFERED and item.pk not in offered for item in items
    ):
        raise _OfferedMeanwhile
    for item in items:
        if item.status == WorkItem.Status.ASSIGNED:
            if item.interaction.channel == ChannelKind.CHAT:
                _system_note(item, "The customer left the chat.", agent_id=item.agent_id)
                # Until they come back (a resume marks their new connection), nobody else
                # should be handed a chat with no one in it.
                Interaction.objects.filter(pk=interaction_id).update(
                    customer_connection=crm.CUSTOMER_LEFT
                )
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
    """The periodic safety net and clock: time out overdue offers, set absent agents offline,
    apply queue overflow and maximum waits, then run a round (which also routes work whose
    wrap-up or skill widening came due). Returns the number of offers made."""
    now = now or timezone.now()
    expire_offers(now=now)
    sign_out_absent_agents(now=now)
    end_chats_left_behind(now=now)
    crm.settle_idle_bot_conversations(now=now)
    announce_wrap_ups_ended(now=now)
    apply_queue_limits(now=now)
    return len(run_round(now=now))


# --- queue limits -----------------------------------------------------------------------------


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
        due = selectors.waiting_since_before(
            queue.pk, now - timedelta(seconds=queue.overflow_after_seconds)
        )
        if not due:
            continue
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
        if moved:
            overflowed += moved
            moved_lines |= {queue.pk, target.pk}
    expired = 0
    for queue in Queue.objects.filter(max_wait_seconds__isnull=False):
        due = selectors.waiting_since_before(
            queue.pk, now - timedelta(seconds=queue.max_wait_seconds)
        )
        if not due:
            continue
        if queue.max_wait_action == Queue.MaxWaitAction.RAISE_PRIORITY:
            reached = WorkItem.objects.filter(
                pk__any=due,
                status=WorkItem.Status.QUEUED,
                queue=queue,
                priority__lt=queue.max_wait_priority,
            ).update(priority=queue.max_wait_priority)
        else:
            reached = sum(_end_after_max_wait(item_id, queue, now=now) for item_id in due)
        if reached:
            expired += reached
            moved_lines.add(queue.pk)
    if moved_lines:
        announce_queue_positions(moved_lines)
        events.queue_changed()
        request_round()
    return overflowed, expired


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
            crm.append_message(
                item.interaction,
                sender=Message.Sender.SYSTEM,
                body=queue.max_wait_message,
                work_item_id=item.pk,
                agent_id=None,
            )
        crm.close_interaction(item.interaction, now=now)
        events.chat_status(item.interaction_id, state="closed")
    return 1
