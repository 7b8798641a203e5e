"""A seeded M/M/c run through the real stack, against an ideal zero-latency FIFO router fed
the same arrivals and service times; and the refill path (capacity freed -> next offer on
the console) timed phase by phase.

    python bench/ideal_routing.py                  # 8 agents, rho 0.85, 120 s per run
    python bench/ideal_routing.py --seconds 30     # a quick check
    python bench/ideal_routing.py --wrap-ups 2     # only the wrap-up run

Two runs, each on a fresh stack (tests/stack.py: Daphne, ``--workers`` Celery workers and
beat, production settings, a throwaway PostgreSQL database and a flushed Redis db): one with
the chat queue's wrap-up (``RoutingConfig.wrap_up_seconds``) at 0, one at 2 s. ``--agents``
(8) agents of capacity 1 sit in that queue as real websocket consoles (session cookies, as
the browser logs in). Arrivals are Poisson at ``rho * agents / (handle + wrap-up)`` a second
(rho counts the wrap-up as busy time, so that both runs load the agents alike), enqueued by
a separate intake process at their seeded moments (bench/schedule_feeder.py) through the
product's services. Each contact has a seeded exponential handle time (mean 4 s). A console
accepts an offer as soon as it reads it, and sends ``work.close`` its handle time after it
read ``work.assigned``.

Figures (stdout, merged into bench/results.json)
    ``excess_wait_over_ideal_ms_mean`` (wrap-up 0) and ``excess_wait_over_ideal_wrap_up_ms_mean``
    (wrap-up 2 s): the mean live wait (intake commit -> the console reads ``work.assigned``,
    so the accept round trip counts) minus the mean wait of the ideal replay: c servers, FIFO
    by commit time, each contact served the moment a server is free for its handle time, the
    server then busy for the wrap-up too. Same arrivals, same handle times, zero latency.
    ``refill_ms_p50/p99``: from an agent's ``work.close`` frame sent to that agent's next
    ``offer.created`` frame read, counted when that next contact was already waiting at the
    close. ``refill_after_wrap_up_ms_p50/p99``: the same from the end of wrap-up (the
    ``wrap_up_until`` of the ``work.closed`` frame, the server's clock) when the next contact
    waited at that moment. ``idle_while_waiting_pct`` (and ``..._wrap_up_pct``): agent time
    free (no work, no wrap-up, no offer read yet) while a contact waited, as the integral of
    min(free agents, waiting contacts) over the run, in % of agents x run time.
    ``refill_phase_<phase>_ms_p50/p99`` (wrap-up 0) for the phases below, and the 1-minute
    load average at the end (``ideal_routing_load_average``).

The refill path by phase
    The stack's processes run with bench/phase_probe on PYTHONPATH: a ``sitecustomize`` that
    logs timestamps around a few product functions without changing them (see its docstring).
    For each refill: trigger (close sent, or wrap-up end -> the routing task that made the
    offer published; the close's websocket hop and its service call on stderr), broker (task
    published -> task started in a worker), slot (task started -> round started: pending
    flag, round slot), snapshot, plan, claim (the round's read, the engine's plan, and the
    claim transaction with its commit and after-commit callbacks), push (the after-commit send
    of the offers on the channel layer -> the console reads the frame) and accept (console
    reads the offer -> reads ``work.assigned``). A trigger below zero means the round was
    asked for before the capacity was free (e.g. by an arrival) and found it free; rounds of
    the sweep are counted apart. Where the code asks for that round by a timer task due at
    the wrap-up's end, stderr also says how late those timers started. All processes share
    this machine's clock (time.time()).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import heapq
import itertools
import json
import math
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from bench.enqueue_to_offer import open_console
from bench.harness import (
    exit_on_sigterm,
    feeder_process,
    log,
    percentile,
)
from bench.report import report
from tests.stack import (
    Stack,
    flushed_redis_db,
    log_tail,
    migrate_and_seed,
    production_env,
    running_stack,
    shell_script,
    throwaway_database,
)

REDIS_DB = 6  # a db of its own (9: enqueue_to_offer, 11 and 14: integration tests)
PROBE_DIR = Path(__file__).resolve().parent / "phase_probe"
PUSH_TIMEOUT_SECONDS = 600  # no offer times out during a run
TARGET_MS = 100
PHASES = ("trigger", "broker", "slot", "snapshot", "plan", "claim", "push", "accept")

PREPARE_SCRIPT = """
import json

