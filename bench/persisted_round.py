"""Time a full persisted routing round on PostgreSQL against a plain batched UPDATE.

What is measured
    ``routing.services.rounds.run_round`` end to end, as the sweep calls it: it reads the engine's
    snapshot (agents, load, waiting items, refusals), plans, and claims the planned offers in
    transactions of up to ``OFFER_BATCH`` (agents and items locked, presence, load and
    refusals re-read, then one statement marks the items, stamps the agents and inserts the
    offers), runs the after-commit events (offer and agent payloads sent on the in-memory
    channel layer) and announces queue positions.
    ``routing_assignments_per_s`` = offers made / seconds of the round(s).

The baseline
    ``pg_batched_update_rows_per_s``: the same N work-item rows updated by
    ``UPDATE routing_workitem SET priority = priority + 1 WHERE id = ANY(%s)`` in batches of
    500 ids, all in one committed transaction. It is what writing N rows costs on this machine
    and this database when the application batches: same table, same rows, and the same
    partial index as the claim (priority is a key of ``workitem_waiting``), so neither side
    gets HOT updates for free. The round does strictly more per item (an offer INSERT too), so
    the ratio ``routing_vs_batched_update_ratio`` is a demanding target, not like for like.
    Its floor (issue 15) is 0.10, printed as ``routing_vs_batched_update_ratio_floor``; stderr
    says whether it holds.

How
    A throwaway database ``bench_round_<random>`` is created on 127.0.0.1:5432 (trust auth,
    user postgres), migrated, filled in bulk with N waiting chat items and ceil(N / 2) available
    agents with room for two items each, and dropped at the end, also on error or SIGTERM.
    Each repeat starts from the same state (offers deleted, items queued again, VACUUM ANALYZE)
    and the round and the baseline alternate, so that load on this shared machine hits both;
    the best repeat of each is reported, and the load average is printed beside them.

Diagnosis
    When the ratio misses its target (or with ``--profile``), two untimed extras follow: a
    round with every query and step recorded by phase (exclusive ms, ms and queries per
    offer, the costliest query shapes, and the database's share: the ratio the round would
    reach if its Python cost nothing); and a round under cProfile.

    .venv/bin/python bench/persisted_round.py [--items N] [--repeats R] [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import io
import math
import os
import pstats
import re
import secrets
import signal
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import report
from tests.stack import throwaway_database

if TYPE_CHECKING:
    from routing.models import Offer

UPDATE_BATCH = 500
ITEMS_PER_AGENT = 2
TARGET_RATIO = 0.25
# Issue 15's restated floor, printed beside the ratio by `make bench`: the round's own SQL
# costs about 0.25 of a plain batched UPDATE, and must not fall below 0.10 of it.
FLOOR_RATIO = 0.10


def configure_django(database_url: str) -> None:
    """Point settings at the database before ``django.setup()`` reads the environment."""
    os.environ["DATABASE_URL"] = database_url
    # No REDIS_URL: the in-memory channel layer and eager Celery, as in embedded mode.
    os.environ.pop("REDIS_URL", None)
    # A DATABASE_URL makes settings demand a SECRET_KEY; this process signs nothing.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    # No background sweep or demo traffic may touch the tables while the round is timed, and
    # DEBUG would keep every query in memory, which would slow the round being measured.
    os.environ["EMBEDDED_TICKER"] = "0"
    os.environ["DEMO_TRAFFIC"] = "0"
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.config.settings")
    import django

    django.setup()


# --- data -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    item_ids: list[int]
    agent_count: int


def build_workload(item_count: int) -> Workload:
    """N waiting chat items and just enough available agents in the chat queue to take them all.

    Everything is bulk-created; reference rows (channels, statuses, the chat queue and its
    routing configuration) come from the data migration.
    """
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from contactcenter.crm.models import (
        Case,
        ChannelKind,
        ContactPoint,
        Customer,
        Interaction,
        Message,
    )
    from routing.models import Agent, PresenceStatus, Queue, ServiceChannel, WorkItem

    chat = ServiceChannel.objects.select_related("default_queue__routing_config").get(
        kind=ChannelKind.CHAT
    )
    queue = chat.default_queue
    units = queue.routing_config.units_per_item
    available = PresenceStatus.objects.get(name="Available")
    if not available.channels.filter(pk=chat.pk).exists():
        raise RuntimeError("The Available status does not accept chat; reference data changed?")

    start = timezone.now() - timedelta(hours=1)
    customers = Customer.objects.bulk_create(
        Customer(name=f"Bench customer {n}") for n in range(item_count)
    )
    # The offer payload prefetches contact points and reads the first customer message: give
    # every contact both so that those reads return what they would in production.
    ContactPoint.objects.bulk_create(
        ContactPoint(customer=c, kind=ContactPoint.Kind.EMAIL, value=f"bench{c.pk}@example.com")
        for c in customers
    )
    cases = Case.objects.bulk_create(Case(customer=c, subject="Web chat") for c in customers)
    interactions = Interaction.objects.bulk_create(
        Interaction(case=case, channel=ChannelKind.CHAT) for case in cases
    )
    Message.objects.bulk_create(
        Message(interaction=i, sender=Message.Sender.CUSTOMER, body="Hello, I need help.")
        for i in interactions
    )
    items = WorkItem.objects.bulk_create(
        WorkItem(
            interaction=interaction,
            channel=chat,
            queue=queue,
            units=units,
            enqueued_at=start + timedelta(milliseconds=n),
        )
        for n, interaction in enumerate(interactions)
    )

    agent_count = math.ceil(item_count / ITEMS_PER_AGENT)
    users = get_user_model().objects.bulk_create(
        # "!" is Django's unusable-password marker: no hashing, nobody can log in.
        get_user_model()(username=f"bench-agent-{n}", password="!")
        for n in range(agent_count)
    )
    agents = Agent.objects.bulk_create(
        Agent(user=user, capacity=units * ITEMS_PER_AGENT, status=available) for user in users
    )
    Queue.members.through.objects.bulk_create(
        Queue.members.through(queue=queue, agent=agent) for agent in agents
    )
    return Workload(item_ids=[item.pk for item in items], agent_count=agent_count)


def reset_round_state() -> None:
    """Undo a round: no offers, every item queued again, fresh statistics and no dead rows."""
    from django.db import connection

    from routing.models import Agent, WorkItem

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE routing_offer")
    WorkItem.objects.update(status=WorkItem.Status.QUEUED, agent=None)
    # Round robin orders agents by their last offer, which the round writes on the agent row.
    agent_fields = {f.name for f in Agent._meta.get_fields()}
    if "last_offered_at" in agent_fields:
        Agent.objects.update(last_offered_at=None)
    vacuum_analyze()


def vacuum_analyze() -> None:
    # Each measurement starts on tables without dead tuples from the last one, and with
    # statistics a long-running database would have (autovacuum may not have run yet).
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("routing_workitem", "routing_offer", "routing_agent"):
            cursor.execute(f"VACUUM ANALYZE {table}")


# --- the two measurements ---------------------------------------------------------------------


@dataclass(frozen=True)
class RoundResult:
    seconds: float
    offers: int
    rounds: int


def time_persisted_round(expected_offers: int) -> RoundResult:
    """Run rounds until every item is offered (one round when N <= ROUND_ITEM_LIMIT)."""
    from django.utils import timezone

    from routing.services.rounds import run_round

    offers = rounds = 0
    started = time.perf_counter()
    while offers < expected_offers:
        made = run_round(now=timezone.now())
        rounds += 1
        if not made:
            break
        offers += len(made)
    return RoundResult(seconds=time.perf_counter() - started, offers=offers, rounds=rounds)


def time_batched_update(item_ids: list[int]) -> float:
    """Seconds to update every item's row once, 500 ids per statement, in one transaction."""
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for offset in range(0, len(item_ids), UPDATE_BATCH):
            cursor.execute(
                "UPDATE routing_workitem SET priority = priority + 1 WHERE id = ANY(%s)",
                [item_ids[offset : offset + UPDATE_BATCH]],
            )
    elapsed = time.perf_counter() - started
    # Put the priorities back untimed, so every repeat starts from the same rows.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE routing_workitem SET priority = priority - 1")
    return elapsed


