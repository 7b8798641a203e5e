"""A whole floor on the production stack: N agent consoles working chats and 20 supervisor
dashboards, as real websocket clients from processes of their own, arrivals through the public
intake API at a steady rate and then a burst.

    python bench/floor.py                      # 2,000 agents, 20 dashboards, 20/s then 100/s
    python bench/floor.py --quick              # 200 agents, 5 dashboards, short phases
    python bench/floor.py --agents 7500 --client-processes 6

The stack is tests/stack.py's: two Daphne processes (``--daphnes``), two single-process
Celery workers (``--workers``) and Celery beat, on a throwaway PostgreSQL database and a
flushed Redis logical database, all removed on exit, also after an error, Ctrl-C or SIGTERM.
Every wait has a time-out; a step that fails says which, and what the processes logged.

The floor (bench/floor_seed.py, in bulk): ``--agents`` agents of capacity ``--capacity``
(every queue takes one unit per item), members of every queue with every skill, logged in
with database sessions; one session per dashboard for the demo's supervisor; a DRF token for
the intake API. The intake API's channel (social) goes straight to its queue, no bot.

The load (bench/floor_client.py, bench/floor_feeder.py), apart from the server's processes:
``--client-processes`` processes share the agent consoles, spread over the Daphne processes;
each agent sets itself Available, accepts each offer after 0.2-0.5 s, sends two replies over
a handle time of ``--handle-seconds`` and closes with a disposition. One more process holds
the dashboards: dashboard ``i`` asks for the page at offset ``i * 50`` (``dashboard.view``),
so 20 of them watch 1,000 agents. The feeder posts ``POST /api/interactions/`` over HTTP to
the Daphne processes in turn: ``--rate`` a second for ``--warmup`` s (not counted), then for
``--seconds`` s (the steady phase), then ``--burst-rate`` for ``--burst-seconds`` s.

The order of a run: connect the floor (Daphne's RSS before and after), let it settle, an idle
window of ``--idle-seconds`` (CPU and row writes), the phases, then a drain until nothing waits.

Figures, ``name value unit`` on stdout and merged into bench/results.json (README, "Benchmarks",
says what each means and what limits it): floor_agents, floor_dashboards,
floor_enqueue_to_offer_ms_p50/p99 (steady) and floor_burst_enqueue_to_offer_ms_p50/p99 (from the
intake API's response to the console reading ``offer.created`` for that work item),
floor_supervisor_lag_ms_p50/p99 (steady; from the console reading the offer to the first
dashboard frame listing the item in that agent's row, for agents in some dashboard's view),
floor_idle_cpu_pct and floor_idle_db_writes_per_s, floor_steady_cpu_pct,
floor_dashboard_bytes_per_s and floor_dashboard_frames_per_s (per dashboard, steady),
floor_rss_mb_per_1000_sockets, the achieved rates, the same-run baseline
floor_redis_group_send_ms_p50/p99 (a bare channel-layer send to a console, steady) with the
ratio floor_enqueue_to_offer_vs_redis_send_p99, the client processes' CPU, the counts
floor_intake_refused, floor_items_never_offered and floor_supervisor_items_never_shown (an item
never offered or never shown counts in its percentiles until the end of the run),
floor_agents_available_at_end, floor_db_connections_max, floor_connect_seconds and
floor_connect_retries, and floor_load_average_1m_start / floor_load_average_1m
(os.getloadavg before and after the run).
On stderr: where the time and the bytes went.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import resource
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from channels_redis.core import RedisChannelLayer

from bench import floor_probe as probe
from bench.floor_seed import Floor, seed_floor
from bench.harness import exit_on_sigterm, log, log_directory, percentile
from bench.report import report
from contactcenter.kernel.realtime import agent_group, envelope
from tests.stack import (
    REPO,
    Stack,
    flushed_redis_db,
    log_tail,
    migrate_and_seed,
    production_env,
    running_stack,
    throwaway_database,
)

# A db no other test or benchmark uses (6: ideal_routing, 7: backlog, 9: enqueue_to_offer,
# 11: scaled-out chat test, 14: routing under load): two runs on one db read each other's
# pushes, and each flushes the other's.
REDIS_DB = 12
CHANNEL = "social"
PUSH_TIMEOUT_SECONDS = 120
PAGE_SIZE = 50
SETTLE_SECONDS = 5
FRAMES_SETTLE_SECONDS = 3
READY_SECONDS = 30
STOP_SECONDS = 60
REQUEST_TIMEOUT_SECONDS = 30
PING_TYPE = "bench.ping"
# A load process above this share of one core is likely the bottleneck of what it measures.
CLIENT_CPU_WARNING_PCT = 80
RATE_TOLERANCE = 0.95


# --- the load processes ---------------------------------------------------------------------


@dataclass
class LoadProcess:
    """A bench/floor_*.py process: line protocol on stdin/stdout, result in a JSON file."""

    name: str
    proc: asyncio.subprocess.Process
    result_path: Path
    log_path: Path

    async def expect(self, word: str, timeout: float) -> None:
        """Read lines until one is `word`; progress lines go to stderr."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = await asyncio.wait_for(self.proc.stdout.readline(), max(remaining, 0.01))
            except TimeoutError:
                raise RuntimeError(self.failure(f"no {word} within {timeout:g} s")) from None
            text = line.decode().strip()
            if text == word:
                return
            if not line or text.startswith("FAILED"):
                raise RuntimeError(self.failure(text or "exited"))
            log(f"  {self.name}: {text}")

    def failure(self, what: str) -> str:
        return f"load process {self.name}: {what}\n{log_tail(self.log_path)}"

    async def tell(self, line: str = "go") -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()

    async def finish(self, timeout: float) -> dict[str, Any]:
        await self.expect("DONE", timeout)
        await asyncio.wait_for(self.proc.wait(), STOP_SECONDS)
        return json.loads(self.result_path.read_text())


