"""What a routing round and a sweep read: only what can move, so their cost follows what
changed and not the size of the floor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from routing import engine
from routing.models import AgentSkill, Queue, WorkItem
from routing.selectors import snapshot
from routing.services.presence import ABSENCE_CHECKED_KEY
from routing.services.rounds import run_round
from routing.services.sweep import run_sweep
from tests.factories import make_agent, start_chat

pytestmark = pytest.mark.django_db

CONFIGURATION_TABLES = (
    AgentSkill._meta.db_table,
    Queue.members.through._meta.db_table,
)


def full_floor(committed, agents: int, waiting: int) -> None:
    """Agents each holding one chat, which fills them (a chat takes 2 units), and more
    chats waiting behind."""
    for _ in range(agents):
        make_agent(capacity=2, available=True, skills={"Billing": 5})
    with committed():
        for n in range(agents + waiting):
            start_chat(f"Customer {n}")
    assert WorkItem.objects.filter(status=WorkItem.Status.QUEUED).count() >= waiting
    assert snapshot.free_agent_states() == []


def queries_of_a_round() -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert run_round() == []
    return [query["sql"] for query in queries.captured_queries]


def test_a_round_on_a_full_floor_reads_no_agents_configuration(committed) -> None:
    full_floor(committed, agents=4, waiting=3)
    small = queries_of_a_round()
    full_floor(committed, agents=30, waiting=3)
    large = queries_of_a_round()
    assert len(large) == len(small) <= 2
    assert not [sql for sql in large for table in CONFIGURATION_TABLES if table in sql]


def test_a_round_with_nothing_waiting_is_one_query() -> None:
    for _ in range(20):
        make_agent(capacity=2, available=True)
    assert len(queries_of_a_round()) == 1


def test_a_sweep_with_nothing_to_do_costs_the_same_on_any_floor() -> None:
    def queries_of_a_sweep() -> int:
        now = timezone.now()
        # Between two looks for absent agents, as most sweeps are.
        cache.set(ABSENCE_CHECKED_KEY, now.timestamp(), timeout=None)
        with CaptureQueriesContext(connection) as queries:
            assert run_sweep(now=now) == 0
        return len(queries.captured_queries)

    make_agent(capacity=2, available=True)
    small = queries_of_a_sweep()
    for _ in range(30):
        make_agent(capacity=2, available=True)
    assert queries_of_a_sweep() == small <= 8


def test_a_round_plans_from_free_agents_as_it_would_from_every_agent(committed) -> None:
    """Full agents change no decision, except as the preferred agent an item is held for:
    the engine gives the same plan from the agents a round reads as from all of them."""
    full_floor(committed, agents=6, waiting=0)
    busy = WorkItem.objects.filter(status=WorkItem.Status.OFFERED).order_by("id")
    preferred_full = busy[0].agent_id
    free = [make_agent(capacity=4, available=True, skills={"Billing": n}) for n in (2, 7)]
    now = timezone.now()
    # Not committed: no round runs until the plans below.
    chats = [start_chat(f"Late {n}") for n in range(5)]
    WorkItem.objects.filter(interaction=chats[0]).update(
        preferred_agent_id=preferred_full, preferred_until=now + timedelta(minutes=1)
    )
    WorkItem.objects.filter(interaction=chats[1]).update(
        preferred_agent_id=free[0].pk, preferred_until=now + timedelta(minutes=1)
    )
    everyone = snapshot.agent_states(now)
    read = snapshot.free_agent_states(now)
    assert {agent.id for agent in read} == {agent.pk for agent in free}
    waiting = snapshot.waiting_items(read).items
    read += snapshot.agent_states(
        now, agent_ids=snapshot.preferred_agents_missing(waiting, read, now)
    )
    assert preferred_full in {agent.id for agent in read}
    blocks = snapshot.channel_blocks()
    planned = engine.plan(waiting, read, now, blocks=blocks)
    assert planned == engine.plan(waiting, everyone, now, blocks=blocks)
    assert planned, "the free agents take work"
    held = WorkItem.objects.get(interaction=chats[0]).pk
    assert held not in {assignment.item_id for assignment in planned}, "held for its agent"