from django.contrib.auth import get_user_model

from routing.models import Agent, Disposition, PresenceStatus, Queue, RoutingConfig
from routing.services.presence import set_presence

updated = RoutingConfig.objects.filter(name="Web chat").update(
    units_per_item=1,
    capacity_percent=None,
    push_timeout_seconds={push_timeout},
    wrap_up_seconds={wrap_up},
    preferred_agent_seconds=0,
)
assert updated == 1, f"expected one 'Web chat' routing configuration, updated {{updated}}"
queue = Queue.objects.get(name="Web chat")
queue.members.clear()
available = PresenceStatus.objects.get(name="Available")
sessions = {{}}
for number in range(1, {agents} + 1):
    user = get_user_model().objects.create_user(
        f"ideal{{number:02d}}", first_name="Ideal", last_name=f"Agent {{number:02d}}"
    )
    agent = Agent.objects.create(user=user, capacity=1)
    queue.members.add(agent)
    set_presence(agent=agent, status_id=available.pk)
    sessions[agent.pk] = new_session_key(user)
disposition = Disposition.objects.filter(is_active=True).values_list("pk", flat=True).first()
print("AGENT_SESSIONS=" + json.dumps(sessions))
print("DISPOSITION=" + json.dumps(disposition))
"""


@dataclass
class Contact:
    """One arrival: its seeded handle time, and what the intake and the consoles saw (wall
    clock, seconds)."""

    index: int
    handle: float
    work_item_id: int = 0
    committed: float = math.nan
    agent: str = ""
    offer_id: int = 0
    offered: float = math.nan  # the console read offer.created
    assigned: float = math.nan  # the console read work.assigned
    close_sent: float = math.nan
    wrap_up_until: float = math.nan  # from work.closed (the server's clock)


@dataclass
class Trial:
    wrap_up: float
    contacts: list[Contact]
    by_item: dict[int, Contact] = field(default_factory=dict)
    # item id -> (agent, offer id, read) of its first offer.created
    offers: dict[int, tuple[str, int, float]] = field(default_factory=dict)
    assigned: dict[int, float] = field(default_factory=dict)
    wrap_ups: dict[int, float] = field(default_factory=dict)
    feeding: bool = True
    failure: str | None = None

    def fail(self, message: str) -> None:
        self.failure = self.failure or message

    async def contact_of(self, work_item_id: int) -> Contact:
        """The contact of an item, once the intake process has reported it."""
        deadline = time.monotonic() + 10
        while work_item_id not in self.by_item:
            if time.monotonic() > deadline:
                raise RuntimeError(f"work item {work_item_id} was never reported by the intake")
            await asyncio.sleep(0.002)
        return self.by_item[work_item_id]

    def done(self) -> bool:
        return not self.feeding and all(
            not math.isnan(contact.close_sent) for contact in self.contacts
        )

    def joined(self) -> None:
        """Copy what the consoles read onto the contacts (they may have read an offer
        before the intake reported its item)."""
        for item_id, (agent, offer_id, read) in self.offers.items():
            contact = self.by_item[item_id]
            contact.agent, contact.offer_id, contact.offered = agent, offer_id, read
        for item_id, read in self.assigned.items():
            self.by_item[item_id].assigned = read
        for item_id, until in self.wrap_ups.items():
            self.by_item[item_id].wrap_up_until = until


# --- arrivals and the ideal replay -----------------------------------------------------------


def seeded_contacts(
    seed: int, *, rate: float, seconds: float, handle: float
) -> tuple[list[float], list[Contact]]:
    """Poisson arrival offsets over `seconds` and an exponential handle time for each."""
    rng = random.Random(seed)
    offsets: list[float] = []
    contacts: list[Contact] = []
    moment = rng.expovariate(rate)
    while moment < seconds:
        contacts.append(Contact(index=len(offsets), handle=rng.expovariate(1 / handle)))
        offsets.append(moment)
        moment += rng.expovariate(rate)
    return offsets, contacts


def ideal_waits(
    arrivals: list[float], handles: list[float], *, servers: int, wrap_up: float
) -> list[float]:
    """Each contact's wait under a zero-latency FIFO router: `servers` servers, a contact
    starts when it arrives or when the earliest server frees up, whichever is later."""
    free_at = [-math.inf] * servers
    waits = []
    for arrival, handle in sorted(zip(arrivals, handles, strict=True)):
        earliest = heapq.heappop(free_at)
        start = max(arrival, earliest)
        waits.append(start - arrival)
        heapq.heappush(free_at, start + handle + wrap_up)
    return waits


# --- the consoles and the intake --------------------------------------------------------------


async def work_then_close(
    ws: ClientConnection, trial: Trial, work_item_id: int, assigned: float, disposition: Any
) -> None:
    contact = await trial.contact_of(work_item_id)
    await asyncio.sleep(max(0.0, assigned + contact.handle - time.time()))
    contact.close_sent = time.time()
    close = {"work_item_id": work_item_id, "disposition_id": disposition}
    # A close due after a failed run has ended finds the console closed.
    with contextlib.suppress(ConnectionClosed):
        await ws.send(json.dumps({"type": "work.close", "data": close}))


async def serve_console(ws: ClientConnection, agent: str, trial: Trial, disposition: Any) -> None:
    """Accept every offer at once; close each item its handle time after it is assigned."""
    closing: set[asyncio.Task] = set()
    async for raw in ws:
        read = time.time()
        frame = json.loads(raw)
        kind, data = frame["type"], frame["data"]
        if kind == "offer.created":
            accept = {"type": "offer.accept", "data": {"offer_id": data["offer_id"]}}
            await ws.send(json.dumps(accept))
            trial.offers.setdefault(data["work_item_id"], (agent, data["offer_id"], read))
        elif kind == "work.assigned":
            trial.assigned[data["work_item_id"]] = read
            task = asyncio.create_task(
                work_then_close(ws, trial, data["work_item_id"], read, disposition)
            )
            closing.add(task)
            task.add_done_callback(closing.discard)
        elif kind == "work.closed" and data["wrap_up_until"]:
            until = datetime.fromisoformat(data["wrap_up_until"]).timestamp()
            trial.wrap_ups[data["work_item_id"]] = until
        elif kind == "error":
            trial.fail(f"agent {agent} got an error frame: {data}")
    trial.fail(f"agent {agent} closed: {ws.close_code} {ws.close_reason}")


def schedule_feeder(
    env: dict[str, str], logs: Path, offsets: list[float]
) -> contextlib.AbstractAsyncContextManager[asyncio.subprocess.Process]:
    """bench/schedule_feeder.py, ready; killed on the way out if still running."""
    offsets_file = logs / "offsets.json"
    offsets_file.write_text(json.dumps(offsets))
    return feeder_process(
        env, logs / "intake.log", "bench.schedule_feeder", f"--offsets-file={offsets_file}"
    )


async def read_intake(feeder: asyncio.subprocess.Process, trial: Trial, logs: Path) -> None:
    assert feeder.stdout is not None and feeder.stdin is not None
    feeder.stdin.write(b"go\n")
    await feeder.stdin.drain()
    async for line in feeder.stdout:
        kind, _, payload = line.decode().partition(" ")
        data = json.loads(payload)
        if kind == "ITEM":
            contact = trial.contacts[data["index"]]
            contact.work_item_id, contact.committed = data["work_item_id"], data["committed"]
            trial.by_item[contact.work_item_id] = contact
        elif kind == "DONE":
            trial.feeding = False
            return
    raise RuntimeError(f"the intake exited before it was done\n{log_tail(logs / 'intake.log')}")


async def drive(
    stack: Stack,
    env: dict[str, str],
    sessions: dict[str, str],
    disposition: Any,
    trial: Trial,
    offsets: list[float],
    drain_seconds: float,
) -> None:
    sockets: list[ClientConnection] = []
    readers: list[asyncio.Task] = []
    try:
        for agent, key in sessions.items():
            ws = await open_console(stack, agent, key)
            sockets.append(ws)
            readers.append(asyncio.create_task(serve_console(ws, agent, trial, disposition)))
        async with schedule_feeder(env, stack.logs, offsets) as feeder:
            log(f"  {len(sessions)} consoles connected; {len(offsets)} arrivals")
            await read_intake(feeder, trial, stack.logs)
        deadline = time.monotonic() + drain_seconds
        while not (trial.done() or trial.failure) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if trial.failure:
            raise RuntimeError(trial.failure)
        if not trial.done():
            open_items = sum(math.isnan(c.close_sent) for c in trial.contacts)
            raise RuntimeError(f"{open_items} contacts were still open {drain_seconds} s later")
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


# --- the probe's records ----------------------------------------------------------------------


@dataclass
class Probe:
    """The phase probe's records from every process of a run."""

    published: dict[str, float] = field(default_factory=dict)  # task id -> first publish
    started: dict[str, float] = field(default_factory=dict)  # task id -> prerun
    round_of_item: dict[int, dict[str, Any]] = field(default_factory=dict)
    send_of_item: dict[int, float] = field(default_factory=dict)
    closes: dict[int, tuple[float, float]] = field(default_factory=dict)  # item -> start, end
    # item -> the close's after-commit callbacks: (name, start, end), in the order they ran
    close_callbacks: dict[int, list[tuple[str, float, float]]] = field(default_factory=dict)
    accepts: dict[int, tuple[float, float]] = field(default_factory=dict)  # offer -> start, end
    missing: list[str] = field(default_factory=list)
    # task id -> when a task due later (the wrap-up's end timer) was due
    due: dict[str, float] = field(default_factory=dict)
    timers_started: dict[str, float] = field(default_factory=dict)


