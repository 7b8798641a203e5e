"""Routing stays correct with several workers running rounds at once.

Four Celery worker processes (and beat, sweeping every second) route 5,000 contacts that
another process enqueues in bursts, while a third process plays the agents: accepting,
declining, closing and changing presence. Meanwhile this test samples the database many
times a second, each sample one consistent snapshot, and fails on the first state that
breaks an invariant:

- an item is never offered to two agents, and an offered item's one pending offer is to the
  agent it is offered to;
- no agent ever holds more units than their capacity (wrap-up included), nor more items of a
  channel than their limit;
- no pending offer sits with an agent whose presence does not accept its channel.

After the load stops, the same checks run once more, and the books must balance: every
contact enqueued is one work item, every offer ended in a known way.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.integration.routing_load import AGENTS
from tests.stack import (
    PRINTED_VALUE,
    REPO,
    flushed_redis_db,
    manage,
    production_env,
    running_stack,
    throwaway_database,
)

TOTAL_ITEMS = 5000
FIRST_BURST = 1000
BURST = 500
WORKERS = 4
REDIS_DB = 14
LOAD_SECONDS = 300

HELD = """
    (w.status IN ('offered', 'assigned')
     OR (w.status = 'closed' AND w.wrap_up_until > clock_timestamp()))
