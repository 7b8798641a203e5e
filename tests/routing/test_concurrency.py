"""Transitions racing on one offer, on PostgreSQL where rows are really locked.

SQLite runs one writer at a time, so these run in the PostgreSQL rerun of this suite
(tests/integration/test_suite_on_postgres.py) and are skipped on SQLite.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from functools import partial

import pytest
from django.db import connection, connections
from django.utils import timezone

from contactcenter.errors import Conflict
from routing import services
from routing.models import Offer, WorkItem
from tests.factories import make_agent, start_chat, work_item_of

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
    return failures


def test_accept_customer_leaving_and_time_out_racing_never_deadlock_or_split() -> None:
    agent = make_agent(available=True, capacity=2)
    for attempt in range(12):
        interaction = start_chat(f"Customer {attempt}")
        offer = Offer.objects.get(work_item__interaction=interaction)
        assert offer.agent == agent
        failures = race(
            partial(services.accept_offer, agent=agent, offer_id=offer.pk),
            partial(services.customer_left, interaction_id=interaction.pk),
            partial(
                services.expire_offer, offer_id=offer.pk, now=timezone.now() + timedelta(hours=1)
            ),
        )
        assert failures == [], failures

        offer.refresh_from_db()
        item = work_item_of(interaction)
        assert offer.outcome != Offer.Outcome.PENDING
        if offer.outcome == Offer.Outcome.ACCEPTED:
            assert (item.status, item.agent) == (WorkItem.Status.ASSIGNED, agent)
            services.close_work(agent=agent, work_item_id=item.pk)
        else:
            assert item.status == WorkItem.Status.ABANDONED
            assert item.agent is None
