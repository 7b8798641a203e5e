"""Time the supervisor dashboard's live snapshot at 1x and 10x the finished history.

What is measured
    ``supervisor.selectors.dashboard_snapshot(now)``, called as the dashboard calls it, with
    ``now`` fixed, on a fixed live floor, first beside a history of ``--history`` finished
    work items (1x) and then, in the same run and the same database, after nine times as many
    more were added (10x). The snapshot is a black box here: whatever it reads (queues,
    agents, waiting work, today's figures from the rollups of finished quarter-hours plus the
    stored rows of the open one...), it must cost O(queues + agents + waiting items), never
    O(history), so ``supervisor_snapshot_10x_vs_1x`` should stay near 1.

    ``supervisor_snapshot_ms_1x/_10x``: the median of ``--repeats`` timed calls after
    ``--warmup`` untimed ones. ``supervisor_snapshot_queries_1x/_10x``: the statements one call
    issues (``CaptureQueriesContext``, in separate untimed calls).

The baseline
    ``history_count_ms_1x/_10x``: ``SELECT count(*) FROM routing_workitem``, timed the same
    way at the same two moments. It is O(history) by nature, so its ratio
    ``history_count_10x_vs_1x`` shows how much the history really grew on this machine (an
    index-only scan of a table ten times larger), against which the snapshot's ratio reads.

The data
    A throwaway database ``bench_snapshot_<random>`` is created on 127.0.0.1:5432 (trust
    auth, user postgres), migrated, filled with ``bulk_create`` and dropped at the end, also on
    error or SIGTERM. ``now`` is today at 14:07:30 (settings.TIME_ZONE), so today has 56
    finished quarter-hours and an open one, 14:00-14:07:30.

    The live floor, the same at 1x and 10x: 20 queues (the 4 of the reference data, 4 more
    for each of their routing configurations), 200 agents in 10 teams with 5 of 30 skills
    each, 3 queue memberships each, and presence statuses (120 Available, 30 Break, 10
    Missed offer, 40 offline); 300 waiting items (40 % with skill needs, 20 moved from another
    queue in the open quarter-hour, 30 declined once in it), 20 items offered (pending offers)
    and 150 being worked; and the open quarter-hour's activity: 80 items closed in it (half of
    them still in wrap-up), 40 status changes.

    The history, 20,000 work items at 1x (200,000 at 10x) with their customers, cases and
    interactions, spread evenly over the 30 days before today and today up to 14:00, every
    event of each item before 14:00: 70 % closed (15 % after a declined or timed-out offer,
    half of them with wrap-up), 12 % abandoned (30 % after a timed-out offer), 5 % expired,
    about 8 % transferred (the successor, with its own offers, is one of the 20,000), 10 %
    moved once from another queue (overflow), 40 % with a skill need; one agent status
    change per two items, and bot-resolved conversations (3 %, no work item).

    After each fill: ``VACUUM ANALYZE`` of the whole database (statistics and visibility map
    as autovacuum would leave them), then ``rollup_finished_intervals(now)`` as the periodic
    task would have run it (at 10x the rollups are written again, since today's intervals
    then hold ten times the work).

Diagnosis
    Each call's statements are captured at both sizes and matched by their shape; the ones
    that got slower at 10x are listed with their time at 1x and 10x. When the ratio is above
    ``TARGET_RATIO`` (or with ``--explain``), ``EXPLAIN (ANALYZE, BUFFERS)`` of the statements
    that grew most follows.

    .venv/bin/python bench/supervisor_snapshot.py [--history N] [--repeats R] [--explain]

About 100 s on a 2-core machine, most of it filling the 10x history (about 1 million rows).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import signal
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import report
from tests.stack import throwaway_database

SEED = 20261123
GROWTH = 10
TARGET_RATIO = 1.3
HISTORY_DAYS = 30
CHUNK = 10_000  # history items bulk-created together (bounds memory)
BATCH = 5_000  # rows per INSERT statement

TEAMS = 10
SKILLS = 30
EXTRA_QUEUES_PER_CONFIG = 4  # 4 reference queues + 4 x 4 = 20 queues
AGENTS = 200
STATUS_MIX = [("Available", 120), ("Break", 30), ("Missed offer", 10), (None, 40)]
WAITING = 300
OFFERED = 20
WORKED = 150
CLOSED_IN_OPEN_QUARTER = 80
STATUS_CHANGES_IN_OPEN_QUARTER = 40
# Channel kinds and their share of the work; each is served by its routing configuration's
# queues (reference data: chat -> Web chat; voice -> Voice; email -> Email; the rest ->
# Messaging).
CHANNEL_MIX = [("chat", 50), ("voice", 20), ("email", 15), ("messaging", 10), ("sms", 5)]
CONFIG_OF_CHANNEL = {
    "chat": "Web chat",
    "voice": "Voice",
    "email": "Email",
    "messaging": "Messaging",
    "sms": "Messaging",
}


def configure_django(database_url: str) -> None:
    """Point settings at the database before ``django.setup()`` reads the environment."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("REDIS_URL", None)
    # A DATABASE_URL makes settings demand a SECRET_KEY; this process signs nothing.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    # Nothing in the background may touch the tables, and DEBUG would keep every query.
    os.environ["EMBEDDED_TICKER"] = "0"
    os.environ["DEMO_TRAFFIC"] = "0"
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.config.settings")
    import django

    django.setup()