@contextlib.asynccontextmanager
async def load_processes(
    specs: list[tuple[str, str, dict[str, Any]]], logs: Path
) -> AsyncIterator[list[LoadProcess]]:
    """One process per (name, module, spec), started; killed on the way out if still running."""
    started: list[LoadProcess] = []
    try:
        for name, module, spec in specs:
            spec_path, result_path = logs / f"{name}.spec.json", logs / f"{name}.result.json"
            spec_path.write_text(json.dumps(spec))
            log_path = logs / f"{name}.log"
            with log_path.open("wb") as stderr:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    module,
                    str(spec_path),
                    str(result_path),
                    cwd=REPO,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=stderr,
                )
            started.append(LoadProcess(name, proc, result_path, log_path))
        yield started
    finally:
        for process in started:
            if process.proc.returncode is None:
                process.proc.kill()
        for process in started:
            await process.proc.wait()


def client_specs(
    stack: Stack, floor: Floor, args: argparse.Namespace
) -> list[tuple[str, str, dict]]:
    """The agent consoles in ``--client-processes`` shares, and the dashboards; sockets go to
    the Daphne processes in turn."""
    ports = stack.ports
    common = {
        "available_status_id": floor.available_status_id,
        "connect_timeout": args.connect_seconds,
        # Handshakes in progress at once per load process; Daphne drops one that its
        # application has not accepted within 5 s, and each waits for the process's one
        # database thread.
        "concurrent_opens": args.concurrent_opens,
        "page_size": PAGE_SIZE,
        "behaviour": {
            "accept_delay": [0.2, 0.5],
            "handle_seconds": args.handle_seconds,
            "messages": 2,
        },
    }
    agents = [
        [agent_id, key, ports[number % len(ports)]]
        for number, (agent_id, key) in enumerate(floor.agents)
    ]
    specs = []
    for share in range(args.client_processes):
        spec = {
            **common,
            "role": "agents",
            "seed": share,
            "agents": agents[share :: args.client_processes],
        }
        specs.append((f"agents{share + 1}", "bench.floor_client", spec))
    dashboards = [
        {"session_key": key, "port": ports[number % len(ports)], "offset": number * PAGE_SIZE}
        for number, key in enumerate(floor.supervisor_sessions)
    ]
    specs.append(
        (
            "dashboards",
            "bench.floor_client",
            {**common, "role": "dashboards", "dashboards": dashboards},
        )
    )
    return specs


def feeder_spec(stack: Stack, floor: Floor, args: argparse.Namespace) -> tuple[str, str, dict]:
    phases = [
        ["warmup", args.rate, args.warmup],
        ["steady", args.rate, args.seconds],
        ["burst", args.burst_rate, args.burst_seconds],
    ]
    spec = {
        "ports": stack.ports,
        "token": floor.intake_token,
        "channel": CHANNEL,
        "phases": [phase for phase in phases if phase[2] > 0],
        "request_timeout": REQUEST_TIMEOUT_SECONDS,
        "concurrency": args.intake_concurrency,
    }
    return ("feeder", "bench.floor_feeder", spec)


# --- the server, watched ---------------------------------------------------------------------


