"""Latency from enqueueing a chat to the agent console receiving its ``offer.created`` frame,
through the real production stack, beside the bare Redis channel layer's latency.

    python bench/enqueue_to_offer.py                       # 100 items/s for 20 s, 1 worker
    python bench/enqueue_to_offer.py --workers 2 --rate 50 --seconds 30

The stack is tests/stack.py's: Daphne, ``--workers`` single-process Celery workers and Celery
beat (``--no-beat`` leaves it out) on a throwaway PostgreSQL database and a flushed Redis
logical database, all removed on exit, also after an error or SIGTERM.

How an item is enqueued: as production does it, by a visitor. Each visitor is a real websocket
on /ws/chat/ that starts its chat (``chat.start``) before the timed phase; at a steady
``--rate`` the visitors then send their first ``chat.message``, which enqueues the chat. The
latency of an item runs from that frame's send to an agent console socket (/ws/agent/, logged
in with a session cookie) reading the matching ``offer.created`` (matched by the message, the
offer's preview). The first ``--warmup`` seconds are sent at the same rate but not counted.

Why many agents and no accepting: every item stays a pending offer until the end, so the
server does exactly what a new chat costs (the enqueue, a routing round, the offer and its
pushes) and the agents' own actions add no transactions or rounds to the measured path.
Capacity must then hold every item of the run: each agent gets the model's maximum capacity
(100), an item takes 1 unit, and there are enough agents for all items with some room to
spare. The push time-out is the maximum (600 s), so no offer times out during the run. The
cost of this choice: pending offers pile up, so a round's load query sums over a growing set.

The baseline, in the same run and under the same load: ``--ping-rate`` times a second a bare
channel-layer ``group_send`` (channels_redis, the settings' configuration, the same Redis db)
of a small frame to an agent's group (``agent.<id>``, the group the console joins), timed from
the send to the console socket reading it. Figures: enqueue_to_offer_ms_p50/p99,
redis_group_send_ms_p50/p99 and enqueue_to_offer_vs_redis_send_p99 (x).

On stderr, where the time goes: the same sends on the idle stack (before any item), then each
item's path on this machine's wall clock (all processes share it): send -> the item row's
enqueued_at (Daphne) -> round start (the offer's created_at: broker, task queue) -> the console
reads the offer (the round up to this item, commit, publish, Daphne's relay); how many offers
each round made, and the workers' task durations from their logs (``--keep-logs`` keeps them).
If some item gets no offer within ``--drain-seconds`` of the last send, the stack fell behind
the rate: the script exits with an error and the throughput it did reach, and reports nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import re
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from channels_redis.core import RedisChannelLayer
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from bench.report import report
from contactcenter.realtime import agent_group, envelope
from tests.stack import (
    Stack,
    flushed_redis_db,
    migrate_and_seed,
    production_env,
    running_stack,
    session_cookie,
    shell_script,
    throwaway_database,
    ws_url,
)

# Db 11 is the integration test's; a db of its own lets both run at once.
REDIS_DB = 12
AGENT_CAPACITY = 100  # routing.models.MAX_AGENT_CAPACITY
PUSH_TIMEOUT_SECONDS = 600  # routing.models.MAX_PUSH_TIMEOUT_SECONDS
CAPACITY_HEADROOM = 1.2
# How many visitors connect and start their chat at once while setting up.
SETUP_CONCURRENCY = 25
ITEM_BODY = "bench item {index}"
ITEM_BODY_PATTERN = re.compile(r"^bench item (\d+)$")
PING_TYPE = "bench.ping"
IDLE_PING_SECONDS = 2
TASK_SUCCEEDED = re.compile(rb"Task (routing\.tasks\.\w+)\[[^\]]+\] succeeded in ([0-9.eE-]+)s")

PREPARE_SCRIPT = """
import json

from django.contrib.auth import get_user_model

from routing.models import Agent, PresenceStatus, Queue, RoutingConfig
from routing.services import set_presence