def read_probe(directory: Path) -> Probe:
    probe = Probe()
    for path in directory.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            event = record["e"]
            if event == "publish":
                probe.published.setdefault(record["id"], record["t"])
                if isinstance(record.get("eta"), str):
                    probe.due[record["id"]] = datetime.fromisoformat(record["eta"]).timestamp()
            elif event == "prerun" and record["task"].endswith("end_wrap_up"):
                probe.timers_started[record["id"]] = record["t"]
            elif event == "prerun":
                probe.started[record["id"]] = record["t"]
            elif event == "round":
                for item in record["items"]:
                    probe.round_of_item[item] = record
            elif event == "send":
                for item in record["items"]:
                    probe.send_of_item.setdefault(item, record["start"])
            elif event == "close":
                probe.closes[record["work_item_id"]] = (record["start"], record["end"])
                probe.close_callbacks[record["work_item_id"]] = record.get("callbacks", [])
            elif event == "accept":
                probe.accepts[record["offer_id"]] = (record["start"], record["end"])
            elif event == "missing":
                probe.missing.append(record["what"])
    return probe


# --- figures ---------------------------------------------------------------------------------


def milliseconds(values: list[float], fraction: float) -> float:
    return round(percentile(values, fraction) * 1000, 1) if values else math.nan