# --- reference rows ---------------------------------------------------------------------------


@dataclass
class Floor:
    """Ids of the fixed rows the history and the live floor refer to."""

    now: datetime
    open_start: datetime
    channels: dict[str, Any]  # kind -> ServiceChannel
    units: dict[str, int]  # kind -> units an item takes
    queues_of_channel: dict[str, list[int]]
    agent_ids: list[int]
    statuses: dict[str | None, Any]  # name -> PresenceStatus (None: offline)
    skill_ids: list[int]
    disposition_ids: list[int]
    decline_reason_ids: list[int]
    counts: Counter = field(default_factory=Counter)


def pick(rng: random.Random, mix: list[tuple[Any, int]]) -> Any:
    return rng.choices([value for value, _ in mix], weights=[weight for _, weight in mix])[0]


def build_floor(rng: random.Random, now: datetime) -> Floor:
    """Queues, teams, skills, statuses and agents (with skills, teams, memberships)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from routing.models import (
        Agent,
        AgentSkill,
        DeclineReason,
        Disposition,
        PresenceStatus,
        Queue,
        RoutingConfig,
        ServiceChannel,
        Skill,
        Team,
    )
    from supervisor.history import ROLLUP_STEP, day_start

    channels = {channel.kind: channel for channel in ServiceChannel.objects.all()}
    configs = {config.name: config for config in RoutingConfig.objects.all()}
    Queue.objects.bulk_create(
        Queue(name=f"{name} {n}", routing_config=config)
        for name, config in configs.items()
        for n in range(1, EXTRA_QUEUES_PER_CONFIG + 1)
    )
    queues_of_config: dict[str, list[int]] = defaultdict(list)
    for pk, config_name in Queue.objects.values_list("pk", "routing_config__name"):
        queues_of_config[config_name].append(pk)
    queues_of_channel = {kind: queues_of_config[name] for kind, name in CONFIG_OF_CHANNEL.items()}
    units = {
        kind: (6 if configs[name].capacity_percent else configs[name].units_per_item)
        for kind, name in CONFIG_OF_CHANNEL.items()
    }

    statuses: dict[str | None, Any] = {s.name: s for s in PresenceStatus.objects.all()}
    statuses[None] = None
    teams = Team.objects.bulk_create(Team(name=f"Team {n}") for n in range(1, TEAMS + 1))
    skills = Skill.objects.bulk_create(Skill(name=f"Skill {n:02d}") for n in range(1, SKILLS + 1))
    users = get_user_model().objects.bulk_create(
        # "!" is Django's unusable-password marker: no hashing, nobody can log in.
        get_user_model()(
            username=f"agent{n:03d}", first_name="Agent", last_name=f"{n:03d}", password="!"
        )
        for n in range(1, AGENTS + 1)
    )
    status_names = [name for name, count in STATUS_MIX for _ in range(count)]
    rng.shuffle(status_names)
    agents = Agent.objects.bulk_create(
        Agent(user=user, team=teams[n % TEAMS], capacity=6, status=statuses[status_names[n]])
        for n, user in enumerate(users)
    )
    # status_since is auto_now_add (the wall clock); put it before the fixed ``now``.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE routing_agent SET status_since = %s - (id %% 5400) * interval '1 second'",
            [now],
        )
    AgentSkill.objects.bulk_create(
        AgentSkill(agent=agent, skill=skill, level=rng.randint(1, 10))
        for agent in agents
        for skill in rng.sample(skills, 5)
    )
    all_queues = [pk for pks in queues_of_config.values() for pk in pks]
    Queue.members.through.objects.bulk_create(
        Queue.members.through(queue_id=queue_id, agent_id=agent.pk)
        for agent in agents
        for queue_id in rng.sample(all_queues, 3)
    )
    return Floor(
        now=now,
        open_start=day_start(now) + ROLLUP_STEP * ((now - day_start(now)) // ROLLUP_STEP),
        channels=channels,
        units=units,
        queues_of_channel=queues_of_channel,
        agent_ids=[agent.pk for agent in agents],
        statuses=statuses,
        skill_ids=[skill.pk for skill in skills],
        disposition_ids=list(Disposition.objects.values_list("pk", flat=True)),
        decline_reason_ids=list(DeclineReason.objects.values_list("pk", flat=True)),
    )


# --- work items as plans, then rows -----------------------------------------------------------


@dataclass
class OfferPlan:
    agent_id: int
    outcome: str
    created_at: datetime
    responded_at: datetime | None
    decline: bool = False


@dataclass
class ItemPlan:
    """One work item to write, with what hangs off it."""

    channel: str
    queue_id: int
    status: str
    enqueued_at: datetime
    accepted_at: datetime | None = None
    closed_at: datetime | None = None
    wrap_up_until: datetime | None = None
    agent_id: int | None = None
    offers: list[OfferPlan] = field(default_factory=list)
    move: tuple[int, datetime] | None = None  # (from queue, when)
    skills: list[tuple[int, int]] = field(default_factory=list)  # (skill, min level)
    successor: ItemPlan | None = None  # the item a transfer created
    priority: int = 0

    def last_event(self) -> datetime:
        moments = [self.enqueued_at, self.accepted_at, self.closed_at, self.wrap_up_until]
        moments += [offer.responded_at or offer.created_at for offer in self.offers]
        if self.successor is not None:
            moments.append(self.successor.last_event())
        return max(moment for moment in moments if moment is not None)

    def shift(self, delta: timedelta) -> None:
        for name in ("enqueued_at", "accepted_at", "closed_at", "wrap_up_until"):
            if getattr(self, name) is not None:
                setattr(self, name, getattr(self, name) + delta)
        for offer in self.offers:
            offer.created_at += delta
            if offer.responded_at is not None:
                offer.responded_at += delta
        if self.move is not None:
            self.move = (self.move[0], self.move[1] + delta)
        if self.successor is not None:
            self.successor.shift(delta)


PUSH_TIMEOUT = timedelta(seconds=30)


def seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def answered_item(
    rng: random.Random, floor: Floor, channel: str, start: datetime, *, refused_first: bool
) -> ItemPlan:
    """A contact answered by an agent (accepted offer), possibly after a refusal."""
    agent_id, other_id = rng.sample(floor.agent_ids, 2)
    wait = rng.uniform(45, 300) if refused_first else rng.uniform(3, 120)
    accepted_at = start + seconds(wait)
    plan = ItemPlan(
        channel=channel,
        queue_id=rng.choice(floor.queues_of_channel[channel]),
        status="assigned",
        enqueued_at=start,
        accepted_at=accepted_at,
        agent_id=agent_id,
    )
    if refused_first:
        created = start + seconds(1)
        if rng.random() < 0.5:
            plan.offers.append(
                OfferPlan(
                    other_id, "declined", created, created + seconds(rng.uniform(2, 20)), True
                )
            )
        else:
            plan.offers.append(OfferPlan(other_id, "timed_out", created, created + PUSH_TIMEOUT))
    plan.offers.append(
        OfferPlan(agent_id, "accepted", accepted_at - seconds(rng.uniform(1, 3)), accepted_at)
    )
    return plan


def close(rng: random.Random, floor: Floor, plan: ItemPlan, *, wrap_up: bool) -> ItemPlan:
    assert plan.accepted_at is not None
    plan.status = "closed"
    plan.closed_at = plan.accepted_at + seconds(rng.uniform(60, 900))
    plan.wrap_up_until = plan.closed_at + seconds(rng.uniform(10, 60)) if wrap_up else None
    return plan


def history_item(rng: random.Random, floor: Floor, start: datetime) -> ItemPlan:
    """One finished contact starting at ``start``; its kind drawn from the mix above."""
    channel = pick(rng, CHANNEL_MIX)
    kind = rng.random()
    if kind < 0.70:
        plan = answered_item(rng, floor, channel, start, refused_first=rng.random() < 0.15)
        close(rng, floor, plan, wrap_up=rng.random() < 0.5)
    elif kind < 0.82:
        plan = ItemPlan(
            channel=channel,
            queue_id=rng.choice(floor.queues_of_channel[channel]),
            status="abandoned",
            enqueued_at=start,
        )
        if rng.random() < 0.3:
            created = start + seconds(1)
            plan.offers.append(
                OfferPlan(rng.choice(floor.agent_ids), "timed_out", created, created + PUSH_TIMEOUT)
            )
            plan.closed_at = start + seconds(rng.uniform(40, 600))
        else:
            plan.closed_at = start + seconds(rng.uniform(5, 600))
    elif kind < 0.87:
        plan = ItemPlan(
            channel=channel,
            queue_id=rng.choice(floor.queues_of_channel[channel]),
            status="expired",
            enqueued_at=start,
            closed_at=start + seconds(rng.uniform(600, 1800)),
        )
    else:
        # Transferred: answered, handed on; the successor waits in another queue of the
        # same channel and is answered by someone else, with an offer recorded as
        # transferred away for the first agent.
        plan = answered_item(rng, floor, channel, start, refused_first=False)
        assert plan.accepted_at is not None and plan.agent_id is not None
        plan.status = "transferred"
        plan.closed_at = plan.accepted_at + seconds(rng.uniform(30, 300))
        successor = answered_item(rng, floor, channel, plan.closed_at, refused_first=False)
        if successor.agent_id == plan.agent_id:
            successor.agent_id = next(a for a in floor.agent_ids if a != plan.agent_id)
            successor.offers[-1].agent_id = successor.agent_id
        successor.offers.insert(
            0, OfferPlan(plan.agent_id, "transferred", plan.closed_at, plan.closed_at)
        )
        plan.successor = close(rng, floor, successor, wrap_up=rng.random() < 0.5)
    if plan.status != "transferred" and rng.random() < 0.10:
        end = plan.accepted_at or plan.closed_at
        assert end is not None
        others = [q for q in floor.queues_of_channel[channel] if q != plan.queue_id]
        plan.move = (rng.choice(others), start + (end - start) * rng.uniform(0.1, 0.9))
    if rng.random() < 0.40:
        plan.skills.append((rng.choice(floor.skill_ids), rng.randint(1, 5)))
    return plan


def write_items(rng: random.Random, floor: Floor, plans: list[ItemPlan], *, open_: bool) -> int:
    """Customers, cases, interactions, work items, offers, moves and skill needs for the plans
    (successors of transfers included); returns how many work items were written."""
    from contactcenter.crm.models import Case, Customer, Interaction
    from routing.models import Offer, WorkItem, WorkItemMove, WorkItemSkill

    customers = Customer.objects.bulk_create(
        (Customer(name=f"Customer {rng.randrange(10**8):08d}") for _ in range(len(plans) // 4 + 1)),
        batch_size=BATCH,
    )
    cases = Case.objects.bulk_create(
        (Case(customer=customer, subject="Contact") for customer in customers), batch_size=BATCH
    )
    interactions = Interaction.objects.bulk_create(
        (
            Interaction(
                case=cases[n % len(cases)],
                channel=plan.channel,
                status="open" if open_ else "closed",
                ended_at=None if open_ else (plan.successor or plan).closed_at,
            )
            for n, plan in enumerate(plans)
        ),
        batch_size=BATCH,
    )

    def row(plan: ItemPlan, interaction: Any, transferred_from: Any = None) -> WorkItem:
        return WorkItem(
            interaction=interaction,
            channel=floor.channels[plan.channel],
            queue_id=plan.queue_id,
            status=plan.status,
            priority=plan.priority,
            units=floor.units[plan.channel],
            agent_id=plan.agent_id,
            enqueued_at=plan.enqueued_at,
            accepted_at=plan.accepted_at,
            closed_at=plan.closed_at,
            wrap_up_until=plan.wrap_up_until,
            overflowed_from_id=plan.move[0] if plan.move else None,
            overflowed_at=plan.move[1] if plan.move else None,
            disposition_id=rng.choice(floor.disposition_ids) if plan.status == "closed" else None,
            transferred_from=transferred_from,
        )

    items = WorkItem.objects.bulk_create(
        (row(plan, interaction) for plan, interaction in zip(plans, interactions, strict=True)),
        batch_size=BATCH,
    )
    pairs = list(zip(plans, items, strict=True))
    followers = [
        (plan.successor, row(plan.successor, item.interaction, item))
        for plan, item in pairs
        if plan.successor is not None
    ]
    WorkItem.objects.bulk_create([item for _, item in followers], batch_size=BATCH)
    pairs += followers

    Offer.objects.bulk_create(
        (
            Offer(
                work_item=item,
                agent_id=offer.agent_id,
                outcome=offer.outcome,
                created_at=offer.created_at,
                expires_at=offer.created_at + PUSH_TIMEOUT,
                responded_at=offer.responded_at,
                decline_reason_id=rng.choice(floor.decline_reason_ids) if offer.decline else None,
                routing_model="most_available",
                routing_key=[0, 0],
            )
            for plan, item in pairs
            for offer in plan.offers
        ),
        batch_size=BATCH,
    )
    WorkItemMove.objects.bulk_create(
        (
            WorkItemMove(
                work_item=item,
                from_queue_id=plan.move[0],
                to_queue_id=plan.queue_id,
                moved_at=plan.move[1],
                cause="overflow",
            )
            for plan, item in pairs
            if plan.move is not None
        ),
        batch_size=BATCH,
    )
    WorkItemSkill.objects.bulk_create(
        (
            WorkItemSkill(work_item=item, skill_id=skill_id, min_level=level)
            for plan, item in pairs
            for skill_id, level in plan.skills
        ),
        batch_size=BATCH,
    )
    floor.counts["work items"] += len(pairs)
    floor.counts["offers"] += sum(len(plan.offers) for plan, _ in pairs)
    floor.counts["moves"] += sum(plan.move is not None for plan, _ in pairs)
    return len(pairs)


def status_changes(
    rng: random.Random, floor: Floor, count: int, start: datetime, end: datetime
) -> None:
    from routing.models import AgentStatusChange

    names = [name for name, _ in STATUS_MIX]
    span = (end - start).total_seconds()

    def change() -> AgentStatusChange:
        before, after = rng.sample(names, 2)
        return AgentStatusChange(
            agent_id=rng.choice(floor.agent_ids),
            from_status=floor.statuses[before],
            to_status=floor.statuses[after],
            from_name=before or "Offline",
            to_name=after or "Offline",
            changed_at=start + seconds(rng.uniform(0, span)),
            cause=pick(rng, [("agent", 85), ("supervisor", 5), ("missed_offer", 5), ("absent", 5)]),
        )

    AgentStatusChange.objects.bulk_create((change() for _ in range(count)), batch_size=BATCH)
    floor.counts["status changes"] += count


def bot_resolutions(
    rng: random.Random, floor: Floor, count: int, start: datetime, end: datetime
) -> None:
    from contactcenter.crm.models import Case, Customer, Interaction

    customers = Customer.objects.bulk_create(
        (Customer(name=f"Visitor {n}") for n in range(count)), batch_size=BATCH
    )
    cases = Case.objects.bulk_create(
        (Case(customer=customer, subject="Web chat") for customer in customers), batch_size=BATCH
    )
    span = (end - start).total_seconds()
    Interaction.objects.bulk_create(
        (
            Interaction(
                case=case,
                channel="chat",
                status="closed",
                bot_status="resolved",
                ended_at=start + seconds(rng.uniform(0, span)),
            )
            for case in cases
        ),
        batch_size=BATCH,
    )


def add_history(rng: random.Random, floor: Floor, count: int) -> None:
    """``count`` finished items over the last HISTORY_DAYS days and today until the open
    quarter-hour, every event of each before it."""
    from supervisor.history import day_start

    start = day_start(floor.now) - timedelta(days=HISTORY_DAYS)
    end = floor.open_start
    span = (end - start).total_seconds()
    written = 0
    while written < count:
        plans: list[ItemPlan] = []
        chunk = 0
        while chunk < min(CHUNK, count - written):
            plan = history_item(rng, floor, start + seconds(rng.uniform(0, span)))
            overrun = plan.last_event() - (end - seconds(1))
            if overrun > timedelta(0):
                plan.shift(-overrun)
            plans.append(plan)
            chunk += 2 if plan.successor else 1
        written += write_items(rng, floor, plans, open_=False)
        status_changes(rng, floor, chunk // 2, start, end)
        bot_resolutions(rng, floor, chunk * 3 // 100, start, end)


def add_live_floor(rng: random.Random, floor: Floor) -> None:
    """Waiting, offered and worked items, and the open quarter-hour's activity."""
    now, open_start = floor.now, floor.open_start
    in_open = (now - open_start).total_seconds()
    waiting = []
    for n in range(WAITING):
        channel = pick(rng, CHANNEL_MIX)
        plan = ItemPlan(
            channel=channel,
            queue_id=rng.choice(floor.queues_of_channel[channel]),
            status="queued",
            enqueued_at=now - seconds(rng.uniform(1, 1800)),
            priority=rng.choice([0, 0, 0, 1, 2]),
        )
        if n < 20:
            plan.enqueued_at = open_start - seconds(rng.uniform(1, 600))
            others = [q for q in floor.queues_of_channel[channel] if q != plan.queue_id]
            plan.move = (rng.choice(others), open_start + seconds(rng.uniform(0, in_open)))
        elif n < 50:
            plan.enqueued_at = open_start - seconds(rng.uniform(1, 600))
            created = open_start + seconds(rng.uniform(0, in_open - 25))
            plan.offers.append(
                OfferPlan(
                    rng.choice(floor.agent_ids), "declined", created, created + seconds(5), True
                )
            )
        if rng.random() < 0.4:
            chosen = rng.sample(floor.skill_ids, rng.randint(1, 2))
            plan.skills = [(skill_id, rng.randint(1, 5)) for skill_id in chosen]
        waiting.append(plan)

    available = [
        agent_id
        for agent_id, status in zip(floor.agent_ids, floor_statuses(floor), strict=True)
        if status == "Available"
    ]
    holders = [agent_id for agent_id in available for _ in range(2)]
    rng.shuffle(holders)
    held = []
    for n in range(OFFERED + WORKED):
        channel = pick(rng, [("chat", 60), ("email", 25), ("messaging", 15)])
        agent_id = holders[n % len(holders)]
        enqueued = now - seconds(rng.uniform(60, 3600))
        plan = ItemPlan(
            channel=channel,
            queue_id=rng.choice(floor.queues_of_channel[channel]),
            status="offered" if n < OFFERED else "assigned",
            enqueued_at=enqueued,
            agent_id=agent_id,
        )
        if n < OFFERED:
            created = now - seconds(rng.uniform(1, 20))
            plan.enqueued_at = created - seconds(rng.uniform(1, 120))
            plan.offers.append(OfferPlan(agent_id, "pending", created, None))
        else:
            plan.accepted_at = enqueued + seconds(rng.uniform(3, 50))
            plan.offers.append(
                OfferPlan(agent_id, "accepted", plan.accepted_at - seconds(2), plan.accepted_at)
            )
        held.append(plan)

    closed = []
    for _ in range(CLOSED_IN_OPEN_QUARTER):
        channel = pick(rng, CHANNEL_MIX)
        plan = answered_item(
            rng, floor, channel, open_start - seconds(rng.uniform(600, 3600)), refused_first=False
        )
        plan.status = "closed"
        plan.closed_at = open_start + seconds(rng.uniform(0, in_open))
        if rng.random() < 0.5:
            plan.wrap_up_until = now + seconds(rng.uniform(10, 120))
        closed.append(plan)

    write_items(rng, floor, waiting + held, open_=True)
    write_items(rng, floor, closed, open_=False)
    status_changes(rng, floor, STATUS_CHANGES_IN_OPEN_QUARTER, open_start, now)