@dataclass
class Watch:
    """Where the server's processes are, for CPU and memory readings."""

    stack: Stack
    database: probe.Database
    redis_url: str

    def groups(self) -> dict[str, list[int]]:
        """Each of the stack's processes with its children (a worker's pool), the database's
        backends, the Redis server."""
        groups = {
            name: probe.descendants([proc.pid]) for name, proc in self.stack.processes.items()
        }
        groups["postgres"] = self.database.backends()
        if (pid := probe.redis_server_pid(self.redis_url)) is not None:
            groups["redis"] = [pid]
        return groups

    def sample(self) -> tuple[float, probe.CpuSample]:
        return time.monotonic(), probe.sample_cpu(self.groups())

    def daphne_rss_kb(self) -> int:
        return sum(probe.rss_kb(self.stack.processes[name].pid) for name in self.stack.daphne_names)


def cpu_between(
    before: tuple[float, probe.CpuSample], after: tuple[float, probe.CpuSample]
) -> dict[str, float]:
    return probe.cpu_percent(before[1], after[1], after[0] - before[0])


@dataclass
class Idle:
    seconds: float
    cpu: dict[str, float]  # % of one core, per group
    writes: int
    tables: dict[str, int]  # rows written per table


async def idle_window(watch: Watch, seconds: float) -> Idle:
    """CPU and row writes while the floor and the dashboards are connected and nothing arrives."""
    writes_before, tables_before = watch.database.writes()
    before = watch.sample()
    await asyncio.sleep(seconds)
    after = watch.sample()
    writes_after, tables_after = watch.database.writes()
    tables = {
        name: rows - tables_before.get(name, 0)
        for name, rows in tables_after.items()
        if rows > tables_before.get(name, 0)
    }
    return Idle(
        after[0] - before[0], cpu_between(before, after), writes_after - writes_before, tables
    )