@dataclass
class Refill:
    """Capacity freed (a close sent, or a wrap-up's end) with the next contact already
    waiting, and that contact's offer."""

    freed: float
    closed: Contact
    next: Contact

    @property
    def seconds(self) -> float:
        return self.next.offered - self.freed


def freed_at(contact: Contact, wrap_up: float) -> float:
    """When the contact's capacity came back: at the close, or at the wrap-up's end (the
    server's time from work.closed; the close plus the wrap-up if the run ended before that
    frame was read)."""
    if not wrap_up:
        return contact.close_sent
    if math.isnan(contact.wrap_up_until):
        return contact.close_sent + wrap_up
    return contact.wrap_up_until


def refills(trial: Trial) -> list[Refill]:
    by_agent: dict[str, list[Contact]] = {}
    for contact in sorted(trial.contacts, key=lambda c: c.offered):
        by_agent.setdefault(contact.agent, []).append(contact)
    found = []
    for served in by_agent.values():
        for closed, following in itertools.pairwise(served):
            freed = freed_at(closed, trial.wrap_up)
            if following.committed < freed:
                found.append(Refill(freed, closed, following))
    return found


def idle_while_waiting_share(trial: Trial, agents: int) -> float:
    """The integral of min(free agents, waiting contacts) over the run, as a share of
    agents x run time."""
    start = min(c.committed for c in trial.contacts)
    end = max(c.close_sent for c in trial.contacts)
    changes: list[tuple[float, int, int]] = [(start, agents, 0)]
    for contact in trial.contacts:
        freed = freed_at(contact, trial.wrap_up)
        changes += [(contact.committed, 0, 1), (contact.offered, -1, -1), (freed, 1, 0)]
    free = waiting = 0
    idle = 0.0
    previous = start
    for moment, free_change, waiting_change in sorted(changes):
        moment = min(max(moment, start), end)
        idle += min(free, waiting) * (moment - previous)
        free, waiting, previous = free + free_change, waiting + waiting_change, moment
    return idle / (agents * (end - start))