def floor_statuses(floor: Floor) -> list[str | None]:
    from routing.models import Agent

    names = dict(Agent.objects.values_list("pk", "status__name"))
    return [names[agent_id] for agent_id in floor.agent_ids]


def settle(now: datetime) -> tuple[int, float]:
    """VACUUM ANALYZE everything, then write today's rollups afresh (as the periodic task
    would have); returns how many and how long the rollup took."""
    from django.db import connection

    from supervisor.history import rollup_finished_intervals
    from supervisor.models import IntervalRollup

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    IntervalRollup.objects.all().delete()
    started = time.perf_counter()
    written = rollup_finished_intervals(now)
    return written, time.perf_counter() - started


# --- the measurements -------------------------------------------------------------------------


def timed(run: Callable[[], object], warmup: int, repeats: int) -> list[float]:
    """Milliseconds of ``repeats`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return times


def count_history() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM routing_workitem")
        return cursor.fetchone()[0]


def query_shape(sql_text: str) -> str:
    """The statement without its literals and id lists, so that one kind of query groups."""
    shape = re.sub(r"\bIN \([^)]*\)", "IN (...)", sql_text)
    shape = re.sub(r"ANY\(ARRAY\[[^\]]*\]\)", "ANY(...)", shape)
    shape = re.sub(r"'[^']*'|\b\d+\b|%s", "?", shape)
    return re.sub(r"\s+", " ", shape)


@dataclass
class Captured:
    """One snapshot call's statements, by (shape, occurrence): median ms, SQL and parameters."""

    count: int
    ms: dict[tuple[str, int], float]
    statements: dict[tuple[str, int], tuple[str, Any]]