updated = RoutingConfig.objects.filter(name="Web chat").update(
    units_per_item=1, push_timeout_seconds={push_timeout}
)
assert updated == 1, f"expected one 'Web chat' routing configuration, updated {{updated}}"
queue = Queue.objects.get(name="Web chat")
available = PresenceStatus.objects.get(name="Available")
sessions = {{}}
for number in range(1, {agents} + 1):
    user = get_user_model().objects.create_user(
        f"bench{{number:03d}}", first_name="Bench", last_name=f"Agent {{number:03d}}"
    )
    agent = Agent.objects.create(user=user, capacity={capacity})
    queue.members.add(agent)
    set_presence(agent=agent, status_id=available.pk)
    sessions[agent.pk] = new_session_key(user)
print("AGENT_SESSIONS=" + json.dumps(sessions))
"""


@dataclass
class Item:
    """One enqueued chat: when its first message left, and when its offer arrived."""

    index: int
    counted: bool
    sent: float = math.nan  # time.monotonic()
    sent_wall: float = math.nan  # time.time(), to compare with the servers' timestamps
    offered: float = math.nan
    offered_wall: float = math.nan
    enqueued_at_wall: float = math.nan  # the item row's enqueued_at
    round_started_wall: float = math.nan  # the offer's created_at: the round's start

    @property
    def done(self) -> bool:
        return not math.isnan(self.offered)


@dataclass
class Ping:
    phase: str  # "idle" (before any item), "warmup" or "load" (counted)
    sent: float = math.nan
    received: float = math.nan


@dataclass
class Run:
    """Everything the sockets record, read by the figures at the end."""

    items: list[Item]
    pings: list[Ping] = field(default_factory=list)
    failure: str | None = None

    def __post_init__(self) -> None:
        self.offers_missing = len(self.items)

    def offer_received(self, data: dict[str, Any], received: float) -> None:
        match = ITEM_BODY_PATTERN.match(data.get("preview", ""))
        if match is None:
            return
        item = self.items[int(match.group(1))]
        if item.done:
            return
        item.offered = received
        item.offered_wall = time.time()
        item.enqueued_at_wall = datetime.fromisoformat(data["waiting_since"]).timestamp()
        created_at = datetime.fromisoformat(data["expires_at"]).timestamp()
        item.round_started_wall = created_at - data["timeout_seconds"]
        self.offers_missing -= 1

    def settled(self) -> bool:
        """Every item offered, every ping received."""
        return self.offers_missing == 0 and not any(
            math.isnan(ping.received) for ping in self.pings
        )

    def fail(self, message: str) -> None:
        self.failure = self.failure or message


# --- sockets --------------------------------------------------------------------------------


async def open_ws(
    stack: Stack, path: str, headers: dict[str, str] | None = None
) -> ClientConnection:
    return await connect(
        ws_url(stack, path),
        origin=Origin(stack.origin),
        additional_headers=headers,
        proxy=None,
        open_timeout=30,
        close_timeout=2,
        # The benchmark's one process reads thousands of sockets; no per-socket pings needed.
        ping_interval=None,
    )


async def read_console(ws: ClientConnection, run: Run, name: str) -> None:
    """Record offers and pings as they arrive; everything else is skipped."""
    async for raw in ws:
        received = time.monotonic()
        frame = json.loads(raw)
        if frame["type"] == "offer.created":
            run.offer_received(frame["data"], received)
        elif frame["type"] == PING_TYPE:
            run.pings[frame["data"]["seq"]].received = received
        elif frame["type"] == "error":
            run.fail(f"{name} got an error frame: {frame['data']}")
    if not run.settled():
        run.fail(f"{name} closed: {ws.close_code} {ws.close_reason}")


async def read_visitor(ws: ClientConnection, item: Item, run: Run) -> None:
    """Drain the visitor's socket (a full buffer would stall Daphne's sends to it)."""
    async for raw in ws:
        frame = json.loads(raw)
        if frame["type"] == "error":
            run.fail(f"visitor {item.index} got an error frame: {frame['data']}")


async def open_console(stack: Stack, agent_id: str, session_key: str) -> ClientConnection:
    ws = await open_ws(stack, "/ws/agent/", session_cookie(session_key))
    snapshot = json.loads(await asyncio.wait_for(ws.recv(), 10))
    if snapshot["type"] != "console.snapshot" or snapshot["data"]["offers"]:
        raise RuntimeError(f"agent {agent_id}: unexpected first frame {snapshot}")
    if snapshot["data"]["agent"]["status_name"] != "Available":
        raise RuntimeError(f"agent {agent_id} is not Available: {snapshot['data']['agent']}")
    return ws


async def open_visitor(stack: Stack, item: Item, limit: asyncio.Semaphore) -> ClientConnection:
    """A visitor whose chat has started; its first message is the enqueue."""
    async with limit:
        ws = await open_ws(stack, "/ws/chat/")
        name = f"Bench Visitor {item.index}"
        email = f"visitor{item.index}@bench.example.com"
        await ws.send(json.dumps({"type": "chat.start", "data": {"name": name, "email": email}}))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if frame["type"] == "chat.started":
                return ws
            if frame["type"] == "error":
                raise RuntimeError(f"visitor {item.index}: chat.start failed: {frame['data']}")


# --- the timed phase ------------------------------------------------------------------------


async def send_items(visitors: list[ClientConnection], run: Run, rate: float) -> None:
    """Open loop at `rate`: a late send does not delay the ones after it."""
    start = time.monotonic()
    for item, ws in zip(run.items, visitors, strict=True):
        await asyncio.sleep(max(0.0, start + item.index / rate - time.monotonic()))
        message = json.dumps(
            {"type": "chat.message", "data": {"body": ITEM_BODY.format(index=item.index)}}
        )
        item.sent_wall = time.time()
        item.sent = time.monotonic()
        await ws.send(message)


async def send_pings(
    layer: RedisChannelLayer,
    agent_ids: list[str],
    run: Run,
    *,
    rate: float,
    seconds: float,
    phase: Callable[[float], str],
) -> None:
    """Open loop at `rate` for `seconds`, round robin over the agents' groups."""
    start = time.monotonic()
    for number in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, start + number / rate - time.monotonic()))
        seq = len(run.pings)
        group = agent_group(int(agent_ids[seq % len(agent_ids)]))
        ping = Ping(phase=phase(number / rate))
        run.pings.append(ping)
        ping.sent = time.monotonic()
        # The envelope the consumers relay verbatim (AgentConsumer.push_frame).
        await layer.group_send(
            group, {"type": "push.frame", "frame": envelope(PING_TYPE, {"seq": seq})}
        )


