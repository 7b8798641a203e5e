"""Transitions racing on one offer, on PostgreSQL where rows are really locked.

SQLite runs one writer at a time, so these run in the PostgreSQL rerun of this suite
(tests/integration/test_suite_on_postgres.py) and are skipped on SQLite.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from functools import partial

import psycopg
import pytest
from django.db import connection, connections
from django.utils import timezone

from contactcenter.kernel.errors import Conflict
from routing.models import Agent, Offer, WorkItem
from routing.services.departures import customer_left
from routing.services.offers import accept_offer, expire_offer
from routing.services.presence import set_presence
from routing.services.rounds import run_round
from routing.services.work import close_work
from tests.factories import disposition, make_agent, start_chat, status, text_message, work_item_of

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("reference_data"),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks only race on PostgreSQL; the PostgreSQL rerun of this suite runs it",
    ),
]


def race(*transitions) -> list[BaseException]:
    """Start every transition at the same moment, each on its own connection."""
    barrier = threading.Barrier(len(transitions))
    failures: list[BaseException] = []

    def run(transition) -> None:
        try:
            barrier.wait()
            transition()
        except Conflict:
            pass  # Losing the race politely ("already accepted") is the expected outcome.
        except BaseException as failure:
            failures.append(failure)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(transition,)) for transition in transitions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    stuck = [thread for thread in threads if thread.is_alive()]
    assert not stuck, f"{len(stuck)} transition(s) still waiting for a lock after 30 s"
    return failures


def test_accept_customer_leaving_and_time_out_racing_never_deadlock_or_split() -> None:
    agent = make_agent(available=True, capacity=2)
    for attempt in range(12):
        # A time-out that wins moves the agent to the missed-offer status: back to work.
        set_presence(agent=agent, status_id=status("Available").pk)
        interaction = start_chat(f"Customer {attempt}")
        offer = Offer.objects.get(work_item__interaction=interaction)
        assert offer.agent == agent
        failures = race(
            partial(accept_offer, agent=agent, offer_id=offer.pk),
            partial(customer_left, interaction_id=interaction.pk),
            partial(expire_offer, offer_id=offer.pk, now=timezone.now() + timedelta(hours=1)),
        )
        assert failures == [], failures

        offer.refresh_from_db()
        item = work_item_of(interaction)
        assert offer.outcome != Offer.Outcome.PENDING
        if offer.outcome == Offer.Outcome.ACCEPTED:
            assert (item.status, item.agent) == (WorkItem.Status.ASSIGNED, agent)
            close_work(agent=agent, work_item_id=item.pk, disposition_id=disposition())
        else:
            assert item.status == WorkItem.Status.ABANDONED
            assert item.agent is None


def test_a_round_skips_an_item_another_transaction_is_changing() -> None:
    agent = make_agent(capacity=2)
    interaction = start_chat()
    item = work_item_of(interaction)
    # Available without the round a presence change would trigger: the test runs it.
    Agent.objects.filter(pk=agent.pk).update(status=status("Available"))
    with held_row_lock("routing_workitem", item.pk):
        # Whoever holds the row is changing the item: the round neither waits nor offers it.
        assert run_round() == []
    assert work_item_of(interaction).status == WorkItem.Status.QUEUED
    assert len(run_round()) == 1


def test_rounds_racing_customers_leaving_leave_no_live_offer() -> None:
    agent = make_agent(capacity=10)
    Agent.objects.filter(pk=agent.pk).update(status=status("Available"))
    for attempt in range(12):
        Agent.objects.filter(pk=agent.pk).update(status=None)
        interaction = start_chat(f"Leaving {attempt}")
        Agent.objects.filter(pk=agent.pk).update(status=status("Available"))
        failures = race(
            run_round,
            partial(customer_left, interaction_id=interaction.pk),
        )
        assert failures == [], failures
        item = work_item_of(interaction)
        assert item.status == WorkItem.Status.ABANDONED
        assert not Offer.objects.filter(work_item=item, outcome=Offer.Outcome.PENDING).exists()


def start(transition) -> threading.Thread:
    def run() -> None:
        try:
            transition()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@contextmanager
def held_row_lock(table: str, pk: int):
    """Hold one row's lock from another connection; yields a wait for N blocked sessions."""
    with psycopg.connect(**postgres_params()) as holder:
        holder.execute(f"select 1 from {table} where id = %s for update", [pk])

        def waiting(count: int) -> None:
            for _ in range(300):
                # Activity statistics are a snapshot per transaction unless cleared.
                holder.execute("select pg_stat_clear_snapshot()")
                blocked = holder.execute(
                    "select count(*) from pg_stat_activity"
                    " where datname = current_database() and wait_event_type = 'Lock'"
                ).fetchone()[0]
                if blocked >= count:
                    return
                time.sleep(0.01)
            raise AssertionError(f"{count} session(s) never queued for the lock")

        yield waiting
        holder.rollback()


def postgres_params() -> dict:
    settings = connection.settings_dict
    return {
        "dbname": settings["NAME"],
        "user": settings["USER"],
        "password": settings["PASSWORD"],
        "host": settings["HOST"],
        "port": settings["PORT"] or 5432,
    }


def test_two_messages_at_once_from_a_known_number_share_one_conversation() -> None:
    from contactcenter.crm.models import Interaction
    from routing.services import conversations

    def text(body: str, sid: str):
        return partial(
            conversations.receive,
            text_message(body, sid=sid),
        )

    text("First contact", "SM0")()
    Interaction.objects.update(status=Interaction.Status.CLOSED)
    for round_number in range(5):
        failures = race(text("Photo", f"SMa{round_number}"), text("Caption", f"SMb{round_number}"))
        assert not failures, failures
        assert Interaction.objects.filter(status="open").count() == 1
        assert WorkItem.objects.filter(interaction__status="open").count() == 1
        Interaction.objects.update(status=Interaction.Status.CLOSED)