def capture(now: datetime, runs: int) -> Captured:
    """``runs`` untimed calls: the statement count (``CaptureQueriesContext``) and each
    statement's own time (an execute wrapper, to the microsecond)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from supervisor.selectors import dashboard_snapshot

    times: dict[tuple[str, int], list[float]] = defaultdict(list)
    statements: dict[tuple[str, int], tuple[str, Any]] = {}
    counts = []
    seen: Counter = Counter()  # occurrences of each shape within the current call

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            shape = query_shape(sql)
            seen[shape] += 1
            key = (shape, seen[shape])
            times[key].append((time.perf_counter() - started) * 1000)
            statements[key] = (sql, params)

    for _ in range(runs):
        seen.clear()
        with CaptureQueriesContext(connection) as context, connection.execute_wrapper(record):
            dashboard_snapshot(now)
        counts.append(len(context.captured_queries))
    if len(set(counts)) > 1:
        print(f"# the snapshot's query count varied between calls: {counts}")
    return Captured(
        count=max(counts),
        ms={key: statistics.median(values) for key, values in times.items()},
        statements=statements,
    )


@dataclass
class Size:
    items: int
    snapshot_ms: list[float]
    count_ms: list[float]
    captured: Captured


def measure(now: datetime, warmup: int, repeats: int) -> Size:
    from supervisor.selectors import dashboard_snapshot

    snapshot_ms = timed(lambda: dashboard_snapshot(now), warmup, repeats)
    count_ms = timed(count_history, warmup, repeats)
    return Size(count_history(), snapshot_ms, count_ms, capture(now, max(3, repeats // 3)))


def diagnose(small: Size, large: Size, explain: bool) -> None:
    """The statements that got slower with the history; EXPLAIN ANALYZE of the worst."""
    from django.db import connection

    rows = []
    for key, large_ms in large.captured.ms.items():
        small_ms = small.captured.ms.get(key)
        if small_ms is None:
            rows.append((large_ms, None, large_ms, key))
        else:
            rows.append((large_ms - small_ms, small_ms, large_ms, key))
    rows.sort(key=lambda row: -row[0])
    print("# statements by growth: ms at 1x, ms at 10x, statement (shape)")
    for _growth, small_ms, large_ms, (shape, nth) in rows[:8]:
        before = "   new" if small_ms is None else f"{small_ms:6.2f}"
        print(f"  {before} {large_ms:7.2f}  [{nth}] {shape[:300]}")
    if not explain:
        return
    worst = [row for row in rows if row[0] > 0.5 and row[2] > 1.3 * (row[1] or 0)][:3]
    for growth, _small_ms, _large_ms, key in worst:
        statement, params = large.captured.statements[key]
        if not statement.lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", params)
            plan = "\n".join(f"    {line}" for (line,) in cursor.fetchall())
        print(f"# EXPLAIN ANALYZE at 10x of the statement that grew by {growth:.1f} ms:")
        print(f"    {statement[:2000]}")
        print(plan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--history", type=int, default=20_000, help="finished items at 1x")
    parser.add_argument("--repeats", type=int, default=15, help="timed calls at each size")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls before them")
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE the statements that grew"
    )
    args = parser.parse_args()
    if args.history < 1 or args.repeats < 1 or args.warmup < 0:
        parser.error("--history and --repeats must be at least 1, --warmup at least 0")

    # SIGTERM would skip the finally blocks; as SystemExit it drops the database like Ctrl-C.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    began = time.perf_counter()
    with throwaway_database(prefix="bench_snapshot") as database:
        configure_django(database)
        from django.core.management import call_command
        from django.utils import timezone

        from supervisor.history import day_start

        call_command("migrate", verbosity=0, interactive=False)
        rng = random.Random(SEED)
        now = day_start(timezone.now()) + timedelta(hours=14, minutes=7, seconds=30)
        floor = build_floor(rng, now)
        add_live_floor(rng, floor)

        sizes: dict[str, Size] = {}
        for label, history in (("1x", args.history), ("10x", args.history * (GROWTH - 1))):
            started = time.perf_counter()
            add_history(rng, floor, history)
            filled = time.perf_counter() - started
            rollups, rollup_seconds = settle(now)
            counts = ", ".join(f"{n:,} {what}" for what, n in sorted(floor.counts.items()))
            print(
                f"# {label}: filled in {filled:.1f} s, VACUUM ANALYZE, {rollups} rollups "
                f"written in {rollup_seconds:.2f} s; now {now:%Y-%m-%d %H:%M:%S %Z}; "
                f"in total {counts}",
                flush=True,
            )
            sizes[label] = measure(now, args.warmup, args.repeats)
            size = sizes[label]
            print(
                f"# {label}: snapshot median {statistics.median(size.snapshot_ms):.2f} ms "
                f"(best {min(size.snapshot_ms):.2f}), {size.captured.count} queries taking "
                f"{sum(size.captured.ms.values()):.2f} ms of it; "
                f"count(*) of {size.items:,} work items median "
                f"{statistics.median(size.count_ms):.2f} ms; load average "
                f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs",
                flush=True,
            )

        small, large = sizes["1x"], sizes["10x"]
        snapshot_1x = statistics.median(small.snapshot_ms)
        snapshot_10x = statistics.median(large.snapshot_ms)
        count_1x = statistics.median(small.count_ms)
        count_10x = statistics.median(large.count_ms)
        ratio = snapshot_10x / snapshot_1x
        report(
            {
                "supervisor_snapshot_ms_1x": (round(snapshot_1x, 2), "ms"),
                "supervisor_snapshot_ms_10x": (round(snapshot_10x, 2), "ms"),
                "supervisor_snapshot_10x_vs_1x": (round(ratio, 2), "x"),
                "supervisor_snapshot_queries_1x": (small.captured.count, "queries"),
                "supervisor_snapshot_queries_10x": (large.captured.count, "queries"),
                "history_count_ms_1x": (round(count_1x, 2), "ms"),
                "history_count_ms_10x": (round(count_10x, 2), "ms"),
                "history_count_10x_vs_1x": (round(count_10x / count_1x, 2), "x"),
            }
        )
        diagnose(small, large, args.explain or ratio > TARGET_RATIO)
    print(f"# done in {time.perf_counter() - began:.0f} s", flush=True)


if __name__ == "__main__":
    main()