async def measure(
    stack: Stack, redis_url: str, sessions: dict[str, str], args: argparse.Namespace
) -> Run:
    total = int(args.rate * (args.warmup + args.seconds))
    run = Run(
        items=[Item(index, counted=index >= args.rate * args.warmup) for index in range(total)]
    )
    layer = RedisChannelLayer(
        # As settings.CHANNEL_LAYERS, so that the baseline pays what the stack's sends pay.
        hosts=[{"address": redis_url, "socket_timeout": None}],
        capacity=1500,
        expiry=60,
    )
    sockets: list[ClientConnection] = []
    readers: list[asyncio.Task] = []
    try:
        for agent_id, key in sessions.items():
            console = await open_console(stack, agent_id, key)
            sockets.append(console)
            readers.append(asyncio.create_task(read_console(console, run, f"agent {agent_id}")))
        limit = asyncio.Semaphore(SETUP_CONCURRENCY)
        visitors = await asyncio.gather(*(open_visitor(stack, item, limit) for item in run.items))
        sockets.extend(visitors)
        readers.extend(
            asyncio.create_task(read_visitor(ws, item, run))
            for ws, item in zip(visitors, run.items, strict=True)
        )
        log(f"{len(sessions)} agent consoles and {total} visitors connected")

        # The same sends on the idle stack first: how much the load itself costs them.
        await send_pings(
            layer,
            list(sessions),
            run,
            rate=args.ping_rate,
            seconds=IDLE_PING_SECONDS,
            phase=lambda elapsed: "idle",
        )
        log("sending items")
        pings = send_pings(
            layer,
            list(sessions),
            run,
            rate=args.ping_rate,
            seconds=args.warmup + args.seconds,
            phase=lambda elapsed: "warmup" if elapsed < args.warmup else "load",
        )
        await asyncio.gather(send_items(visitors, run, args.rate), pings)
        deadline = time.monotonic() + args.drain_seconds
        while not (run.settled() or run.failure) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if run.failure:
            raise RuntimeError(run.failure)
        # Stopped while the visitors are still connected: otherwise every close would make
        # Daphne abandon a chat, thousands of transactions nobody waits for.
        await asyncio.to_thread(stack.stop)
        return run
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        await layer.close_pools()