async def wait_until(label: str, check: Any, timeout: float, every: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(check):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{label}: not so after {timeout:g} s")
        await asyncio.sleep(every)


def available_agents(database: probe.Database, status_id: int) -> int:
    return database.count(
        "SELECT count(*) FROM routing_agent a JOIN auth_user u ON u.id = a.user_id "
        "WHERE a.status_id = %s AND u.username LIKE 'floor%%'",
        status_id,
    )


def waiting_items(database: probe.Database) -> int:
    return database.count("SELECT count(*) FROM routing_workitem WHERE status = %s", "queued")


# --- the baseline ---------------------------------------------------------------------------


async def send_pings(redis_url: str, agent_ids: list[int], rate: float, seconds: float) -> int:
    """Bare channel-layer sends to consoles' groups, open loop, round robin; the consoles
    record when they read them. Returns how many were sent."""
    layer = RedisChannelLayer(
        # As settings.CHANNEL_LAYERS, so that the baseline pays what the stack's sends pay.
        hosts=[{"address": redis_url, "socket_timeout": None}],
        capacity=20000,
        expiry=60,
    )
    count = int(rate * seconds)
    try:
        start = time.monotonic()
        for seq in range(count):
            await asyncio.sleep(max(0.0, start + seq / rate - time.monotonic()))
            frame = envelope(PING_TYPE, {"seq": seq, "sent": time.time()})
            group = agent_group(agent_ids[seq * 7919 % len(agent_ids)])
            await layer.group_send(group, {"type": "push.frame", "frame": frame})
    finally:
        await layer.close_pools()
    return count


# --- the run --------------------------------------------------------------------------------


@dataclass
class Run:
    """What the run saw, for the figures."""

    agents: int
    dashboards: int
    sockets: int = 0
    rss_before_kb: int = 0
    rss_after_kb: int = 0
    connect_seconds: float = 0
    idle: Idle | None = None
    steady_cpu: dict[str, float] = field(default_factory=dict)
    feeder: dict[str, Any] = field(default_factory=dict)
    clients: dict[str, dict[str, Any]] = field(default_factory=dict)
    pings_sent: int = 0
    drained: bool = False
    load_start: float = 0
    load_end: float = 0
    final_state: dict[str, list[tuple]] = field(default_factory=dict)
    stopped_at: float = math.nan  # the load processes were told to stop (wall clock)
    activity: list[tuple] = field(default_factory=list)  # mid-steady pg_stat_activity
    connections: list[tuple[float, int]] = field(default_factory=list)  # (wall, backends)

    def window(self, phase: str) -> tuple[float, float]:
        """Wall-clock start and end of a phase of the feeder."""
        start = self.feeder["go"]
        for name, _rate, seconds in self.feeder["phases"]:
            if name == phase:
                return start, start + seconds
            start += seconds
        return math.nan, math.nan


async def connect_agents(
    processes: list[LoadProcess], watch: Watch, floor: Floor, run: Run, args: argparse.Namespace
) -> None:
    started = time.monotonic()
    await asyncio.gather(
        *(p.expect("READY", args.connect_seconds + READY_SECONDS) for p in processes)
    )
    log(f"{run.agents} consoles connected; waiting for them to be Available")
    await wait_until(
        "every agent Available",
        lambda: available_agents(watch.database, floor.available_status_id) == run.agents,
        args.connect_seconds,
    )
    run.connect_seconds = time.monotonic() - started


async def phases(
    feeder: LoadProcess, watch: Watch, floor: Floor, run: Run, args: argparse.Namespace
) -> None:
    """The arrivals; meanwhile the baseline pings and the server's CPU over the steady phase."""
    await feeder.tell()
    go = time.monotonic()
    total = args.warmup + args.seconds + args.burst_seconds

    async def steady_cpu() -> None:
        await asyncio.sleep(args.warmup)
        before = watch.sample()
        await asyncio.sleep(max(0.0, go + args.warmup + args.seconds - time.monotonic()))
        run.steady_cpu = cpu_between(before, watch.sample())

    async def activity() -> None:
        # What the run's database connections are doing halfway through the steady phase.
        await asyncio.sleep(args.warmup + args.seconds / 2)
        run.activity = await asyncio.to_thread(watch.database.rows, ACTIVITY_QUERY)

    async def baseline() -> None:
        await asyncio.sleep(args.warmup)
        agent_ids = [agent_id for agent_id, _ in floor.agents]
        run.pings_sent = await send_pings(watch.redis_url, agent_ids, args.ping_rate, args.seconds)

    # A stack that cannot keep the rate answers late: the feeder gets four times the schedule
    # to send it all, and the achieved rates say how far it fell behind.
    timeout = 4 * total + REQUEST_TIMEOUT_SECONDS + READY_SECONDS
    run.feeder, *_ = await asyncio.gather(
        feeder.finish(timeout), steady_cpu(), baseline(), activity()
    )
    run.feeder["phases"] = feeder_phases(args)


def feeder_phases(args: argparse.Namespace) -> list[tuple[str, float, float]]:
    return [
        ("warmup", args.rate, args.warmup),
        ("steady", args.rate, args.seconds),
        ("burst", args.burst_rate, args.burst_seconds),
    ]


ACTIVITY_QUERY = (
    "SELECT state, coalesce(wait_event_type || ':' || wait_event, 'running'), count(*), "
    "min(left(regexp_replace(query, '\\s+', ' ', 'g'), 90)) "
    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "GROUP BY 1, 2 ORDER BY 3 DESC"
)
FINAL_STATE_QUERIES = {
    "floor agents by presence": (
        "SELECT coalesce(s.name, 'offline'), count(*) FROM routing_agent a "
        "JOIN auth_user u ON u.id = a.user_id "
        "LEFT JOIN routing_presencestatus s ON s.id = a.status_id "
        "WHERE u.username LIKE 'floor%' GROUP BY 1 ORDER BY 2 DESC"
    ),
    "work items by status": (
        "SELECT status, count(*) FROM routing_workitem GROUP BY 1 ORDER BY 2 DESC"
    ),
    "offers by outcome": "SELECT outcome, count(*) FROM routing_offer GROUP BY 1 ORDER BY 2 DESC",
}


async def drain(watch: Watch, run: Run, args: argparse.Namespace) -> None:
    """Until nothing waits (every item offered), then a moment for the last frames."""
    try:
        await wait_until(
            "nothing waiting", lambda: waiting_items(watch.database) == 0, args.drain_seconds
        )
        run.drained = True
    except RuntimeError:
        log(f"WARNING: items still waiting {args.drain_seconds:g} s after the last arrival")
    await asyncio.sleep(FRAMES_SETTLE_SECONDS)
    run.final_state = {
        label: await asyncio.to_thread(watch.database.rows, query)
        for label, query in FINAL_STATE_QUERIES.items()
    }


async def count_connections(watch: Watch, run: Run) -> None:
    """The run's database connections once a second: PostgreSQL's max_connections is shared
    by everything on this machine, and the server's processes hold one per thread."""
    while True:
        backends = await asyncio.to_thread(watch.database.backends)
        run.connections.append((time.time(), len(backends)))
        await asyncio.sleep(1)


async def measure(
    stack: Stack, watch: Watch, floor: Floor, logs: Path, args: argparse.Namespace
) -> Run:
    run = Run(agents=len(floor.agents), dashboards=len(floor.supervisor_sessions))
    *agent_specs, dashboard_spec = client_specs(stack, floor, args)
    counting = asyncio.create_task(count_connections(watch, run))
    run.rss_before_kb = watch.daphne_rss_kb()
    async with load_processes([*agent_specs, feeder_spec(stack, floor, args)], logs) as started:
        *agents, feeder = started
        await connect_agents(agents, watch, floor, run, args)
        # The dashboards come once the floor is in: a supervisor's snapshot of a floor that
        # is still logging in would take its handshake past Daphne's time-out.
        async with load_processes([dashboard_spec], logs) as dashboards:
            await dashboards[0].expect("READY", args.connect_seconds + READY_SECONDS)
            run.rss_after_kb = watch.daphne_rss_kb()
            run.sockets = run.agents + run.dashboards
            log(f"floor connected in {run.connect_seconds:.1f} s; settling {SETTLE_SECONDS} s")
            await feeder.expect("READY", READY_SECONDS)
            await asyncio.sleep(SETTLE_SECONDS)
            log(f"idle window: {args.idle_seconds:g} s")
            run.idle = await idle_window(watch, args.idle_seconds)
            phase_list = ", ".join(f"{n} {r:g}/s for {s:g} s" for n, r, s in feeder_phases(args))
            log(f"arrivals: {phase_list}")
            await phases(feeder, watch, floor, run, args)
            await drain(watch, run, args)
            clients = [*agents, *dashboards]
            run.stopped_at = time.time()
            for client in clients:
                await client.tell("stop")
            for client in clients:
                run.clients[client.name] = await client.finish(STOP_SECONDS)
    counting.cancel()
    return run


# --- figures --------------------------------------------------------------------------------


def ms(values: list[float], fraction: float) -> float:
    return round(percentile(values, fraction) * 1000, 1)


@dataclass
class Seen:
    """The load processes' records, merged."""

    offers: dict[int, tuple[int, float]]  # item: (agent, first read at)
    on_dashboard: dict[int, tuple[int, float]]  # item: (agent, first frame listing it)
    watched: set[int]  # agents in some dashboard's view
    frames: list[list[tuple[float, int]]]  # per dashboard: (read at, bytes)
    pings: list[tuple[int, float, float]]


def merged(run: Run) -> Seen:
    seen = Seen({}, {}, set(), [], [])
    for record in run.clients.values():
        for item, agent, at in record["offers"]:
            if item not in seen.offers or at < seen.offers[item][1]:
                seen.offers[item] = (agent, at)
        for item, (agent, at) in record["seen"].items():
            if int(item) not in seen.on_dashboard or at < seen.on_dashboard[int(item)][1]:
                seen.on_dashboard[int(item)] = (agent, at)
        seen.watched.update(record["view_agents"])
        seen.frames.extend(record["frames"])
        seen.pings.extend(record["pings"])
    return seen


def arrivals(run: Run, phase: str) -> list[dict[str, Any]]:
    return [a for a in run.feeder["arrivals"] if a["phase"] == phase]


def offer_latencies(run: Run, seen: Seen, phase: str) -> tuple[list[float], int]:
    """From the intake API's answer to the console reading the offer; and how many of the
    phase's stored items got no offer. An item never offered counts as waiting until the end
    of the run (a lower bound): leaving it out would flatter a stack that fell behind."""
    latencies, missing = [], 0
    for arrival in arrivals(run, phase):
        if arrival["work_item_id"] is None:
            continue
        if (offer := seen.offers.get(arrival["work_item_id"])) is None:
            missing += 1
            latencies.append(run.stopped_at - arrival["answered"])
        else:
            latencies.append(offer[1] - arrival["answered"])
    return latencies, missing


def supervisor_lags(run: Run, seen: Seen, phase: str) -> tuple[list[float], int]:
    """From the console reading the offer to the first dashboard frame listing the item in
    that agent's row, for items offered to watched agents; and how many never showed. One
    never shown counts as unseen until the end of the run (a lower bound)."""
    lags, missing = [], 0
    for arrival in arrivals(run, phase):
        offer = seen.offers.get(arrival["work_item_id"])
        if offer is None or offer[0] not in seen.watched:
            continue
        shown = seen.on_dashboard.get(arrival["work_item_id"])
        if shown is None or shown[0] != offer[0]:
            missing += 1
            lags.append(run.stopped_at - offer[1])
        else:
            lags.append(shown[1] - offer[1])
    return lags, missing


def achieved_rate(run: Run, phase: str) -> float:
    answered = [a["answered"] for a in arrivals(run, phase) if a["status"] == 201]
    if len(answered) < 2:
        return 0.0
    return round((len(answered) - 1) / (max(answered) - min(answered)), 1)


def dashboard_rates(run: Run, seen: Seen) -> tuple[float, float]:
    """Bytes and frames a second per dashboard, mean over the dashboards, steady phase."""
    start, end = run.window("steady")
    per_dashboard = [[size for at, size in frames if start <= at < end] for frames in seen.frames]
    if not per_dashboard:
        return 0.0, 0.0
    seconds = end - start
    mean_bytes = sum(sum(sizes) for sizes in per_dashboard) / len(per_dashboard) / seconds
    mean_frames = sum(len(sizes) for sizes in per_dashboard) / len(per_dashboard) / seconds
    return round(mean_bytes), round(mean_frames, 2)


def client_cpu_pct(record: dict[str, Any], start: float, end: float) -> float:
    """A load process's own CPU over a window, from its once-a-second samples."""
    inside = [(at, cpu) for at, cpu in record["cpu"] if start - 1 <= at <= end + 1]
    if len(inside) < 2:
        return math.nan
    return round(100 * (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0]), 1)


