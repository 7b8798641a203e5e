"""Production mode end to end: Daphne, two Celery workers and Celery beat as separate processes
on PostgreSQL and Redis, driven only through the websockets that the chat page and the agent
console use.

Black box: the test owns a fresh database and a Redis logical database, prepares them with
management commands, and talks to the processes over HTTP and websockets only (the harness is
tests/stack.py). What it proves: a visitor's first message reaches a worker through the broker,
the worker's offer reaches Daphne through the Redis channel layer, the whole chat slice works
across processes, beat schedules the sweep that times out an unanswered offer, and an idle
socket survives the Redis layer's blocking reads (STACK-NOTES trap 1).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stack import (
    flushed_redis_db,
    migrate_and_seed,
    open_socket,
    receive_until,
    running_stack,
    session_cookie,
    shell_script,
    start_chat,
    throwaway_database,
)
from tests.stack import production_env as stack_env

# A logical database of its own, so that a developer's Redis data (db 0) is never flushed.
REDIS_DB = 11
# Two single-process workers, so that two rounds can run at once in different processes.
WORKERS = 2
PUSH_TIMEOUT_SECONDS = 4
# Longer than the 5 s blocking read of channels_redis: with redis-py's default socket timeout
# an idle consumer dies with 1011 after 5-8 s (STACK-NOTES trap 1).
IDLE_SECONDS = 8

PREPARE_SCRIPT = f"""
from routing.models import Agent, PresenceStatus, RoutingConfig
from routing.services.presence import set_presence

