"""A floor of agent consoles working through a backlog of 100,000 waiting items, through the
real stack: how fast a freed agent gets their next offer, and what an arrival costs, while
the backlog waits.

    python bench/backlog.py                       # 100,000 items, 200 agents, 30 + 60 s
    python bench/backlog.py --items 10000 --agents 30 --handle 10 --warmup 15 --seconds 30

The stack is tests/stack.py's (Daphne, ``--workers`` Celery workers, beat; production
settings; a throwaway PostgreSQL database and a flushed Redis db). Before it starts, a
process of this script (``prepare``) writes the backlog in bulk through the product's models:
``--items`` customers, cases, interactions with a first message, and as many waiting work
items, spread over five queues (Web chat, Billing and VIP on web chat, Messaging on SMS,
Messaging and social, Email on email) with priorities from 0 to 2, a third of them needing
one or two skills at a minimum level. ``--agents`` agents of capacity 1 belong to two to
five of those queues and hold three or four of the five skills at random levels (seeded), so
some items wait for a particular kind of agent, as on a real floor. Every queue's routing
configuration takes 1 unit per item, no wrap-up and a push time-out long enough that no
offer times out.

The agents connect as websocket consoles (session cookies) while Offline, then each sets
itself Available with a ``presence.set`` frame. A console accepts an offer as soon as it
reads it and closes the item (``work.close`` with a disposition) a seeded exponential handle
time (mean ``--handle`` s) after reading ``work.assigned``. Meanwhile a separate intake
process (bench/intake_feeder.py) enqueues new chats at ``--arrival-rate`` a second, as an
inbound channel would, and a thread sends bare channel-layer ``group_send``s to the
consoles (bench/enqueue_to_offer.py's baseline).

Why a handle time of 30 s by default: every ``offer.accept`` and ``work.close`` is a service
call in Daphne's one thread for synchronous code (Channels' ``database_sync_to_async``), so
200 agents closing every few seconds would measure that thread's queue, not routing: at 30 s
a floor of 200 makes about 13 closes and 13 accepts a second. The first ``--warmup``
seconds (every agent going Available and taking a first item) are not counted.

Figures, over the ``--seconds`` after ``--warmup``:
    ``backlog_refill_ms_p50/p99``: from an agent's ``work.close`` frame sent to that agent's
    next ``offer.created`` frame read (with the backlog, work always waits).
    ``backlog_enqueue_ms_p50/p99``: an arrival's scheduled moment to its enqueue
    transaction's commit, in the intake process.
    ``backlog_redis_send_ms_p99``: the bare ``group_send`` to a console, same run, same load;
    ``backlog_refill_vs_redis_send_p99`` is the ratio of the two p99s.
    Also ``backlog_items``, ``backlog_agents``, ``backlog_refills`` (samples) and the 1-minute
    load average at the end (``backlog_load_average``). The refill path's phases (see
    bench/ideal_routing.py and bench/phase_probe) are on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from bench.enqueue_to_offer import (
    PING_TYPE,
    Run,
    ping_latencies,
    pinging,
)
from bench.harness import (
    exit_on_sigterm,
    feeder_process,
    log,
    log_directory,
    percentile,
)
from bench.ideal_routing import PROBE_DIR, read_probe
from bench.report import report
from tests.stack import (
    REPO,
    SESSION_HELPER,
    Stack,
    flushed_redis_db,
    migrate_and_seed,
    production_env,
    running_stack,
    session_cookie,
    throwaway_database,
    ws_url,
)

REDIS_DB = 7  # a db of its own (6: ideal_routing, 9: enqueue_to_offer, 11, 14: tests)
PREPARE_SECONDS = 900
PUSH_TIMEOUT_SECONDS = 600
BULK_BATCH = 5000
TARGET_MS = 100
# How long the last bare sends may take to arrive before the consoles close.
PING_SETTLE_SECONDS = 10
# (queue, the channel kinds of its items)
QUEUE_CHANNELS = {
    "Web chat": ["chat"],
    "Billing": ["chat"],
    "VIP": ["chat"],
    "Messaging": ["sms", "messaging", "social"],
    "Email": ["email"],
}


# --- the backlog, written in bulk (run in a process of its own: `prepare`) -------------------


def prepare_agents(count: int, rng: random.Random) -> dict[int, str]:
    """Agents of capacity 1 in two to five of the queues, with three or four skills, Offline;
    their ids and session keys."""
    from django.contrib.auth import get_user_model

    from routing.models import Agent, AgentSkill, Queue, Skill

    namespace: dict[str, Any] = {}
    exec(SESSION_HELPER, namespace)  # the helper tests/stack.py gives every stack script
    queues = list(Queue.objects.filter(name__in=QUEUE_CHANNELS))
    skills = list(Skill.objects.all())
    sessions = {}
    for number in range(1, count + 1):
        user = get_user_model().objects.create_user(f"backlog{number:04d}", first_name="Backlog")
        agent = Agent.objects.create(user=user, capacity=1)
        agent.queues.set(rng.sample(queues, rng.randint(2, len(queues))))
        AgentSkill.objects.bulk_create(
            AgentSkill(agent=agent, skill=skill, level=rng.randint(3, 10))
            for skill in rng.sample(skills, rng.randint(3, 4))
        )
        sessions[agent.pk] = namespace["new_session_key"](user)
    return sessions


def prepare_items(count: int, rng: random.Random) -> None:
    """`count` contacts waiting in the queues, oldest first, a third with skill needs."""
    from datetime import timedelta

    from django.utils import timezone

    from contactcenter.crm.models import Case, Customer, Interaction, Message
    from routing.models import Queue, ServiceChannel, Skill, WorkItem, WorkItemSkill

    queues = {queue.name: queue for queue in Queue.objects.filter(name__in=QUEUE_CHANNELS)}
    channels = {channel.kind: channel for channel in ServiceChannel.objects.all()}
    skills = list(Skill.objects.all())
    plan = []
    for _ in range(count):
        queue = rng.choice(list(QUEUE_CHANNELS))
        plan.append((queue, rng.choice(QUEUE_CHANNELS[queue])))
    customers = Customer.objects.bulk_create(
        (Customer(name=f"Backlog customer {n}") for n in range(count)), batch_size=BULK_BATCH
    )
    cases = Case.objects.bulk_create(
        (Case(customer=customer, subject="Backlog") for customer in customers),
        batch_size=BULK_BATCH,
    )
    interactions = Interaction.objects.bulk_create(
        (Interaction(case=case, channel=kind) for case, (_, kind) in zip(cases, plan, strict=True)),
        batch_size=BULK_BATCH,
    )
    Message.objects.bulk_create(
        (Message(interaction=i, sender="customer", body="Hello") for i in interactions),
        batch_size=BULK_BATCH,
    )
    start = timezone.now() - timedelta(minutes=10)
    items = WorkItem.objects.bulk_create(
        (
            WorkItem(
                interaction=interaction,
                channel=channels[kind],
                queue=queues[queue],
                priority=rng.choice([0, 0, 0, 1, 2]),
                units=1,
                enqueued_at=start + timedelta(milliseconds=5 * number),
            )
            for number, (interaction, (queue, kind)) in enumerate(
                zip(interactions, plan, strict=True)
            )
        ),
        batch_size=BULK_BATCH,
    )
    WorkItemSkill.objects.bulk_create(
        (
            WorkItemSkill(work_item=item, skill=skill, min_level=rng.randint(1, 5))
            for item in items
            if rng.random() < 1 / 3
            for skill in rng.sample(skills, rng.randint(1, 2))
        ),
        batch_size=BULK_BATCH,
    )


def prepare(items: int, agents: int, seed: int) -> None:
    from django.db import transaction

    from routing.models import Disposition, Queue, RoutingConfig

    rng = random.Random(seed)
    with transaction.atomic():
        configs = Queue.objects.filter(name__in=QUEUE_CHANNELS).values("routing_config")
        RoutingConfig.objects.filter(pk__in=configs).update(
            units_per_item=1,
            capacity_percent=None,
            push_timeout_seconds=PUSH_TIMEOUT_SECONDS,
            wrap_up_seconds=0,
            preferred_agent_seconds=0,
        )
        sessions = prepare_agents(agents, rng)
        prepare_items(items, rng)
    disposition = Disposition.objects.filter(is_active=True).values_list("pk", flat=True).first()
    print("AGENT_SESSIONS=" + json.dumps(sessions))
    print("DISPOSITION=" + json.dumps(disposition), flush=True)


def run_prepare(env: dict[str, str], args: argparse.Namespace) -> tuple[dict[str, str], Any]:
    command = [sys.executable, "-m", "bench.backlog", "prepare", f"--items={args.items}"]
    command += [f"--agents={args.agents}", f"--seed={args.seed}"]
    result = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=PREPARE_SECONDS
    )
    if result.returncode:
        raise RuntimeError(f"prepare failed:\n{result.stderr[-4000:]}")
    printed = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return json.loads(printed["AGENT_SESSIONS"]), json.loads(printed["DISPOSITION"])


# --- the consoles ------------------------------------------------------------------------------


@dataclass
class Floor:
    """What the consoles and the intake saw (wall-clock seconds, except the pings')."""

    handle: float  # mean handle time, seconds
    counted_from: float = math.inf
    counted_until: float = math.inf
    refills: list[float] = field(default_factory=list)
    next_items: list[int] = field(default_factory=list)
    closes: dict[str, tuple[float, int]] = field(default_factory=dict)  # agent -> last close
    enqueues: list[float] = field(default_factory=list)
    # Offers gone by the time their accept arrived, and consoles signed out as absent (their
    # heartbeat waited too long in Daphne's queue): what a real console lives with too.
    conflicts: int = 0
    signed_out: int = 0
    pings: Run = field(default_factory=Run)
    failure: str | None = None

    def offer_read(self, agent: str, work_item_id: int, read: float) -> None:
        last = self.closes.pop(agent, None)
        if last is not None and self.counted_from <= last[0] <= self.counted_until:
            self.refills.append(read - last[0])
            self.next_items.append(work_item_id)

    def fail(self, message: str) -> None:
        self.failure = self.failure or message


async def open_agent(stack: Stack, key: str) -> tuple[ClientConnection, int]:
    """A console, logged in and Offline; the Available status's id."""
    ws = await connect(
        ws_url(stack, "/ws/agent/"),
        origin=Origin(stack.origin),
        additional_headers=session_cookie(key),
        proxy=None,
        open_timeout=60,
        close_timeout=2,
        ping_interval=None,
        max_queue=None,
    )
    snapshot = json.loads(await asyncio.wait_for(ws.recv(), 30))
    if snapshot["type"] != "console.snapshot":
        raise RuntimeError(f"unexpected first frame {snapshot}")
    available = next(s["id"] for s in snapshot["data"]["statuses"] if s["name"] == "Available")
    return ws, available


async def close_later(
    ws: ClientConnection, floor: Floor, agent: str, item: int, handle: float, disposition: Any
) -> None:
    await asyncio.sleep(handle)
    floor.closes[agent] = (time.time(), item)
    close = {"work_item_id": item, "disposition_id": disposition}
    # A close due after the run has ended finds the console closed: nothing to measure.
    with contextlib.suppress(ConnectionClosed):
        await ws.send(json.dumps({"type": "work.close", "data": close}))


async def work_console(
    ws: ClientConnection,
    agent: str,
    floor: Floor,
    handles: random.Random,
    disposition: Any,
    available: int,
) -> None:
    """Accept every offer at once; close each item a handle time after it is assigned."""
    pending: set[asyncio.Task] = set()
    was_available = False
    async for raw in ws:
        read = time.time()
        frame = json.loads(raw)
        kind, data = frame["type"], frame["data"]
        if kind == "offer.created":
            accept = {"type": "offer.accept", "data": {"offer_id": data["offer_id"]}}
            await ws.send(json.dumps(accept))
            floor.offer_read(agent, data["work_item_id"], read)
        elif kind == "work.assigned":
            handle = handles.expovariate(1 / floor.handle)
            task = asyncio.create_task(
                close_later(ws, floor, agent, data["work_item_id"], handle, disposition)
            )
            pending.add(task)
            task.add_done_callback(pending.discard)
        elif kind == PING_TYPE:
            floor.pings.pings[data["seq"]].received = time.monotonic()
        elif kind == "agent.updated" and data.get("status_name") == "Available":
            was_available = True
        elif kind == "agent.updated" and was_available:
            # Signed out by the absence sweep: the agent sets themselves Available again.
            was_available = False
            floor.signed_out += 1
            await ws.send(json.dumps({"type": "presence.set", "data": {"status_id": available}}))
        elif kind == "error" and data["code"] == "conflict":
            floor.conflicts += 1
        elif kind == "error":
            floor.fail(f"agent {agent} got an error frame: {data}")
    floor.fail(f"agent {agent} closed: {ws.close_code} {ws.close_reason}")


def intake(
    env: dict[str, str], logs: Path, rate: float, count: int
) -> contextlib.AbstractAsyncContextManager[asyncio.subprocess.Process]:
    return feeder_process(
        env, logs / "intake.log", "bench.intake_feeder", f"--rate={rate}", f"--count={count}"
    )


async def read_intake(feeder: asyncio.subprocess.Process, floor: Floor) -> None:
    assert feeder.stdout is not None and feeder.stdin is not None
    feeder.stdin.write(b"go\n")
    await feeder.stdin.drain()
    async for line in feeder.stdout:
        kind, _, payload = line.decode().partition(" ")
        data = json.loads(payload)
        if kind == "ITEM":
            floor.enqueues.append(data["committed"] - data["scheduled"])
        elif kind == "DONE":
            return


async def connect_floor(
    stack: Stack, sessions: dict[str, str], floor: Floor, args: argparse.Namespace, disposition: Any
) -> tuple[list[ClientConnection], list[asyncio.Task]]:
    """Every console connected Offline, then each one sets itself Available."""
    sockets: list[ClientConnection] = []
    readers: list[asyncio.Task] = []
    opened = await asyncio.gather(*(open_agent(stack, key) for key in sessions.values()))
    for number, (agent, (ws, available)) in enumerate(zip(sessions, opened, strict=True)):
        sockets.append(ws)
        handles = random.Random(args.seed * 10_000 + number)
        readers.append(
            asyncio.create_task(work_console(ws, agent, floor, handles, disposition, available))
        )
        await ws.send(json.dumps({"type": "presence.set", "data": {"status_id": available}}))
    log(f"{len(sockets)} consoles connected and Available")
    return sockets, readers


async def measure(
    stack: Stack,
    env: dict[str, str],
    sessions: dict[str, str],
    disposition: Any,
    args: argparse.Namespace,
) -> Floor:
    floor = Floor(handle=args.handle)
    sockets, readers = [], []
    try:
        sockets, readers = await connect_floor(stack, sessions, floor, args, disposition)
        span = args.warmup + args.seconds
        async with intake(
            env, stack.logs, args.arrival_rate, int(args.arrival_rate * span)
        ) as feeder:
            now = time.time()
            floor.counted_from, floor.counted_until = now + args.warmup, now + span
            pings = pinging(
                env["REDIS_URL"],
                list(sessions),
                floor.pings,
                rate=args.ping_rate,
                seconds=span,
                phase=lambda elapsed: "warmup" if elapsed < args.warmup else "load",
            )
            await asyncio.gather(read_intake(feeder, floor), pings)
        deadline = time.monotonic() + PING_SETTLE_SECONDS
        while time.monotonic() < deadline and any(
            math.isnan(ping.received) for ping in floor.pings.pings
        ):
            await asyncio.sleep(0.05)
        if floor.failure:
            raise RuntimeError(floor.failure)
        return floor
    finally:
        floor.pings.stop_pings.set()
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


# --- figures ---------------------------------------------------------------------------------


def milliseconds(values: list[float], fraction: float) -> float:
    return round(percentile(values, fraction) * 1000, 1) if values else math.nan


def explain_rounds(floor: Floor, phase_dir: Path) -> None:
    """The rounds that made the counted refills' offers, by phase, on stderr."""
    probe = read_probe(phase_dir)
    phases: dict[str, list[float]] = {"broker": [], "slot": [], "snapshot": [], "plan": []}
    phases.update(claim=[], round=[])
    by_sweep = 0
    for item in floor.next_items:
        made = probe.round_of_item.get(item)
        if made is None:
            continue
        by_sweep += made.get("task", "").endswith("run_sweep")
        task = made.get("id", "")
        if task in probe.published and task in probe.started:
            phases["broker"].append(probe.started[task] - probe.published[task])
            phases["slot"].append(made["start"] - probe.started[task])
        for phase in ("snapshot", "plan", "claim"):
            phases[phase].append(made.get(phase, 0.0))
        phases["round"].append(made["end"] - made["start"])
    log(f"  the rounds that made the counted refills' offers ({by_sweep} by a sweep):")
    for phase, values in phases.items():
        if values:
            log(
                f"    {phase:>8}: p50 {milliseconds(values, 0.5):8.1f} ms, "
                f"p99 {milliseconds(values, 0.99):8.1f} ms"
            )
    if probe.missing:
        log(f"  the phase probe could not find: {', '.join(sorted(set(probe.missing)))}")


def figures(floor: Floor, args: argparse.Namespace) -> dict[str, tuple[float | int, str]]:
    if not floor.refills:
        raise RuntimeError("no agent closed and got a new offer in the counted span")
    sends = ping_latencies(floor.pings, "load")
    refill_p99 = milliseconds(floor.refills, 0.99)
    send_p99 = milliseconds(sends, 0.99)
    verdict = "holds" if refill_p99 < TARGET_MS else "MISSED"
    log(f"target backlog_refill_ms_p99 < {TARGET_MS} ms: {refill_p99} ms, {verdict}")
    return {
        "backlog_items": (args.items, "items"),
        "backlog_agents": (args.agents, "agents"),
        "backlog_refills": (len(floor.refills), "refills"),
        "backlog_offer_conflicts": (floor.conflicts, "frames"),
        "backlog_agents_signed_out": (floor.signed_out, "times"),
        "backlog_refill_ms_p50": (milliseconds(floor.refills, 0.5), "ms"),
        "backlog_refill_ms_p99": (refill_p99, "ms"),
        "backlog_enqueue_ms_p50": (milliseconds(floor.enqueues, 0.5), "ms"),
        "backlog_enqueue_ms_p99": (milliseconds(floor.enqueues, 0.99), "ms"),
        "backlog_redis_send_ms_p99": (send_p99, "ms"),
        "backlog_refill_vs_redis_send_p99": (round(refill_p99 / send_p99, 1), "x"),
        "backlog_load_average": (round(os.getloadavg()[0], 2), "load"),
    }


# --- setup ------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> None:
    with (
        exit_on_sigterm(),
        log_directory("bench-backlog-", keep=args.keep_logs) as logs,
        throwaway_database(prefix="cc_bench") as database_url,
        flushed_redis_db(args.redis_db) as redis_url,
    ):
        env = production_env(database_url, redis_url)
        log("migrating and seeding a throwaway database")
        migrate_and_seed(env)
        started = time.monotonic()
        sessions, disposition = run_prepare(env, args)
        log(
            f"{args.items} waiting items and {args.agents} agents written in "
            f"{time.monotonic() - started:.0f} s"
        )
        phase_dir = logs / "phases"
        phase_dir.mkdir()
        python_path = os.pathsep.join(filter(None, [str(PROBE_DIR), env.get("PYTHONPATH")]))
        env.update(PYTHONPATH=python_path, BENCH_PHASE_DIR=str(phase_dir))
        with running_stack(env, logs, workers=args.workers) as stack:
            floor = asyncio.run(measure(stack, env, sessions, disposition, args))
        explain_rounds(floor, phase_dir)
    report(figures(floor, args))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", default="run", choices=["run", "prepare"])
    parser.add_argument("--items", type=int, default=100_000, help="waiting items")
    parser.add_argument("--agents", type=int, default=200, help="agent consoles, capacity 1")
    parser.add_argument("--handle", type=float, default=30.0, help="mean handle time, seconds")
    parser.add_argument("--seconds", type=float, default=60, help="the counted span")
    parser.add_argument("--warmup", type=float, default=30, help="uncounted seconds first")
    parser.add_argument("--arrival-rate", type=float, default=5, help="new chats a second")
    parser.add_argument("--ping-rate", type=float, default=25, help="bare group_sends a second")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--redis-db", type=int, default=REDIS_DB)
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs")
    args = parser.parse_args()
    if args.items < 1 or args.agents < 1:
        parser.error("--items and --agents must be at least 1")
    return args


def main() -> None:
    args = parse_args()
    if args.command == "prepare":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.config.settings")
        import django

        django.setup()
        prepare(args.items, args.agents, args.seed)
    else:
        run(args)


if __name__ == "__main__":
    main()