# --- diagnosis: where a round's time and queries go -------------------------------------------


@dataclass
class PhaseStats:
    """Exclusive wall time (children subtracted) and the queries issued directly in a phase."""

    seconds: float = 0.0
    calls: int = 0
    queries: int = 0
    query_seconds: float = 0.0


@dataclass
class RoundRecorder:
    phases: dict[str, PhaseStats] = field(default_factory=lambda: defaultdict(PhaseStats))
    queries: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    stack: list[str] = field(default_factory=list)
    child_seconds: list[float] = field(default_factory=list)

    def timed(self, phase: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self.stack.append(phase)
            self.child_seconds.append(0.0)
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                children = self.child_seconds.pop()
                self.stack.pop()
                stats = self.phases[phase]
                stats.seconds += elapsed - children
                stats.calls += 1
                if self.child_seconds:
                    self.child_seconds[-1] += elapsed

        return wrapper

    def record_query(
        self, execute: Callable[..., Any], sql_text: str, params: Any, many: bool, context: Any
    ) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql_text, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            phase = self.stack[-1] if self.stack else "(outside the phases)"
            self.phases[phase].queries += 1
            self.phases[phase].query_seconds += elapsed
            self.queries[(phase, query_shape(sql_text))].append(elapsed)


def query_shape(sql_text: str) -> str:
    """The statement without its literals and id lists, so that one kind of query groups."""
    shape = re.sub(r"\bIN \([^)]*\)", "IN (...)", sql_text)
    shape = re.sub(r"'[^']*'|\b\d+\b|%s", "?", shape)
    return re.sub(r"\s+", " ", shape)


@contextlib.contextmanager
def instrumented(recorder: RoundRecorder) -> Iterator[None]:
    """Wrap the round's steps in phase timers for the duration of one diagnostic round.

    The functions are replaced on the modules that the round looks them up on at call time
    (``snapshot.x()``, ``events.x()``, a name in ``rounds``), so nothing in routing has to know
    about the bench.
    """
    from django.db import connection

    import contactcenter.kernel.realtime as realtime
    from routing import engine, events
    from routing.selectors import payloads, snapshot
    from routing.services import claims, rounds

    # Payload readers are patched on ``events`` too, which imports them by name.
    wanted: list[tuple[Any, str, str]] = [
        (rounds, "run_round", "run_round itself (loop, bookkeeping)"),
        (snapshot, "anything_waiting", "snapshot: anything_waiting"),
        (snapshot, "free_agent_states", "snapshot: free_agent_states"),
        (snapshot, "agent_states", "snapshot: agent_states (preferred agents)"),
        (snapshot, "waiting_items", "snapshot: waiting_items"),
        (snapshot, "channel_blocks", "snapshot: channel_blocks"),
        (engine, "plan", "plan (engine)"),
        (rounds, "make_offers", "claim: re-check the plan (per batch)"),
        (claims, "lock_and_read", "claim: lock agents and items, re-read state"),
        (claims, "write_offers", "claim: mark items, stamp agents, INSERT offers"),
        (snapshot, "open_channels", "open channels read (in claim)"),
        (snapshot, "loads", "load read (in claim and payloads)"),
        (payloads, "offer_payloads", "offer.created payload read"),
        (payloads, "agent_payloads", "agent.updated payload read"),
        (events, "used_units", "agent.updated load read (after commit)"),
        (events, "agent_payload_by_id", "agent.updated payload read"),
        (realtime, "send_now", "channel layer sends (batched)"),
        (realtime, "_group_send", "channel layer sends (one by one)"),
        (rounds, "announce_queue_positions", "announce queue positions"),
    ]
    patches = wanted
    originals = [(module, name, getattr(module, name)) for module, name, _ in patches]
    original_commit = connection.commit
    try:
        for module, name, phase in patches:
            setattr(module, name, recorder.timed(phase, getattr(module, name)))
        # COMMIT goes through connection.commit(), not a cursor, so it is timed on its own.
        connection.commit = recorder.timed("COMMIT", original_commit)
        with connection.execute_wrapper(recorder.record_query):
            yield
    finally:
        for module, name, original in originals:
            setattr(module, name, original)
        del connection.commit


def diagnose_round(item_count: int, round_seconds: float, updates_per_s: float) -> None:
    """One untimed round with phases and queries recorded, and one under cProfile.

    The recorded round also gives the database's share: the time inside statements and
    COMMITs. Divided into the offers, it is the rate the round would reach if its Python cost
    nothing, so its ratio to the baseline is the most this storage design can reach.
    """
    from django.utils import timezone

    from routing.services import rounds

    reset_round_state()
    recorder = RoundRecorder()
    offers: list[Offer] = []
    started = time.perf_counter()
    with instrumented(recorder):
        while len(offers) < item_count:
            made = rounds.run_round(now=timezone.now())
            if not made:
                break
            offers.extend(made)
    instrumented_seconds = time.perf_counter() - started
    per_offer = max(len(offers), 1)

    total_queries = sum(stats.queries for stats in recorder.phases.values())
    commits = recorder.phases["COMMIT"].calls
    print(
        f"\n# diagnosis: {len(offers)} offers, {total_queries} queries "
        f"({total_queries / per_offer:.2f} per offer) in {commits} transactions (each also "
        f"pays a BEGIN, counted in its first query, and a COMMIT); instrumented round "
        f"{instrumented_seconds * 1000:.0f} ms (timed best {round_seconds * 1000:.0f} ms)"
    )
    print(
        "# phase (exclusive time; 'in SQL' is the time spent inside cursor.execute)\n"
        f"  {'phase':<52} {'ms':>8} {'ms/offer':>9} {'in SQL':>8} {'queries':>8} {'q/offer':>8}"
    )
    for phase, stats in sorted(recorder.phases.items(), key=lambda kv: -kv[1].seconds):
        print(
            f"  {phase:<52} {stats.seconds * 1000:8.1f} {stats.seconds * 1000 / per_offer:9.3f}"
            f" {stats.query_seconds * 1000:8.1f} {stats.queries:8d}"
            f" {stats.queries / per_offer:8.2f}"
        )
    database_seconds = sum(stats.query_seconds for stats in recorder.phases.values())
    database_seconds += recorder.phases["COMMIT"].seconds
    database_per_s = len(offers) / database_seconds
    print(
        f"# database share: {database_seconds * 1000:.0f} ms of {instrumented_seconds * 1000:.0f}"
        f" ms in statements and COMMITs; with no Python at all the round would make "
        f"{database_per_s:.0f} offers/s, a ratio of {database_per_s / updates_per_s:.3f} x"
    )
    print("# queries by shape: count, total ms, mean ms, phase, statement")
    by_cost = sorted(recorder.queries.items(), key=lambda kv: -sum(kv[1]))
    for (phase, shape), durations in by_cost[:20]:
        print(
            f"  {len(durations):6d} {sum(durations) * 1000:8.1f} "
            f"{sum(durations) * 1000 / len(durations):7.3f}  [{phase}]  {shape[:220]}"
        )

    reset_round_state()
    profiler = cProfile.Profile()
    profiler.enable()
    made_count = 0
    while made_count < item_count:
        made = rounds.run_round(now=timezone.now())
        if not made:
            break
        made_count += len(made)
    profiler.disable()
    for order, limit in (("cumulative", 30), ("tottime", 15)):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(limit)
        print(f"# cProfile of one more round ({made_count} offers), by {order}")
        # Drop pstats' preamble (totals and the "ordered by" lines) but keep the header row.
        print(out.getvalue().split("\n", 6)[-1].rstrip())


# --- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--items", type=int, default=2000, help="work items to offer (N)")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many of each")
    parser.add_argument(
        "--profile", action="store_true", help="print the diagnosis even when on target"
    )
    args = parser.parse_args()
    if args.items < 1 or args.repeats < 1:
        parser.error("--items and --repeats must be at least 1")

    # SIGTERM would skip the finally blocks; as SystemExit it drops the database like Ctrl-C.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with throwaway_database(prefix="bench_round") as database:
        configure_django(database)
        from django.core.management import call_command

        from routing.selectors.snapshot import ROUND_ITEM_LIMIT

        call_command("migrate", verbosity=0, interactive=False)
        workload = build_workload(args.items)
        # As a Celery worker process does once it has started (contactcenter/config/celery.py).
        from contactcenter.config.celery import freeze_startup_heap

        freeze_startup_heap()
        print(
            f"# database {database}: {args.items} queued chat items, {workload.agent_count} "
            f"agents x {ITEMS_PER_AGENT} items; ROUND_ITEM_LIMIT={ROUND_ITEM_LIMIT}",
            flush=True,
        )

        round_seconds: list[float] = []
        update_seconds: list[float] = []
        result: RoundResult | None = None
        for repeat in range(1, args.repeats + 1):
            reset_round_state()
            result = time_persisted_round(args.items)
            if result.offers != args.items:
                raise AssertionError(f"the round offered {result.offers} of {args.items} items")
            round_seconds.append(result.seconds)
            vacuum_analyze()
            update_seconds.append(time_batched_update(workload.item_ids))
            print(
                f"# repeat {repeat}: round {result.seconds * 1000:.0f} ms "
                f"({result.rounds} round(s)), batched UPDATE {update_seconds[-1] * 1000:.1f} ms; "
                f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs",
                flush=True,
            )
        assert result is not None

        assignments_per_s = args.items / min(round_seconds)
        updates_per_s = args.items / min(update_seconds)
        ratio = assignments_per_s / updates_per_s
        report(
            {
                "routing_round_offers": (result.offers, "offers"),
                "routing_assignments_per_s": (round(assignments_per_s, 1), "items/s"),
                "pg_batched_update_rows_per_s": (round(updates_per_s, 1), "rows/s"),
                "routing_vs_batched_update_ratio": (round(ratio, 4), "x"),
                "routing_vs_batched_update_ratio_floor": (FLOOR_RATIO, "x"),
            }
        )
        verdict = "holds" if ratio >= FLOOR_RATIO else "FAILS"
        print(
            f"floor routing_vs_batched_update_ratio >= {FLOOR_RATIO}: {ratio:.4f}, {verdict}",
            file=sys.stderr,
            flush=True,
        )
        if args.profile or ratio < TARGET_RATIO:
            diagnose_round(args.items, min(round_seconds), updates_per_s)


if __name__ == "__main__":
    main()