def ping_latencies(run: Run, seen: Seen) -> list[float]:
    return [received - sent for _, sent, received in seen.pings]


def latency_figures(run: Run, seen: Seen) -> dict[str, tuple[float | int, str]]:
    steady, never_offered = offer_latencies(run, seen, "steady")
    burst, burst_never_offered = offer_latencies(run, seen, "burst")
    lags, never_shown = supervisor_lags(run, seen, "steady")
    burst_lags, burst_never_shown = supervisor_lags(run, seen, "burst")
    pings = ping_latencies(run, seen)
    refused = [a for a in run.feeder["arrivals"] if a["phase"] != "warmup" and a["status"] != 201]
    figures = {
        "floor_intake_refused": (len(refused), "arrivals"),
        "floor_items_never_offered": (never_offered + burst_never_offered, "items"),
        "floor_supervisor_items_never_shown": (never_shown + burst_never_shown, "items"),
        "floor_enqueue_to_offer_ms_p50": (ms(steady, 0.5), "ms"),
        "floor_enqueue_to_offer_ms_p99": (ms(steady, 0.99), "ms"),
        "floor_burst_enqueue_to_offer_ms_p50": (ms(burst, 0.5), "ms"),
        "floor_burst_enqueue_to_offer_ms_p99": (ms(burst, 0.99), "ms"),
        "floor_supervisor_lag_ms_p50": (ms(lags, 0.5), "ms"),
        "floor_supervisor_lag_ms_p99": (ms(lags, 0.99), "ms"),
        "floor_burst_supervisor_lag_ms_p99": (ms(burst_lags, 0.99), "ms"),
        "floor_redis_group_send_ms_p50": (ms(pings, 0.5), "ms"),
        "floor_redis_group_send_ms_p99": (ms(pings, 0.99), "ms"),
    }
    if pings and steady:
        ratio = percentile(steady, 0.99) / percentile(pings, 0.99)
        figures["floor_enqueue_to_offer_vs_redis_send_p99"] = (round(ratio, 1), "x")
    return figures