updated = RoutingConfig.objects.filter(name="Web chat").update(
    push_timeout_seconds={PUSH_TIMEOUT_SECONDS}
)
assert updated == 1, f"expected one 'Web chat' routing configuration, updated {{updated}}"
agent = Agent.objects.select_related("user").get(user__username="agent01")
available = PresenceStatus.objects.get(name="Available")
set_presence(agent=agent, status_id=available.pk)
print("SESSION_KEY=" + new_session_key(agent.user))
"""


# --- outside services -----------------------------------------------------------------------


@pytest.fixture
def database_url() -> Iterator[str]:
    """A fresh, uniquely named PostgreSQL database, dropped afterwards."""
    with throwaway_database() as url:
        yield url


@pytest.fixture
def redis_url() -> Iterator[str]:
    """Redis logical database REDIS_DB, empty before and after."""
    with flushed_redis_db(REDIS_DB) as url:
        yield url


@pytest.fixture
def production_env(database_url: str, redis_url: str) -> dict[str, str]:
    # A sweep every second, so that beat times out the unanswered offer soon after its 4 s.
    return stack_env(database_url, redis_url, extra={"ROUTING_SWEEP_SECONDS": "1"})


@pytest.fixture
def agent01_session(production_env: dict[str, str]) -> str:
    """Migrate and seed the database; agent01 Available and logged in. Returns the session key."""
    migrate_and_seed(production_env)
    printed = shell_script(production_env, PREPARE_SCRIPT)
    assert "SESSION_KEY" in printed, f"the setup script printed no session key: {printed}"
    return printed["SESSION_KEY"]


# --- the test -------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.redis
def test_chat_is_routed_answered_closed_and_timed_out_across_daphne_worker_and_beat(
    production_env: dict[str, str], agent01_session: str, tmp_path: Path
) -> None:
    with (
        running_stack(production_env, tmp_path, workers=WORKERS) as stack,
        open_socket(stack, "agent", "/ws/agent/", session_cookie(agent01_session)) as agent,
        open_socket(stack, "visitor Ida", "/ws/chat/") as ida,
    ):
        snapshot = agent.next_frame(timeout=5)
        assert snapshot["type"] == "console.snapshot", f"first agent frame: {snapshot}"
        me = snapshot["data"]["agent"]
        assert me["status_name"] == "Available", f"agent01 should be Available: {me}"
        assert snapshot["data"]["offers"] == [], snapshot
        assert snapshot["data"]["work_items"] == [], snapshot

        # A visitor writes: the enqueue's task runs in the worker, whose offer crosses Redis.
        # The demo's bot answers first; asking for a person hands the chat to the queue.
        hello = "Can I talk to a person? Hello from the integration test"
        started = start_chat(ida, name="Ida Integration", email="ida@example.com", body=hello)
        offer = receive_until(
            agent, "offer.created", 15, where=lambda d: d["customer_name"] == "Ida Integration"
        )
        assert offer["preview"] == hello, offer
        assert offer["queue"] == "Web chat", offer
        assert offer["timeout_seconds"] == PUSH_TIMEOUT_SECONDS, offer

        agent.send("offer.accept", {"offer_id": offer["offer_id"]})
        work = receive_until(agent, "work.assigned", 5)
        assert work["work_item_id"] == offer["work_item_id"], work
        assert work["interaction_id"] == started["interaction_id"], work
        assert hello in [message["body"] for message in work["messages"]], work["messages"]
        closed = receive_until(
            agent, "offer.closed", 5, where=lambda d: d["offer_id"] == offer["offer_id"]
        )
        assert closed["outcome"] == "accepted", closed
        connected = receive_until(ida, "chat.status", 5, where=lambda d: d["state"] != "waiting")
        assert connected["state"] == "connected", connected
        assert connected["agent_name"] == me["name"], connected

        reply = "Hi Ida, how can I help?"
        agent.send("message.send", {"work_item_id": work["work_item_id"], "body": reply})
        answer = receive_until(ida, "message.created", 5, where=lambda d: d["sender"] == "agent")
        assert answer["body"] == reply, answer

        resolved = snapshot["data"]["dispositions"][0]["id"]
        agent.send("work.close", {"work_item_id": work["work_item_id"], "disposition_id": resolved})
        receive_until(
            agent, "work.closed", 5, where=lambda d: d["work_item_id"] == work["work_item_id"]
        )
        ended = receive_until(ida, "chat.status", 5, where=lambda d: d["state"] != "connected")
        assert ended["state"] == "closed", ended

        # Nobody answers the next chat: only beat's sweep, run by the worker, can time it out.
        with open_socket(stack, "visitor Olaf", "/ws/chat/") as olaf:
            start_chat(
                olaf,
                name="Olaf Unanswered",
                email="olaf@example.com",
                body="I want an agent, anyone?",
            )
            unanswered = receive_until(
                agent, "offer.created", 15, where=lambda d: d["customer_name"] == "Olaf Unanswered"
            )
            offered_at = time.monotonic()
            timed_out = receive_until(
                agent,
                "offer.closed",
                PUSH_TIMEOUT_SECONDS + 8,
                where=lambda d: d["offer_id"] == unanswered["offer_id"],
            )
            assert timed_out["outcome"] == "timed_out", (
                f"the unanswered offer should time out, not {timed_out['outcome']}"
            )
            waited = time.monotonic() - offered_at
            assert waited >= PUSH_TIMEOUT_SECONDS - 1, (
                f"the offer timed out after {waited:.1f} s, before its {PUSH_TIMEOUT_SECONDS} s"
            )

            # The missed offer moved agent01 to "Missed offer", which takes no work, and the
            # console hears of it.
            missed = receive_until(
                agent, "agent.updated", 5, where=lambda d: d["status_name"] == "Missed offer"
            )
            assert missed["id"] == me["id"], missed

            # agent01 is never offered Olaf's chat again, so the agent socket now idles longer
            # than the Redis layer's 5 s blocking read; it must stay open and still get pushes.
            agent.stay_open(IDLE_SECONDS)
            agent.send("presence.set", {"status_id": me["status_id"]})
            back = receive_until(
                agent, "agent.updated", 5, where=lambda d: d["status_name"] == "Available"
            )
            assert back["status_id"] == me["status_id"], back
            ida.assert_open()
            olaf.assert_open()
            with open_socket(stack, "visitor Tess", "/ws/chat/") as tess:
                start_chat(
                    tess,
                    name="Tess Later",
                    email="tess@example.com",
                    body="I want an agent, still there?",
                )
                later = receive_until(
                    agent, "offer.created", 15, where=lambda d: d["customer_name"] == "Tess Later"
                )
                assert later["preview"] == "I want an agent, still there?", later
