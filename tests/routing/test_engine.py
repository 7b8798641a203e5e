from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.engine import AgentState, Assignment, WaitingItem, plan, serving_order

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
CHAT, VOICE = 1, 2
SALES, SUPPORT = 10, 20


def item(
    pk: int,
    *,
    queue: int = SALES,
    channel: int = CHAT,
    routing_priority: int = 10,
    priority: int = 0,
    age: int = 0,
    units: int = 1,
    excluded: frozenset[int] = frozenset(),
) -> WaitingItem:
    return WaitingItem(
        id=pk,
        queue_id=queue,
        channel_id=channel,
        routing_priority=routing_priority,
        priority=priority,
        enqueued_at=T0 - timedelta(seconds=age),
        units=units,
        excluded_agent_ids=excluded,
    )


def agent(
    pk: int,
    *,
    capacity: int = 3,
    used: int = 0,
    channels: frozenset[int] = frozenset({CHAT}),
    queues: frozenset[int] = frozenset({SALES, SUPPORT}),
    idle_since: datetime | None = None,
) -> AgentState:
    return AgentState(
        id=pk,
        capacity=capacity,
        used_units=used,
        open_channel_ids=channels,
        queue_ids=queues,
        idle_since=idle_since,
    )


def test_oldest_item_is_served_first_when_only_one_agent_is_free() -> None:
    assignments = plan([item(1, age=10), item(2, age=50)], [agent(7, capacity=1)])
    assert assignments == [Assignment(item_id=2, agent_id=7)]


def test_queue_routing_priority_beats_age() -> None:
    old_low = item(1, queue=SALES, routing_priority=10, age=500)
    new_high = item(2, queue=SUPPORT, routing_priority=1, age=1)
    assert plan([old_low, new_high], [agent(7, capacity=1)]) == [Assignment(2, 7)]


def test_item_priority_orders_within_the_same_routing_priority() -> None:
    ordered = serving_order([item(1, age=100), item(2, priority=5, age=1)])
    assert [i.id for i in ordered] == [2, 1]


def test_agent_whose_presence_does_not_accept_the_channel_is_skipped() -> None:
    voice_item = item(1, channel=VOICE)
    assert plan([voice_item], [agent(7, channels=frozenset({CHAT}))]) == []


def test_agent_who_is_not_a_member_of_the_queue_is_skipped() -> None:
    assert plan([item(1, queue=SUPPORT)], [agent(7, queues=frozenset({SALES}))]) == []


def test_free_units_must_cover_the_item() -> None:
    assert plan([item(1, units=2)], [agent(7, capacity=3, used=2)]) == []
    assert plan([item(1, units=2)], [agent(7, capacity=3, used=1)]) == [Assignment(1, 7)]


def test_an_agent_takes_several_items_up_to_capacity_within_one_round() -> None:
    items = [item(pk, units=2, age=pk) for pk in range(1, 5)]
    assignments = plan(items, [agent(7, capacity=6)])
    assert [a.item_id for a in assignments] == [4, 3, 2]


def test_agent_who_was_offered_the_item_before_is_not_offered_it_again() -> None:
    missed = item(1, excluded=frozenset({7}))
    assert plan([missed], [agent(7), agent(8)]) == [Assignment(1, 8)]


def test_most_free_units_wins_and_ties_go_to_the_longest_idle_then_lowest_id() -> None:
    busy = agent(1, capacity=3, used=2)
    free = agent(2, capacity=3)
    assert plan([item(1)], [busy, free]) == [Assignment(1, 2)]
    recently = agent(3, idle_since=T0)
    long_ago = agent(4, idle_since=T0 - timedelta(hours=1))
    assert plan([item(1)], [recently, long_ago]) == [Assignment(1, 4)]
    assert plan([item(1)], [agent(6), agent(5)]) == [Assignment(1, 5)]


def test_load_spreads_over_agents_with_equal_capacity() -> None:
    assignments = plan([item(pk, age=pk) for pk in range(1, 5)], [agent(1), agent(2)])
    per_agent = {a.agent_id: 0 for a in assignments}
    for a in assignments:
        per_agent[a.agent_id] += 1
    assert per_agent == {1: 2, 2: 2}


agent_strategy = st.builds(
    agent,
    st.integers(1, 30),
    capacity=st.integers(1, 6),
    used=st.integers(0, 6),
    channels=st.frozensets(st.sampled_from([CHAT, VOICE]), max_size=2),
    queues=st.frozensets(st.sampled_from([SALES, SUPPORT]), max_size=2),
)
item_strategy = st.builds(
    item,
    st.integers(1, 200),
    queue=st.sampled_from([SALES, SUPPORT]),
    channel=st.sampled_from([CHAT, VOICE]),
    routing_priority=st.integers(1, 3),
    priority=st.integers(0, 2),
    age=st.integers(0, 1000),
    units=st.integers(1, 4),
    excluded=st.frozensets(st.integers(1, 30), max_size=3),
)


def loads_after(
    assignments: list[Assignment], items: list[WaitingItem], agents: list[AgentState]
) -> dict[int, int]:
    units = {i.id: i.units for i in items}
    load = {a.id: a.used_units for a in agents}
    for assignment in assignments:
        load[assignment.agent_id] += units[assignment.item_id]
    return load


@settings(max_examples=300, deadline=None)
@given(
    items=st.lists(item_strategy, max_size=40, unique_by=lambda i: i.id),
    agents=st.lists(agent_strategy, max_size=12, unique_by=lambda a: a.id),
)
def test_plan_never_breaks_eligibility_or_capacity(items, agents) -> None:
    assignments = plan(items, agents)
    by_item = {i.id: i for i in items}
    by_agent = {a.id: a for a in agents}
    assert len({a.item_id for a in assignments}) == len(assignments), "an item offered twice"
    for assignment in assignments:
        it, ag = by_item[assignment.item_id], by_agent[assignment.agent_id]
        assert it.channel_id in ag.open_channel_ids
        assert it.queue_id in ag.queue_ids
        assert ag.id not in it.excluded_agent_ids
    load = loads_after(assignments, items, agents)
    for ag in agents:
        if load[ag.id] != ag.used_units:
            assert load[ag.id] <= ag.capacity, "an agent was overfilled"


@settings(max_examples=200, deadline=None)
@given(
    items=st.lists(item_strategy, max_size=30, unique_by=lambda i: i.id),
    agents=st.lists(agent_strategy, max_size=10, unique_by=lambda a: a.id),
)
def test_an_unassigned_item_had_no_eligible_agent_with_room_left(items, agents) -> None:
    assignments = plan(items, agents)
    assigned = {a.item_id for a in assignments}
    load = loads_after(assignments, items, agents)
    for it in items:
        if it.id in assigned:
            continue
        for ag in agents:
            eligible = (
                it.channel_id in ag.open_channel_ids
                and it.queue_id in ag.queue_ids
                and ag.id not in it.excluded_agent_ids
            )
            assert not (eligible and ag.capacity - load[ag.id] >= it.units), (
                f"item {it.id} waits while agent {ag.id} could take it"
            )