"""

# Each query returns the rows that break one invariant; all run in one snapshot.
INVARIANTS = {
    "an item has more than one pending offer": """
        SELECT work_item_id, count(*) FROM routing_offer
        WHERE outcome = 'pending' GROUP BY work_item_id HAVING count(*) > 1
    """,
    "an offered item's pending offer is to another agent, or missing": """
        SELECT w.id, w.agent_id, o.agent_id FROM routing_workitem w
        LEFT JOIN routing_offer o ON o.work_item_id = w.id AND o.outcome = 'pending'
        WHERE w.status = 'offered' AND (o.id IS NULL OR o.agent_id <> w.agent_id)
    """,
    "a pending offer's item is not offered to that agent": """
        SELECT o.id, o.work_item_id FROM routing_offer o
        JOIN routing_workitem w ON w.id = o.work_item_id
        WHERE o.outcome = 'pending' AND (w.status <> 'offered' OR w.agent_id <> o.agent_id)
    """,
    "an item was accepted twice": """
        SELECT work_item_id FROM routing_offer WHERE outcome = 'accepted'
        GROUP BY work_item_id HAVING count(*) > 1
    """,
    "an agent holds more units than their capacity": f"""
        SELECT a.id, a.capacity, sum(w.units) FROM routing_agent a
        JOIN routing_workitem w ON w.agent_id = a.id
        WHERE {HELD}
        GROUP BY a.id, a.capacity HAVING sum(w.units) > a.capacity
    """,
    "an agent holds more items of a channel than their limit": f"""
        SELECT w.agent_id, w.channel_id, count(*),
               coalesce(l.max_items, c.max_items_per_agent) AS lim
        FROM routing_workitem w
        JOIN routing_servicechannel c ON c.id = w.channel_id
        LEFT JOIN routing_agentchannellimit l
               ON l.agent_id = w.agent_id AND l.channel_id = w.channel_id
        WHERE {HELD}
        GROUP BY w.agent_id, w.channel_id, l.max_items, c.max_items_per_agent
        HAVING coalesce(l.max_items, c.max_items_per_agent) IS NOT NULL
           AND count(*) > coalesce(l.max_items, c.max_items_per_agent)
    """,
    "a pending offer is with an agent not open for its channel": """
        SELECT o.id, o.agent_id FROM routing_offer o
        JOIN routing_workitem w ON w.id = o.work_item_id
        JOIN routing_agent a ON a.id = o.agent_id
        WHERE o.outcome = 'pending' AND NOT EXISTS (
            SELECT 1 FROM routing_presencestatus_channels pc
            WHERE pc.presencestatus_id = a.status_id AND pc.servicechannel_id = w.channel_id)
    """,
}


def broken_invariants(connection: psycopg.Connection) -> dict[str, list[tuple]]:
    """One consistent snapshot: every invariant checked against the same committed state."""
    broken = {}
    with connection.transaction():
        connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        for name, query in INVARIANTS.items():
            rows = connection.execute(query).fetchall()
            if rows:
                broken[name] = rows[:5]
    return broken


def load_process(env: dict[str, str], logs: Path, name: str, *args: str) -> subprocess.Popen:
    log = (logs / f"{name}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.routing_load", *args],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def printed(logs: Path, name: str) -> dict[str, str]:
    return dict(PRINTED_VALUE.findall((logs / f"{name}.log").read_text(errors="replace")))


@pytest.mark.postgres
@pytest.mark.redis
def test_four_workers_never_double_offer_or_overfill_under_bursts_and_presence_churn(
    tmp_path: Path,
) -> None:
    with throwaway_database() as database_url, flushed_redis_db(REDIS_DB) as redis_url:
        env = production_env(database_url, redis_url, {"ROUTING_SWEEP_SECONDS": "1"})
        manage(env, "migrate", "--noinput")
        setup = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.integration.routing_load",
                "setup",
                "--total",
                str(TOTAL_ITEMS),
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "SETUP=ok" in setup.stdout, setup.stdout + setup.stderr

        with (
            running_stack(env, tmp_path, workers=WORKERS) as stack,
            psycopg.connect(database_url, autocommit=True) as checker,
        ):
            stop_file = tmp_path / "stop-churn"
            go_file = tmp_path / "go"
            enqueuer = load_process(
                env,
                tmp_path,
                "enqueue",
                "enqueue",
                "--first-burst",
                str(FIRST_BURST),
                "--burst",
                str(BURST),
                "--go-file",
                str(go_file),
            )
            churn = None
            samples = 0
            deadline = time.monotonic() + LOAD_SECONDS
            try:
                while enqueuer.poll() is None:
                    assert time.monotonic() < deadline, "the load did not finish in time"
                    stack.assert_running()
                    if churn is None and "FIRST_BURST_ROUNDS_SETTLED" in printed(
                        tmp_path, "enqueue"
                    ):
                        # The first burst ran alone; now the agents get to work meanwhile.
                        churn = load_process(
                            env, tmp_path, "churn", "churn", "--stop-file", str(stop_file)
                        )
                        go_file.touch()
                    if churn is not None:
                        assert churn.poll() is None, (tmp_path / "churn.log").read_text()[-3000:]
                    broken = broken_invariants(checker)
                    assert not broken, f"invariants broken under load: {broken}"
                    samples += 1
                    time.sleep(0.05)
                assert enqueuer.returncode == 0, (tmp_path / "enqueue.log").read_text()[-3000:]
                # The agents and rounds go on a little after the last burst.
                settle = time.monotonic() + 3
                while time.monotonic() < settle:
                    assert not broken_invariants(checker)
                    samples += 1
                    time.sleep(0.05)
            finally:
                stop_file.touch()
                if churn is not None:
                    churn.wait(timeout=30)
                if enqueuer.poll() is None:
                    enqueuer.kill()
            assert churn is not None
            assert churn.returncode == 0, (tmp_path / "churn.log").read_text()[-3000:]
            assert not broken_invariants(checker)

            counts = dict(
                checker.execute("SELECT status, count(*) FROM routing_workitem GROUP BY 1")
            )
            outcomes = dict(
                checker.execute("SELECT outcome, count(*) FROM routing_offer GROUP BY 1")
            )
            agents = checker.execute("SELECT count(*) FROM routing_agent").fetchone()[0]
        rounds = stack_rounds(redis_url)

    enqueued = printed(tmp_path, "enqueue")
    churned = printed(tmp_path, "churn")
    burst_rounds = int(enqueued["FIRST_BURST_ROUNDS_SETTLED"])
    report = (
        f"samples={samples} items={counts} offers={outcomes} rounds={rounds}; "
        f"first burst of {FIRST_BURST} arrivals in {enqueued['FIRST_BURST_SECONDS']} s: "
        f"{burst_rounds} rounds; churn actions={churned.get('CHURN_ACTIONS')}"
    )
    print(report)
    assert agents == AGENTS
    assert int(enqueued["ENQUEUED"]) == TOTAL_ITEMS == sum(counts.values()), report
    assert samples > 100, report
    # Real work was routed, declined, missed and closed while the checks ran.
    assert outcomes.get("accepted", 0) > 200, report
    assert outcomes.get("declined", 0) > 20, report
    assert counts.get("closed", 0) > 150, report
    # Coalesced: arrivals share rounds instead of running one each. How many share one depends
    # on arrival spacing against round time on this shared machine (148 and 228 rounds for
    # 1,000 arrivals seen in CI), so the bound leaves room for a busy machine.
    assert burst_rounds <= FIRST_BURST / 3, report


def stack_rounds(redis_url: str) -> int:
    import redis

    # Django's cache key for services.ROUNDS_STARTED_KEY, version 1, no prefix.
    value = redis.Redis.from_url(redis_url).get(":1:routing:rounds-started")
    return int(value or 0)