def phase_samples(found: list[Refill], probe: Probe) -> tuple[dict[str, list[float]], int]:
    """Each refill's phases (seconds), and how many were served by a sweep round."""
    phases: dict[str, list[float]] = {phase: [] for phase in PHASES}
    phases.update(close_hop=[], close_call=[], close_commit=[], accept_call=[])
    by_sweep = 0
    for refill in found:
        item = refill.next.work_item_id
        made = probe.round_of_item.get(item)
        if made is None:
            continue
        if made.get("task", "").endswith("run_sweep"):
            by_sweep += 1
        task = made.get("id", "")
        if task in probe.published and task in probe.started:
            phases["trigger"].append(probe.published[task] - refill.freed)
            phases["broker"].append(probe.started[task] - probe.published[task])
            phases["slot"].append(made["start"] - probe.started[task])
        for phase in ("snapshot", "plan", "claim"):
            phases[phase].append(made.get(phase, 0.0))
        if item in probe.send_of_item:
            phases["push"].append(refill.next.offered - probe.send_of_item[item])
        phases["accept"].append(refill.next.assigned - refill.next.offered)
        if refill.next.offer_id in probe.accepts:
            call_start, call_end = probe.accepts[refill.next.offer_id]
            phases["accept_call"].append(call_end - call_start)
        if refill.closed.work_item_id in probe.closes:
            call_start, call_end = probe.closes[refill.closed.work_item_id]
            phases["close_hop"].append(call_start - refill.closed.close_sent)
            phases["close_call"].append(call_end - call_start)
            if callbacks := probe.close_callbacks.get(refill.closed.work_item_id):
                phases["close_commit"].append(callbacks[0][1] - call_start)
    return phases, by_sweep


def explain_close_callbacks(probe: Probe) -> None:
    """What runs after a close commits, in order, on stderr: the round request waits for the
    callbacks before it."""
    spent: dict[str, list[float]] = {}
    order: dict[str, list[int]] = {}
    for callbacks in probe.close_callbacks.values():
        for position, (name, start, end) in enumerate(callbacks):
            spent.setdefault(name, []).append(end - start)
            order.setdefault(name, []).append(position)
    if not spent:
        return
    log("  a close's after-commit callbacks (mean position, p50 and p99 ms):")
    for name in sorted(spent, key=lambda name: sum(order[name]) / len(order[name])):
        mean_position = sum(order[name]) / len(order[name])
        log(
            f"    {mean_position:4.1f} {name}: {milliseconds(spent[name], 0.5):.1f} / "
            f"{milliseconds(spent[name], 0.99):.1f} ms"
        )


