"""Time a round and a sweep with nothing to do on a full floor, against a bare round trip.

What is measured
    A floor of N agents (default 2,000) who are all full, each working a chat that takes
    their whole capacity, with W items waiting behind them (default 200) and every agent's
    console open and reporting in. Nothing can move: a routing round (``run_round``, as a
    requested round runs it) and a periodic sweep (``run_sweep``) have nothing to do. Their
    cost should not follow N.

    - ``idle_round_full_floor_ms``: median of a round on that floor.
    - ``idle_sweep_full_floor_ms``: median of a sweep between two looks for absent agents
      (most sweeps: the look runs once per CONSOLE_HEARTBEAT_SECONDS).
    - ``idle_sweep_absence_look_ms``: median of the sweep that also looks for absent agents
      (one read of the agents with an open console, one cache read of their liveness).
    - ``idle_round_all_agents_snapshot_ms``: what a round read before it read only the agents
      with room (``agent_states``: every available agent, their load and configuration),
      for comparison.

The baseline
    ``idle_select1_ms``: median of ``SELECT 1`` through the same Django connection, the least
    a round trip to the database costs here. Each figure above is also given as a ratio to it
    (``*_vs_select1``), measured interleaved in the same run, with the load average.

How
    A throwaway database ``bench_idle_<random>`` on 127.0.0.1:5432 (trust auth, user
    postgres), migrated and filled in bulk, dropped at the end. The cache is the embedded
    mode's (in-process); with Redis it adds one round trip to the look for absent agents.

    .venv/bin/python bench/idle_round.py [--agents N] [--waiting W] [--repeats R]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.persisted_round import configure_django, vacuum_analyze
from bench.report import report
from tests.stack import throwaway_database


def build_full_floor(agent_count: int, waiting: int) -> None:
    """N available agents, each holding one chat that takes all their capacity, their
    consoles open, and W chats waiting in the same queue."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from contactcenter.crm.models import Case, ChannelKind, Customer, Interaction
    from routing.models import Agent, PresenceStatus, Queue, ServiceChannel, WorkItem
    from routing.services.presence import consoles_alive

    chat = ServiceChannel.objects.select_related("default_queue__routing_config").get(
        kind=ChannelKind.CHAT
    )
    queue = chat.default_queue
    units = queue.routing_config.units_per_item
    available = PresenceStatus.objects.get(name="Available")
    now = timezone.now()
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"idle-agent-{n}", password="!") for n in range(agent_count)
    )
    agents = Agent.objects.bulk_create(
        Agent(
            user=user,
            capacity=units,
            status=available,
            console_seen_at=now - timedelta(hours=1),
        )
        for user in users
    )
    Queue.members.through.objects.bulk_create(
        Queue.members.through(queue=queue, agent=agent) for agent in agents
    )
    customers = Customer.objects.bulk_create(
        Customer(name=f"Idle customer {n}") for n in range(agent_count + waiting)
    )
    cases = Case.objects.bulk_create(Case(customer=c, subject="Web chat") for c in customers)
    interactions = Interaction.objects.bulk_create(
        Interaction(case=case, channel=ChannelKind.CHAT) for case in cases
    )
    held = [
        WorkItem(
            interaction=interaction,
            channel=chat,
            queue=queue,
            units=units,
            status=WorkItem.Status.ASSIGNED,
            agent=agent,
            enqueued_at=now - timedelta(minutes=10),
            accepted_at=now - timedelta(minutes=9),
        )
        for interaction, agent in zip(interactions, agents, strict=False)
    ]
    queued = [
        WorkItem(
            interaction=interaction,
            channel=chat,
            queue=queue,
            units=units,
            enqueued_at=now - timedelta(seconds=n),
        )
        for n, interaction in enumerate(interactions[agent_count:])
    ]
    WorkItem.objects.bulk_create(held + queued)
    consoles_alive([agent.pk for agent in agents])


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def timed(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--waiting", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    if min(args.agents, args.waiting, args.repeats) < 1:
        parser.error("--agents, --waiting and --repeats must be at least 1")

    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with throwaway_database(prefix="bench_idle") as database:
        configure_django(database)
        from django.core.cache import cache
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        from routing.selectors import snapshot
        from routing.services.presence import ABSENCE_CHECKED_KEY
        from routing.services.rounds import run_round
        from routing.services.sweep import run_sweep

        call_command("migrate", verbosity=0, interactive=False)
        build_full_floor(args.agents, args.waiting)
        vacuum_analyze()
        print(
            f"# database {database}: {args.agents} full agents, {args.waiting} waiting items",
            flush=True,
        )

        def select_one() -> None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()

        def empty_round() -> None:
            if run_round():
                raise AssertionError("a round on a full floor made offers")

        def quiet_sweep() -> None:
            # Between two looks for absent agents, as most sweeps are.
            cache.set(ABSENCE_CHECKED_KEY, timezone.now().timestamp(), timeout=None)
            run_sweep()

        def sweep_with_absence_look() -> None:
            cache.delete(ABSENCE_CHECKED_KEY)
            run_sweep()

        def all_agents_snapshot() -> None:
            snapshot.agent_states(timezone.now())

        measured: dict[str, list[float]] = {
            "select1": [],
            "round": [],
            "sweep": [],
            "look": [],
            "snapshot": [],
        }
        steps = {
            "select1": select_one,
            "round": empty_round,
            "sweep": quiet_sweep,
            "look": sweep_with_absence_look,
            "snapshot": all_agents_snapshot,
        }
        for step in steps.values():
            step()  # warm: connection, statement caches, imports
        for _ in range(args.repeats):
            # Interleaved, so that load on this shared machine hits every figure alike.
            for name, step in steps.items():
                measured[name].append(timed(step))
        load = os.getloadavg()[0]
        base = median_ms(measured["select1"])
        figures = {
            "idle_round_full_floor_ms": median_ms(measured["round"]),
            "idle_sweep_full_floor_ms": median_ms(measured["sweep"]),
            "idle_sweep_absence_look_ms": median_ms(measured["look"]),
            "idle_round_all_agents_snapshot_ms": median_ms(measured["snapshot"]),
        }
        results: dict[str, tuple[float | int, str]] = {
            "idle_floor_agents": (args.agents, "agents"),
            "idle_select1_ms": (base, "ms"),
        }
        for name, value in figures.items():
            results[name] = (value, "ms")
            results[name.removesuffix("_ms") + "_vs_select1"] = (round(value / base, 1), "x")
        results["idle_round_load_average"] = (round(load, 2), f"load/{os.cpu_count()} CPUs")
        report(results)


if __name__ == "__main__":
    main()