def available_at_end(run: Run) -> int:
    by_presence = dict(run.final_state.get("floor agents by presence", []))
    return int(by_presence.get("Available", 0))


def figures(run: Run) -> dict[str, tuple[float | int, str]]:
    seen = merged(run)
    idle = run.idle
    assert idle is not None
    bytes_per_s, frames_per_s = dashboard_rates(run, seen)
    rss_growth_mb = (run.rss_after_kb - run.rss_before_kb) / 1024
    start, end = run.window("steady")
    client_cpu = [
        client_cpu_pct(r, start, end) for n, r in run.clients.items() if n != "dashboards"
    ]
    return {
        "floor_agents": (run.agents, "agents"),
        "floor_dashboards": (run.dashboards, "dashboards"),
        **latency_figures(run, seen),
        "floor_idle_cpu_pct": (round(sum(idle.cpu.values()), 1), "%"),
        "floor_idle_cpu_pct_redis": (round(idle.cpu.get("redis", 0.0), 1), "%"),
        "floor_idle_db_writes_per_s": (round(idle.writes / idle.seconds, 1), "rows/s"),
        "floor_steady_cpu_pct": (round(sum(run.steady_cpu.values()), 1), "%"),
        "floor_dashboard_bytes_per_s": (bytes_per_s, "B/s"),
        "floor_dashboard_frames_per_s": (frames_per_s, "frames/s"),
        "floor_rss_mb_per_1000_sockets": (round(rss_growth_mb / (run.sockets / 1000), 1), "MB"),
        "floor_rate_achieved": (achieved_rate(run, "steady"), "items/s"),
        "floor_burst_rate_achieved": (achieved_rate(run, "burst"), "items/s"),
        "floor_client_cpu_pct_max": (max(client_cpu, default=math.nan), "%"),
        "floor_connect_seconds": (round(run.connect_seconds, 1), "s"),
        "floor_connect_retries": (sum(r["reconnects"] for r in run.clients.values()), "handshakes"),
        # Below floor_agents: the absence sweep signed consoles out whose heartbeats were late.
        "floor_agents_available_at_end": (available_at_end(run), "agents"),
        "floor_db_connections_max": (
            max((n for _, n in run.connections), default=0),
            "connections",
        ),
        "floor_load_average_1m_start": (round(run.load_start, 2), ""),
        "floor_load_average_1m": (round(run.load_end, 2), ""),
    }


