"""What a dashboard costs at 2,000 agents: the connect snapshot and a delta, against the
whole-floor snapshot of before, in the same run and the same database.

What is measured (PostgreSQL, a throwaway database, the live floor of
``bench/supervisor_snapshot.py`` scaled to ``--agents`` agents and ``--waiting`` waiting items,
with a small history and today's rollups)
    ``dashboard_full_snapshot_ms`` / ``_bytes``: the snapshot with every agent
        (``dashboard_snapshot`` with a view as large as the floor), read and JSON-encoded:
        what every dashboard was sent on every change before deltas. The baseline.
    ``dashboard_connect_snapshot_ms`` / ``_bytes``: the snapshot a dashboard gets on connect
        (the default view: 50 agents), read and encoded.
    ``dashboard_delta_one_agent_ms`` / ``_bytes``: one delta for one changed agent on the
        page (``supervisor.deltas.read_delta``, as the per-process feed calls it), encoded.
    ``dashboard_delta_line_change_ms`` / ``_bytes``: one delta after an offer (an agent and
        the line changed: today's counters, queue rows from the line counters, alerts) while
        the waiting list is held back (it is read at most every ``WAITING_EVERY_SECONDS``), encoded.
    ``dashboard_delta_with_waiting_list_ms``: the same with the waiting list's first 25 read
        again with their routing explanations (O(agents)) and the skills backlog.
    ``dashboard_delta_one_agent_vs_full_snapshot``: the ratio of their times.
    ``queue_line_counters_ms`` against ``queue_line_scan_ms``: the queue figures from the
        counters and bounded index reads, against reading every queued and offered item as
        the snapshot did before (the same loop, kept here as the baseline).

Each time is the median of ``--repeats`` calls after ``--warmup`` untimed ones. The load
average of the run is printed with the figures.

    .venv/bin/python bench/dashboard_delta.py [--agents 2000] [--waiting 5000] [--repeats 15]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import supervisor_snapshot as floor_bench
from bench.report import report
from tests.stack import throwaway_database

HISTORY = 5_000


def scanned_line(now: datetime) -> dict[int, tuple[int, int, int]]:
    """The queue figures as the snapshot read them before: every queued and offered item.
    (queue id → waiting, longest wait, items past the service-level time)."""
    from django.db.models import Q
    from django.db.models.functions import Coalesce

    from routing.models import Queue, WorkItem

    limits = dict(Queue.objects.values_list("pk", "service_level_seconds"))
    waiting: dict[int, list[float]] = {}
    past: dict[int, int] = {}
    for queue_id, status, entered_at in (
        WorkItem.objects.filter(
            Q(status=WorkItem.Status.QUEUED) | Q(status=WorkItem.Status.OFFERED)
        )
        .order_by()
        .values_list("queue_id", "status", Coalesce("overflowed_at", "enqueued_at"))
    ):
        wait = (now - entered_at).total_seconds()
        past[queue_id] = past.get(queue_id, 0) + (wait > limits[queue_id])
        if status == WorkItem.Status.QUEUED:
            waiting.setdefault(queue_id, []).append(wait)
    return {
        queue_id: (len(waits), int(max(waits)), past.get(queue_id, 0))
        for queue_id, waits in waiting.items()
    }


def encoded(event_type: str, data: dict[str, Any]) -> str:
    from contactcenter.kernel.realtime import envelope

    return json.dumps(envelope(event_type, data))


def median_ms(run: Any, warmup: int, repeats: int) -> float:
    return statistics.median(floor_bench.timed(run, warmup, repeats))


def measure(now: datetime, warmup: int, repeats: int, agents: int) -> dict[str, tuple[Any, str]]:
    from routing.models import Queue
    from supervisor import history
    from supervisor.deltas import Changes, Shown, read_delta
    from supervisor.selectors import DEFAULT_VIEW, AgentView, dashboard_snapshot, line_figures

    whole_floor = AgentView(limit=agents)
    full_text = encoded("dashboard.snapshot", dashboard_snapshot(now, whole_floor))
    connect = dashboard_snapshot(now, DEFAULT_VIEW)
    connect_text = encoded("dashboard.snapshot", connect)
    changed_agent = connect["agents"][0]["id"]
    totals = history.today_totals(now)

    def delta(changes: Changes, *, waiting_read: bool = True) -> str:
        shown = Shown.from_snapshot(connect)
        # As the feed does: today's counters are read again when the line moved.
        figures = history.today_totals(now) if changes.line else totals
        if not waiting_read:
            # The waiting list was read a moment ago: this delta holds it back.
            shown.waiting_read_at = time.monotonic()
        deltas = read_delta(now, changes, [DEFAULT_VIEW], shown, figures)
        return encoded("dashboard.delta", deltas[DEFAULT_VIEW]) if deltas else ""

    one_agent = delta(Changes(agents={changed_agent}))
    line_change = delta(Changes(agents={changed_agent}, line=True), waiting_read=False)
    queues = list(
        Queue.objects.values(
            "pk", "name", "service_level_seconds", "service_level_goal", "alert_wait_seconds"
        )
    )
    full_ms = median_ms(
        lambda: encoded("dashboard.snapshot", dashboard_snapshot(now, whole_floor)),
        warmup,
        repeats,
    )
    connect_ms = median_ms(
        lambda: encoded("dashboard.snapshot", dashboard_snapshot(now, DEFAULT_VIEW)),
        warmup,
        repeats,
    )
    one_agent_ms = median_ms(lambda: delta(Changes(agents={changed_agent})), warmup, repeats)
    line_ms = median_ms(
        lambda: delta(Changes(agents={changed_agent}, line=True), waiting_read=False),
        warmup,
        repeats,
    )
    waiting_ms = median_ms(
        lambda: delta(Changes(agents={changed_agent}, line=True)), warmup, repeats
    )
    counters_ms = median_ms(lambda: line_figures(now, queues), warmup, repeats)
    scan_ms = median_ms(lambda: scanned_line(now), warmup, repeats)
    return {
        "dashboard_agents": (agents, "agents"),
        "dashboard_full_snapshot_ms": (round(full_ms, 2), "ms"),
        "dashboard_full_snapshot_bytes": (len(full_text.encode()), "bytes"),
        "dashboard_connect_snapshot_ms": (round(connect_ms, 2), "ms"),
        "dashboard_connect_snapshot_bytes": (len(connect_text.encode()), "bytes"),
        "dashboard_delta_one_agent_ms": (round(one_agent_ms, 2), "ms"),
        "dashboard_delta_one_agent_bytes": (len(one_agent.encode()), "bytes"),
        "dashboard_delta_line_change_ms": (round(line_ms, 2), "ms"),
        "dashboard_delta_line_change_bytes": (len(line_change.encode()), "bytes"),
        "dashboard_delta_with_waiting_list_ms": (round(waiting_ms, 2), "ms"),
        "dashboard_delta_one_agent_vs_full_snapshot": (round(one_agent_ms / full_ms, 4), "x"),
        "dashboard_delta_line_change_vs_full_snapshot": (round(line_ms / full_ms, 4), "x"),
        "queue_line_counters_ms": (round(counters_ms, 2), "ms"),
        "queue_line_scan_ms": (round(scan_ms, 2), "ms"),
        "queue_line_counters_vs_scan": (round(counters_ms / scan_ms, 3), "x"),
        "dashboard_bench_load_average": (round(os.getloadavg()[0], 2), "load"),
    }


def scale_floor(agents: int, waiting: int) -> None:
    """The snapshot benchmark's live floor, at this many agents and waiting items: statuses,
    offered and worked items in the same proportions."""
    share = agents / floor_bench.AGENTS
    floor_bench.AGENTS = agents
    floor_bench.WAITING = waiting
    floor_bench.OFFERED = int(floor_bench.OFFERED * share)
    floor_bench.WORKED = int(floor_bench.WORKED * share)
    floor_bench.STATUS_MIX = [
        (name, round(count * share)) for name, count in floor_bench.STATUS_MIX
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--agents", type=int, default=2_000)
    parser.add_argument("--waiting", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    if args.agents < 50 or args.waiting < 1 or args.repeats < 1 or args.warmup < 0:
        parser.error("--agents at least 50, --waiting and --repeats at least 1")
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    began = time.perf_counter()
    scale_floor(args.agents, args.waiting)
    with throwaway_database(prefix="bench_delta") as database:
        floor_bench.configure_django(database)
        from django.core.management import call_command
        from django.utils import timezone

        from supervisor.history import day_start

        call_command("migrate", verbosity=0, interactive=False)
        rng = random.Random(floor_bench.SEED)
        now = day_start(timezone.now()) + timedelta(hours=14, minutes=7, seconds=30)
        floor = floor_bench.build_floor(rng, now)
        floor_bench.add_live_floor(rng, floor)
        floor_bench.add_history(rng, floor, HISTORY)
        floor_bench.settle(now)
        print(
            f"# floor of {args.agents:,} agents, {args.waiting:,} waiting, filled in "
            f"{time.perf_counter() - began:.0f} s",
            flush=True,
        )
        report(measure(now, args.warmup, args.repeats, args.agents))
    print(f"# done in {time.perf_counter() - began:.0f} s", flush=True)


if __name__ == "__main__":
    main()