# --- figures --------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: a value that was measured, never an interpolation."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def milliseconds(seconds: list[float]) -> tuple[float, float]:
    """(p50, p99) in ms, rounded to 0.1 ms."""
    return (
        round(percentile(seconds, 0.50) * 1000, 1),
        round(percentile(seconds, 0.99) * 1000, 1),
    )


def task_durations(stack: Stack) -> dict[str, list[float]]:
    """Each task's run times, from the workers' 'succeeded in' log lines."""
    durations: dict[str, list[float]] = {}
    for name in stack.worker_names:
        for task, seconds in TASK_SUCCEEDED.findall(stack.log(name).read_bytes()):
            durations.setdefault(task.decode(), []).append(float(seconds))
    return durations


def explain(run: Run, stack: Stack) -> None:
    """Where the time goes, on stderr: the reported figures stay on stdout."""
    counted = [item for item in run.items if item.counted and item.done]
    if idle := ping_latencies(run, "idle"):
        idle_p50, idle_p99 = milliseconds(idle)
        log(f"  bare group_send on the idle stack: p50 {idle_p50} ms, p99 {idle_p99} ms")
    stages = {
        "send -> item row's enqueued_at (Daphne)": [
            item.enqueued_at_wall - item.sent_wall for item in counted
        ],
        "enqueued_at -> round start (commit, broker, task queue)": [
            item.round_started_wall - item.enqueued_at_wall for item in counted
        ],
        "round start -> console reads offer (round, commit, publish)": [
            item.offered_wall - item.round_started_wall for item in counted
        ],
    }
    for label, seconds in stages.items():
        if seconds:
            p50, p99 = milliseconds(seconds)
            log(f"  {label}: p50 {p50} ms, p99 {p99} ms")
    rounds = Counter(item.round_started_wall for item in counted)
    if rounds:
        sizes = sorted(rounds.values())
        log(
            f"  offers per round: {len(sizes)} rounds made the counted offers, "
            f"p50 {percentile(sizes, 0.5)}, max {sizes[-1]}"
        )
    for task, seconds in task_durations(stack).items():
        p50, p99 = milliseconds(seconds)
        log(
            f"  {task}: {len(seconds)} runs, p50 {p50} ms, p99 {p99} ms, total {sum(seconds):.1f} s"
        )


def ping_latencies(run: Run, phase: str) -> list[float]:
    """The pings of `phase` that arrived; any lost one is told on stderr."""
    pings = [ping for ping in run.pings if ping.phase == phase]
    arrived = [ping.received - ping.sent for ping in pings if not math.isnan(ping.received)]
    if len(arrived) < len(pings):
        # channels_redis drops what exceeds a channel's capacity (1500) without an error.
        log(f"  {len(pings) - len(arrived)} of {len(pings)} {phase} pings never arrived")
    return arrived