# --- where the time went, on stderr ---------------------------------------------------------


def shares(cpu: dict[str, float]) -> str:
    return ", ".join(f"{group} {pct:.1f} %" for group, pct in cpu.items())


def explain_server(run: Run) -> None:
    idle = run.idle
    assert idle is not None
    log(f"  idle window {idle.seconds:.1f} s, CPU of one core: {shares(idle.cpu)}")
    top = sorted(idle.tables.items(), key=lambda pair: -pair[1])[:5]
    log(f"  idle row writes {idle.writes} in all; by table: {top or 'none'}")
    log(f"  steady phase CPU of one core: {shares(run.steady_cpu)}")
    for phase in ("steady", "burst"):
        start, end = run.window(phase)
        held = [n for at, n in run.connections if start <= at <= end]
        log(f"  {phase}: database connections of the run, max {max(held, default=0)}")
    growth = (run.rss_after_kb - run.rss_before_kb) / 1024
    log(
        f"  Daphne RSS {run.rss_before_kb / 1024:.0f} MB -> {run.rss_after_kb / 1024:.0f} MB "
        f"(+{growth:.0f} MB for {run.sockets} sockets)"
    )


def explain_items(run: Run, seen: Seen) -> None:
    for phase in ("steady", "burst"):
        stored = [a for a in arrivals(run, phase) if a["status"] == 201]
        refused = len(arrivals(run, phase)) - len(stored)
        answer = [a["answered"] - a["started"] for a in stored]
        late = [a["started"] - a["scheduled"] for a in stored]
        _, missing = offer_latencies(run, seen, phase)
        lags, unseen = supervisor_lags(run, seen, phase)
        shown = len(lags) - unseen
        log(
            f"  {phase}: {len(stored)} stored, {refused} refused or failed; intake answer "
            f"p50 {ms(answer, 0.5)} ms p99 {ms(answer, 0.99)} ms; started late p99 "
            f"{ms(late, 0.99)} ms; {missing} never offered; {len(lags)} offers to watched "
            f"agents, {shown} shown on a dashboard, {unseen} never"
        )
    errors = [a["error"] for a in run.feeder["arrivals"] if a.get("error")]
    if errors:
        log(f"  intake errors, first: {errors[:3]}")
    log(
        f"  {len(seen.watched)} agents in the dashboards' views; "
        f"{len(seen.pings)} of {run.pings_sent} pings read"
    )


def explain_clients(run: Run) -> None:
    start, end = run.window("steady")
    for name, record in run.clients.items():
        cpu = client_cpu_pct(record, start, end)
        log(
            f"  {name}: CPU {cpu} % of one core (steady); accepted {record['accepted']}, "
            f"closed {record['closed']}, error frames {record['error_count']}, "
            f"sockets closed early {record['dropped']}, handshakes tried again "
            f"{record['reconnects']}"
        )
        for error in record["errors"][:3]:
            log(f"    {error[:300]}")
        if cpu > CLIENT_CPU_WARNING_PCT:
            log(f"  WARNING: {name} used {cpu} % of a core: it may be what limits the figures")
    cpu = run.feeder["cpu_seconds"] / sum(seconds for _, _, seconds in run.feeder["phases"])
    log(f"  feeder: CPU {100 * cpu:.1f} % of one core over the phases")


def explain(run: Run, args: argparse.Namespace) -> None:
    seen = merged(run)
    log("where it went:")
    explain_server(run)
    explain_items(run, seen)
    explain_clients(run)
    for phase, rate in (("steady", args.rate), ("burst", args.burst_rate)):
        achieved = achieved_rate(run, phase)
        if arrivals(run, phase) and achieved < RATE_TOLERANCE * rate:
            log(f"WARNING: the {phase} phase reached {achieved} items/s, not {rate:g}")
    log("  the run's database connections halfway through the steady phase:")
    for state, wait, count, query in run.activity:
        log(f"    {count} {state} {wait}: e.g. {query}")
    for label, rows in run.final_state.items():
        log(f"  at the end, {label}: {rows}")
    if not run.drained:
        log("WARNING: the stack fell behind: some items were never offered (see above)")