def explain_timers(probe: Probe) -> None:
    """How late the wrap-up end timers started, on stderr (where the code has them)."""
    late = [
        started - probe.due[task]
        for task, started in probe.timers_started.items()
        if task in probe.due
    ]
    if late:
        log(
            f"  wrap-up end timers: {len(late)} started p50 {milliseconds(late, 0.5)} ms, "
            f"p99 {milliseconds(late, 0.99)} ms after they were due"
        )


def explain_phases(phases: dict[str, list[float]], by_sweep: int, total: int) -> None:
    log(f"  refill path by phase ({total} refills, {by_sweep} of them by a sweep round):")
    for phase, values in phases.items():
        if values:
            log(
                f"    {phase:>10}: p50 {milliseconds(values, 0.5):8.1f} ms, "
                f"p99 {milliseconds(values, 0.99):8.1f} ms, n {len(values)}"
            )


def trial_figures(
    trial: Trial, probe: Probe, agents: int
) -> tuple[dict[str, tuple[float | int, str]], dict[str, list[float]]]:
    trial.joined()
    arrivals = [c.committed for c in trial.contacts]
    live = [c.assigned - c.committed for c in trial.contacts]
    ideal = ideal_waits(
        arrivals, [c.handle for c in trial.contacts], servers=agents, wrap_up=trial.wrap_up
    )
    excess_ms = round((sum(live) / len(live) - sum(ideal) / len(ideal)) * 1000, 1)
    found = refills(trial)
    refill_seconds = [refill.seconds for refill in found]
    phases, by_sweep = phase_samples(found, probe)
    explain_phases(phases, by_sweep, len(found))
    explain_close_callbacks(probe)
    explain_timers(probe)
    log(
        f"  mean wait live {sum(live) / len(live) * 1000:.0f} ms, ideal "
        f"{sum(ideal) / len(ideal) * 1000:.0f} ms; {len(found)} refills with work waiting"
    )
    suffix = "_wrap_up" if trial.wrap_up else ""
    refill_name = "refill_after_wrap_up_ms" if trial.wrap_up else "refill_ms"
    idle_pct = round(idle_while_waiting_share(trial, agents) * 100, 2)
    figures: dict[str, tuple[float | int, str]] = {
        f"ideal_routing_contacts{suffix}": (len(trial.contacts), "contacts"),
        f"excess_wait_over_ideal{suffix}_ms_mean": (excess_ms, "ms"),
        f"idle_while_waiting{suffix}_pct": (idle_pct, "%"),
    }
    if refill_seconds:
        figures[f"{refill_name}_p50"] = (milliseconds(refill_seconds, 0.5), "ms")
        figures[f"{refill_name}_p99"] = (milliseconds(refill_seconds, 0.99), "ms")
    else:
        log(f"  no capacity was freed while work waited: no {refill_name} figures (run longer)")
    if trial.wrap_up:
        share = round(100 * by_sweep / len(found), 1) if found else 0.0
        figures["refill_after_wrap_up_by_sweep_pct"] = (share, "%")
    return figures, phases


def phase_figures(phases: dict[str, list[float]]) -> dict[str, tuple[float | int, str]]:
    figures: dict[str, tuple[float | int, str]] = {}
    for phase in PHASES:
        if phases[phase]:
            figures[f"refill_phase_{phase}_ms_p50"] = (milliseconds(phases[phase], 0.5), "ms")
            figures[f"refill_phase_{phase}_ms_p99"] = (milliseconds(phases[phase], 0.99), "ms")
    return figures


