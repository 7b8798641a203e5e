"""Routing rounds: plan from a snapshot with the pure engine, then claim the planned offers.

Correctness across processes comes from the database: a round claims items only while it
holds their rows (FOR UPDATE SKIP LOCKED, still queued, still in the planned queue) and the
rows of the agents it offers them to, re-reading those agents' load under the locks, so two
rounds running at once can neither offer one item twice nor overfill an agent."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Mapping
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from contactcenter.kernel.errors import DomainError
from routing import engine, events
from routing.models import Agent
from routing.selectors import snapshot
from routing.services import claims, triggers
from routing.services.offers import accept_offer
from routing.services.steps import announce_queue_positions

logger = logging.getLogger(__name__)

# Rounds in one process take turns: the engine plans from a snapshot, and two rounds planning
# from the same snapshot would only race for the same rows. Across processes the row locks
# and guarded updates below keep the result correct.
_ROUND_LOCK = threading.Lock()

# Offers claimed per transaction: big enough to amortise the round trips, small enough that
# agents' row locks are not held for long.
OFFER_BATCH = 1000

# A requested round that fails asks for another this much later.
ROUND_FAILED_RETRY_SECONDS = 1

# Requested rounds run at most ROUTING_ROUND_SLOTS at a time across all workers: more would
# only race for the same agents and starve the rest of the machine. A slot held by a worker
# that died frees itself after ROUND_SLOT_SECONDS; a request that finds every slot taken
# tries again after ROUND_SLOT_RETRY_SECONDS.
ROUND_SLOT_KEY = "routing:round-slot:{}"

ROUND_SLOT_SECONDS = 30

ROUND_SLOT_RETRY_SECONDS = 0.02


def run_round(*, now: datetime | None = None) -> list[claims.MadeOffer]:
    """Offer waiting items to the best eligible agents; returns the offers made.

    A round reads only what can move: nothing more when no item waits, then the agents with
    room (nothing more when nobody has any), then the waiting items those agents could take
    and the configuration of those agents only. Full agents matter to the plan in one way
    alone, as the preferred agent an item is held for, so those few are read as well.
    """
    with _ROUND_LOCK:
        now = now or timezone.now()
        if not snapshot.anything_waiting():
            return []
        agents = snapshot.free_agent_states(now)
        if not agents:
            return []
        window = snapshot.round_item_window(agents)
        waiting = snapshot.waiting_items(agents, limit=window)
        if not waiting.items:
            return []
        agents = _with_preferred_agents(agents, waiting.items, now)
        blocks = snapshot.channel_blocks()
        assignments = engine.plan(waiting.items, agents, now, blocks=blocks)
        if (
            waiting.cut_short
            and window < snapshot.ROUND_ITEM_LIMIT
            and _free_agent_left_idle(agents, assignments)
        ):
            waiting = snapshot.waiting_items(agents, limit=snapshot.ROUND_ITEM_LIMIT)
            agents = _with_preferred_agents(agents, waiting.items, now)
            assignments = engine.plan(waiting.items, agents, now, blocks=blocks)
        offers = _claim(assignments, agents, waiting, blocks, now)
    _auto_accept(offers, now=now)
    if len(offers) < len(assignments) and not settings.CELERY_TASK_ALWAYS_EAGER:
        # Some claims were lost to another round or transition since the snapshot: the agents
        # planned for them may still have room for other items, so look again soon.
        triggers.request_round()
    return offers


def _with_preferred_agents(
    agents: list[engine.AgentState], items: list[engine.WaitingItem], now: datetime
) -> list[engine.AgentState]:
    missing = snapshot.preferred_agents_missing(items, agents, now)
    if not missing:
        return agents
    return agents + snapshot.agent_states(now, agent_ids=missing)


def _claim(
    assignments: list[engine.Assignment],
    agents: list[engine.AgentState],
    waiting: snapshot.WaitingWork,
    blocks: dict[int, frozenset[int]],
    now: datetime,
) -> list[claims.MadeOffer]:
    by_id = {item.id: item for item in waiting.items}
    limits = {agent.id: agent.channel_limits for agent in agents}
    offers = []
    for start in range(0, len(assignments), OFFER_BATCH):
        batch = [
            (by_id[assignment.item_id], assignment)
            for assignment in assignments[start : start + OFFER_BATCH]
        ]
        offers += make_offers(
            batch, now=now, timeouts=waiting.timeouts, blocks=blocks, limits=limits
        )
    announce_queue_positions({by_id[offer.work_item_id].queue_id for offer in offers})
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


def make_offers(
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
            load = state.loads.setdefault(agent_id, snapshot.Load())
            if not has_room(load, capacity, limits[agent_id], item.channel_id, units, blocks):
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


def has_room(
    load: snapshot.Load,
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


def run_requested_round() -> list[claims.MadeOffer] | None:
    """Serve the pending round request, unless a round started since has.

    Only a starting round clears the pending flag, so a flag that is gone means the
    requesters' work is in a newer round's snapshot. Returns the offers made, or None when
    there was nothing to do or every round slot was taken (the request is then retried
    shortly, the flag still set).
    """
    if not triggers.round_still_wanted():
        return None
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # One process, rounds inline and taking turns (_ROUND_LOCK): no slots to share.
        return _start_requested_round()
    slot = _take_round_slot()
    if slot is None:
        triggers.round_wanted.send(triggers.RoundWanted(countdown=ROUND_SLOT_RETRY_SECONDS))
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
    triggers.round_starting()
    try:
        return run_round()
    except Exception:
        # The requests it was serving were cleared with the flag: ask again, a moment later
        # so that a database that is down is not hammered.
        logger.exception("routing round failed; another is requested")
        triggers.dispatch_round(countdown=ROUND_FAILED_RETRY_SECONDS)
        raise