def figures(run: Run) -> dict[str, tuple[float | int, str]]:
    latencies = [item.offered - item.sent for item in run.items if item.counted]
    pings = ping_latencies(run, "load")
    offer_p50, offer_p99 = milliseconds(latencies)
    send_p50, send_p99 = milliseconds(pings)
    return {
        "enqueue_to_offer_ms_p50": (offer_p50, "ms"),
        "enqueue_to_offer_ms_p99": (offer_p99, "ms"),
        "redis_group_send_ms_p50": (send_p50, "ms"),
        "redis_group_send_ms_p99": (send_p99, "ms"),
        "enqueue_to_offer_vs_redis_send_p99": (round(offer_p99 / send_p99, 1), "x"),
    }


# --- setup ----------------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def agents_needed(items: int) -> int:
    return math.ceil(items * CAPACITY_HEADROOM / AGENT_CAPACITY)


def log_in_agents(env: dict[str, str], count: int) -> dict[str, str]:
    """Create `count` Available agents in the chat queue; their ids and session keys."""
    script = PREPARE_SCRIPT.format(
        push_timeout=PUSH_TIMEOUT_SECONDS, agents=count, capacity=AGENT_CAPACITY
    )
    return json.loads(shell_script(env, script)["AGENT_SESSIONS"])


@contextlib.contextmanager
def log_directory(*, keep: bool) -> Iterator[Path]:
    """Where the processes log: removed afterwards unless `keep`."""
    if keep:
        path = Path(tempfile.mkdtemp(prefix="bench-enqueue-"))
        log(f"logs in {path}")
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="bench-enqueue-") as path:
        yield Path(path)


@contextlib.contextmanager
def exit_on_sigterm() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so that the processes and the database are cleaned up."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100, help="items enqueued per second")
    parser.add_argument("--seconds", type=float, default=20, help="length of the counted phase")
    parser.add_argument("--warmup", type=float, default=2, help="uncounted seconds first")
    parser.add_argument("--workers", type=int, default=1, help="Celery worker processes")
    parser.add_argument("--no-beat", dest="beat", action="store_false", help="no Celery beat")
    parser.add_argument("--ping-rate", type=float, default=25, help="bare group_sends a second")
    parser.add_argument(
        "--drain-seconds", type=float, default=120, help="wait this long for late offers"
    )
    parser.add_argument("--redis-db", type=int, default=REDIS_DB)
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs")
    args = parser.parse_args()
    if args.warmup + args.seconds + args.drain_seconds > PUSH_TIMEOUT_SECONDS / 2:
        parser.error("the run must stay well inside the 600 s push time-out")
    return args


def main() -> None:
    args = parse_args()
    items = int(args.rate * (args.warmup + args.seconds))
    with (
        exit_on_sigterm(),
        log_directory(keep=args.keep_logs) as logs,
        throwaway_database(prefix="cc_bench") as database_url,
        flushed_redis_db(args.redis_db) as redis_url,
    ):
        env = production_env(database_url, redis_url)
        log("migrating and seeding a throwaway database")
        migrate_and_seed(env)
        sessions = log_in_agents(env, agents_needed(items))
        with running_stack(env, logs, workers=args.workers, beat=args.beat) as stack:
            run = asyncio.run(measure(stack, redis_url, sessions, args))
        explain(run, stack)
    missing = [item for item in run.items if not item.done]
    if missing:
        # Percentiles of the items that made it would flatter a stack that fell behind.
        offered = [item.offered for item in run.items if item.done]
        throughput = len(offered) / (max(offered) - run.items[0].sent) if offered else 0
        sys.exit(
            f"the stack fell behind: {len(missing)} of {len(run.items)} items got no offer "
            f"within {args.drain_seconds:g} s of the last send; it offered {throughput:.0f} "
            f"items/s against {args.rate:g} sent. Try a lower --rate or more --workers."
        )
    report(figures(run))


if __name__ == "__main__":
    main()