# --- setup ----------------------------------------------------------------------------------


def raise_file_limit() -> int:
    """Every socket is a file in the clients and in Daphne: lift the soft limit to the hard
    one; the stack's processes and the load processes inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


QUICK = {
    "agents": 200,
    "dashboards": 5,
    "warmup": 3,
    "seconds": 20,
    "burst_seconds": 3,
    "idle_seconds": 10,
    "handle_seconds": [3.0, 6.0],
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=2000, help="agent consoles")
    parser.add_argument("--dashboards", type=int, default=20, help="supervisor dashboards")
    parser.add_argument("--capacity", type=int, default=3, help="chats an agent holds at once")
    parser.add_argument("--rate", type=float, default=20, help="arrivals a second, steady")
    parser.add_argument("--warmup", type=float, default=10, help="uncounted seconds first")
    parser.add_argument("--seconds", type=float, default=60, help="length of the steady phase")
    parser.add_argument("--burst-rate", type=float, default=100, help="arrivals a second, burst")
    parser.add_argument("--burst-seconds", type=float, default=10, help="0: no burst")
    parser.add_argument("--idle-seconds", type=float, default=30, help="the idle window")
    parser.add_argument("--handle-seconds", type=float, nargs=2, default=[10.0, 30.0])
    parser.add_argument(
        "--intake-concurrency", type=int, default=8, help="intake requests in flight per Daphne"
    )
    parser.add_argument("--ping-rate", type=float, default=10, help="baseline sends a second")
    parser.add_argument("--daphnes", type=int, default=2, help="Daphne processes")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--client-processes", type=int, help="default: one per 1,000 agents")
    parser.add_argument("--connect-seconds", type=float, help="default: 60 + 0.25 s per agent")
    parser.add_argument(
        "--concurrent-opens", type=int, default=10, help="handshakes at once per load process"
    )
    parser.add_argument("--drain-seconds", type=float, default=60, help="wait for late offers")
    parser.add_argument(
        "--daphne-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the Daphne processes only, e.g. DB_CONN_MAX_AGE=0 (repeatable)",
    )
    parser.add_argument("--redis-db", type=int, default=REDIS_DB)
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs")
    parser.add_argument("--quick", action="store_true", help="a small, short run: " + str(QUICK))
    if parser.parse_known_args()[0].quick:
        # Defaults only: options given on the command line still win.
        parser.set_defaults(**QUICK)
    args = parser.parse_args()
    if args.client_processes is None:
        args.client_processes = max(1, math.ceil(args.agents / 1000))
    if args.connect_seconds is None:
        args.connect_seconds = 60 + 0.25 * args.agents
    if args.agents < 1 or args.dashboards < 1 or args.seconds <= 0 or args.rate <= 0:
        parser.error("a floor needs agents, dashboards and a steady phase with arrivals")
    return args


def run_floor(args: argparse.Namespace) -> Run:
    with (
        log_directory("bench-floor-", keep=args.keep_logs) as logs,
        throwaway_database(prefix="cc_floor") as database_url,
        flushed_redis_db(args.redis_db) as redis_url,
    ):
        env = production_env(database_url, redis_url)
        log("migrating and seeding a throwaway database")
        migrate_and_seed(env)
        started = time.monotonic()
        floor = seed_floor(
            env,
            agents=args.agents,
            dashboards=args.dashboards,
            capacity=args.capacity,
            push_timeout=PUSH_TIMEOUT_SECONDS,
            channel=CHANNEL,
        )
        log(f"{args.agents} agents seeded in {time.monotonic() - started:.1f} s")
        daphne_env = dict(setting.split("=", 1) for setting in args.daphne_env)
        with running_stack(
            env, logs, workers=args.workers, beat=True, daphnes=args.daphnes, daphne_env=daphne_env
        ) as stack:
            database = probe.Database(database_url)
            try:
                watch = Watch(stack, database, redis_url)
                return asyncio.run(measure(stack, watch, floor, logs, args))
            finally:
                database.close()


def main() -> None:
    args = parse_args()
    limit = raise_file_limit()
    needed = args.agents // args.client_processes + args.agents // args.daphnes + 1000
    if limit < needed:
        log(f"WARNING: open files are limited to {limit}; about {needed} are needed per process")
    load_start = os.getloadavg()[0]
    try:
        with exit_on_sigterm():
            run = run_floor(args)
    except (RuntimeError, AssertionError, TimeoutError) as exc:
        sys.exit(f"the floor run failed: {exc}")
    run.load_start, run.load_end = load_start, os.getloadavg()[0]
    explain(run, args)
    report(figures(run))


if __name__ == "__main__":
    main()