def judge(figures: dict[str, tuple[float | int, str]]) -> None:
    """Say on stderr which of the issue's targets hold."""
    for name in (
        "excess_wait_over_ideal_ms_mean",
        "excess_wait_over_ideal_wrap_up_ms_mean",
        "refill_ms_p99",
        "refill_after_wrap_up_ms_p99",
    ):
        if name in figures:
            value = figures[name][0]
            verdict = "holds" if value < TARGET_MS else "MISSED"
            log(f"target {name} < {TARGET_MS} ms: {value} ms, {verdict}")


# --- the runs --------------------------------------------------------------------------------


@contextlib.contextmanager
def log_directory(*, keep: bool, wrap_up: float) -> Iterator[Path]:
    if keep:
        path = Path(tempfile.mkdtemp(prefix=f"bench-ideal-{wrap_up:g}-"))
        log(f"  logs in {path}")
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="bench-ideal-") as path:
        yield Path(path)


def run_trial(args: argparse.Namespace, wrap_up: float) -> tuple[Trial, Probe]:
    rate = args.rho * args.agents / (args.handle + wrap_up)
    offsets, contacts = seeded_contacts(
        args.seed, rate=rate, seconds=args.seconds, handle=args.handle
    )
    log(f"wrap-up {wrap_up:g} s: {rate:.3f} arrivals/s for {args.seconds:g} s")
    trial = Trial(wrap_up=wrap_up, contacts=contacts)
    with (
        log_directory(keep=args.keep_logs, wrap_up=wrap_up) as logs,
        throwaway_database(prefix="cc_bench") as database_url,
        flushed_redis_db(args.redis_db) as redis_url,
    ):
        phase_dir = logs / "phases"
        phase_dir.mkdir()
        env = production_env(database_url, redis_url)
        migrate_and_seed(env)
        printed = shell_script(
            env,
            PREPARE_SCRIPT.format(
                push_timeout=PUSH_TIMEOUT_SECONDS, wrap_up=int(wrap_up), agents=args.agents
            ),
        )
        sessions = json.loads(printed["AGENT_SESSIONS"])
        disposition = json.loads(printed["DISPOSITION"])
        python_path = os.pathsep.join(filter(None, [str(PROBE_DIR), env.get("PYTHONPATH")]))
        env.update(PYTHONPATH=python_path, BENCH_PHASE_DIR=str(phase_dir))
        with running_stack(env, logs, workers=args.workers) as stack:
            drain = 60 + 10 * args.handle
            asyncio.run(drive(stack, env, sessions, disposition, trial, offsets, drain))
        probe = read_probe(phase_dir)
    if probe.missing:
        log(f"  the phase probe could not find: {', '.join(sorted(set(probe.missing)))}")
    return trial, probe


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=8, help="agents of capacity 1")
    parser.add_argument("--rho", type=float, default=0.85, help="offered load per agent")
    parser.add_argument("--handle", type=float, default=4.0, help="mean handle time, seconds")
    parser.add_argument("--seconds", type=float, default=120, help="arrivals span per run")
    parser.add_argument(
        "--wrap-ups", type=float, nargs="+", default=[0, 2], help="a run per wrap-up (s)"
    )
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--redis-db", type=int, default=REDIS_DB)
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs")
    args = parser.parse_args()
    if not 0 < args.rho < 1:
        parser.error("--rho must be between 0 and 1")
    if any(wrap_up != int(wrap_up) or wrap_up < 0 for wrap_up in args.wrap_ups):
        parser.error("wrap-ups are whole seconds (RoutingConfig.wrap_up_seconds)")
    return args


def main() -> None:
    args = parse_args()
    results: dict[str, tuple[float | int, str]] = {}
    with exit_on_sigterm():
        for wrap_up in args.wrap_ups:
            trial, probe = run_trial(args, wrap_up)
            figures, phases = trial_figures(trial, probe, args.agents)
            results.update(figures)
            if not wrap_up:
                results.update(phase_figures(phases))
    results["ideal_routing_load_average"] = (round(os.getloadavg()[0], 2), "load")
    judge(results)
    report(results)


if __name__ == "__main__":
    main()
