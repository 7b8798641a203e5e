from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.engine import (
    AgentState,
    Assignment,
    RoutingModel,
    SkillNeed,
    WaitingItem,
    WaitReason,
    explain,
    plan,
    serving_order,
)

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
CHAT, VOICE, EMAIL = 1, 2, 3
SALES, SUPPORT = 10, 20
BILLING, SPANISH = 100, 200


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
    **rules,
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
        **rules,
    )


def agent(
    pk: int,
    *,
    capacity: int = 3,
    used: int = 0,
    channels: frozenset[int] = frozenset({CHAT}),
    queues: frozenset[int] = frozenset({SALES, SUPPORT}),
    idle_since: datetime | None = None,
    **state,
) -> AgentState:
    return AgentState(
        id=pk,
        capacity=capacity,
        used_units=used,
        open_channel_ids=channels,
        queue_ids=queues,
        idle_since=idle_since,
        **state,
    )


def test_oldest_item_is_served_first_when_only_one_agent_is_free() -> None:
    assignments = plan([item(1, age=10), item(2, age=50)], [agent(7, capacity=1)], T0)
    assert assignments == [Assignment(item_id=2, agent_id=7)]


def test_queue_routing_priority_beats_age() -> None:
    old_low = item(1, queue=SALES, routing_priority=10, age=500)
    new_high = item(2, queue=SUPPORT, routing_priority=1, age=1)
    assert plan([old_low, new_high], [agent(7, capacity=1)], T0) == [Assignment(2, 7)]


def test_item_priority_orders_within_the_same_routing_priority() -> None:
    ordered = serving_order([item(1, age=100), item(2, priority=5, age=1)], T0)
    assert [i.id for i in ordered] == [2, 1]


def test_agent_whose_presence_does_not_accept_the_channel_is_skipped() -> None:
    voice_item = item(1, channel=VOICE)
    assert plan([voice_item], [agent(7, channels=frozenset({CHAT}))], T0) == []


def test_agent_who_is_not_a_member_of_the_queue_is_skipped() -> None:
    assert plan([item(1, queue=SUPPORT)], [agent(7, queues=frozenset({SALES}))], T0) == []


def test_free_units_must_cover_the_item() -> None:
    assert plan([item(1, units=2)], [agent(7, capacity=3, used=2)], T0) == []
    assert plan([item(1, units=2)], [agent(7, capacity=3, used=1)], T0) == [Assignment(1, 7)]


def test_an_agent_takes_several_items_up_to_capacity_within_one_round() -> None:
    items = [item(pk, units=2, age=pk) for pk in range(1, 5)]
    assignments = plan(items, [agent(7, capacity=6)], T0)
    assert [a.item_id for a in assignments] == [4, 3, 2]


def test_agent_who_was_offered_the_item_before_is_not_offered_it_again() -> None:
    missed = item(1, excluded=frozenset({7}))
    assert plan([missed], [agent(7), agent(8)], T0) == [Assignment(1, 8)]


def test_most_free_units_wins_and_ties_go_to_the_longest_idle_then_lowest_id() -> None:
    busy = agent(1, capacity=3, used=2)
    free = agent(2, capacity=3)
    assert plan([item(1)], [busy, free], T0) == [Assignment(1, 2)]
    recently = agent(3, idle_since=T0)
    long_ago = agent(4, idle_since=T0 - timedelta(hours=1))
    assert plan([item(1)], [recently, long_ago], T0) == [Assignment(1, 4)]
    assert plan([item(1)], [agent(6), agent(5)], T0) == [Assignment(1, 5)]


def test_load_spreads_over_agents_with_equal_capacity() -> None:
    assignments = plan([item(pk, age=pk) for pk in range(1, 5)], [agent(1), agent(2)], T0)
    per_agent = {a.agent_id: 0 for a in assignments}
    for a in assignments:
        per_agent[a.agent_id] += 1
    assert per_agent == {1: 2, 2: 2}


def test_least_active_prefers_the_agent_with_fewest_open_items() -> None:
    model = {"routing_model": RoutingModel.LEAST_ACTIVE}
    roomy_but_busy = agent(1, capacity=8, used=3, active_items=3)
    quiet = agent(2, capacity=3, used=1, active_items=1)
    assert plan([item(1, **model)], [roomy_but_busy, quiet], T0) == [Assignment(1, 2)]


def test_longest_idle_prefers_agents_without_work_then_the_longest_since_work_ended() -> None:
    model = {"routing_model": RoutingModel.LONGEST_IDLE}
    working = agent(1, used=1, active_items=1, idle_since=T0 - timedelta(hours=5))
    idle_short = agent(2, idle_since=T0 - timedelta(minutes=1))
    idle_long = agent(3, idle_since=T0 - timedelta(minutes=30))
    assert plan([item(1, **model)], [working, idle_short, idle_long], T0) == [Assignment(1, 3)]


def test_round_robin_takes_turns_starting_with_the_agent_offered_work_longest_ago() -> None:
    model = {"routing_model": RoutingModel.ROUND_ROBIN}
    agents = [
        agent(1, last_offered_at=T0 - timedelta(minutes=1)),
        agent(2, last_offered_at=T0 - timedelta(minutes=9)),
        agent(3, last_offered_at=T0 - timedelta(minutes=5)),
    ]
    items = [item(pk, age=10 - pk, **model) for pk in range(1, 5)]
    assert [a.agent_id for a in plan(items, agents, T0)] == [2, 3, 1, 2]


def test_best_skill_match_picks_the_highest_summed_level_of_the_needed_skills() -> None:
    needs = (SkillNeed(BILLING, 3), SkillNeed(SPANISH, 2))
    model = {"routing_model": RoutingModel.BEST_SKILL_MATCH, "skills": needs}
    good = agent(1, skills={BILLING: 5, SPANISH: 5})
    best = agent(2, skills={BILLING: 9, SPANISH: 4})
    assignments = plan([item(1, **model)], [good, best], T0)
    assert assignments == [Assignment(1, 2)]
    assert assignments[0].model == "best_skill_match"
    assert assignments[0].key[0] == -13


def test_required_skills_and_levels_exclude_agents_below_them() -> None:
    needs = (SkillNeed(BILLING, 6),)
    novice = agent(1, skills={BILLING: 5})
    expert = agent(2, skills={BILLING: 6})
    assert plan([item(1, skills=needs)], [novice, expert], T0) == [Assignment(1, 2)]
    assert plan([item(1, skills=needs)], [novice], T0) == []


def test_an_optional_skill_stops_counting_after_its_wait_so_a_good_match_is_not_left_idle() -> None:
    needs = (SkillNeed(BILLING, 3), SkillNeed(SPANISH, 5, drop_after_seconds=60))
    english_only = agent(1, skills={BILLING: 8})
    assert plan([item(1, skills=needs, age=30)], [english_only], T0) == []
    assert plan([item(1, skills=needs, age=61)], [english_only], T0) == [Assignment(1, 1)]


def test_aging_raises_an_items_priority_after_its_wait() -> None:
    aging = {"aging_after_seconds": 120, "aging_boost": 5}
    fresh_high = item(1, priority=3, age=10)
    old_low = item(2, priority=0, age=200, **aging)
    assert [i.id for i in serving_order([fresh_high, old_low], T0)] == [2, 1]
    young_low = item(3, priority=0, age=100, **aging)
    assert [i.id for i in serving_order([fresh_high, young_low], T0)] == [1, 3]


def test_capacity_as_a_percentage_makes_a_call_take_the_whole_agent() -> None:
    call = item(1, channel=VOICE, capacity_percent=100)
    both = frozenset({CHAT, VOICE})
    assert plan([call], [agent(1, capacity=4, used=1, channels=both)], T0) == []
    assignments = plan([call, item(2, age=-1)], [agent(1, capacity=4, channels=both)], T0)
    assert assignments == [Assignment(1, 1)], "nothing else fits beside the call"


def test_per_channel_limits_cap_items_on_one_channel() -> None:
    limited = agent(1, capacity=10, channel_limits={CHAT: 2}, channel_items={CHAT: 1})
    items = [item(pk, age=10 - pk) for pk in range(1, 4)]
    assert plan(items, [limited], T0) == [Assignment(1, 1)]


def test_while_on_a_call_no_chat_is_offered_but_chats_may_go_on_while_emails_wait() -> None:
    blocks = {VOICE: frozenset({CHAT, EMAIL})}
    every = frozenset({CHAT, VOICE, EMAIL})
    on_call = agent(1, capacity=10, used=2, channels=every, channel_items={VOICE: 1})
    assert plan([item(1), item(2, channel=EMAIL)], [on_call], T0, blocks=blocks) == []
    chatting = agent(1, capacity=10, used=2, channels=every, channel_items={CHAT: 1})
    email = item(2, channel=EMAIL)
    assert plan([email], [chatting], T0, blocks=blocks) == [Assignment(2, 1)]
    # Taking a call in this round blocks the chat behind it.
    free = agent(1, capacity=10, channels=every)
    call, chat = item(1, channel=VOICE, age=10), item(2, age=5)
    assert plan([call, chat], [free], T0, blocks=blocks) == [Assignment(1, 1)]


def test_a_returning_customer_waits_for_their_last_agent_while_the_preference_lasts() -> None:
    prefers = {"preferred_agent_id": 1, "preferred_until": T0 + timedelta(seconds=30)}
    busy_favourite = agent(1, capacity=2, used=2)
    other = agent(2)
    assert plan([item(1, **prefers)], [busy_favourite, other], T0) == []
    free_favourite = agent(1, capacity=2)
    assignments = plan([item(1, **prefers)], [other, free_favourite], T0)
    assert assignments == [Assignment(1, 1)]
    assert assignments[0].model == "preferred_agent"
    expired = {"preferred_agent_id": 1, "preferred_until": T0 - timedelta(seconds=1)}
    assert plan([item(1, **expired)], [busy_favourite, other], T0) == [Assignment(1, 2)]


def test_a_preferred_agent_who_is_not_there_does_not_hold_the_item() -> None:
    prefers = {"preferred_agent_id": 1, "preferred_until": T0 + timedelta(minutes=5)}
    offline_favourite = agent(1, channels=frozenset())
    assert plan([item(1, **prefers)], [offline_favourite, agent(2)], T0) == [Assignment(1, 2)]


def test_explain_counts_the_agents_each_reason_excludes() -> None:
    needs = (SkillNeed(BILLING, 5),)
    waiting = item(1, skills=needs, excluded=frozenset({6}))
    agents = [
        agent(1, channels=frozenset()),
        agent(2, channels=frozenset({VOICE})),
        agent(3, queues=frozenset({SUPPORT})),
        agent(4, skills={BILLING: 2}),
        agent(5, skills={}),
        agent(6, skills={BILLING: 9}),
        agent(7, skills={BILLING: 9}, capacity=2, used=2),
        agent(8, skills={BILLING: 9}, channel_limits={CHAT: 1}, channel_items={CHAT: 1}),
        agent(9, skills={BILLING: 9}),
    ]
    why = explain(waiting, agents, T0)
    assert why.excluded == {
        WaitReason.OFFLINE: 1,
        WaitReason.NOT_OPEN_FOR_CHANNEL: 1,
        WaitReason.NOT_A_MEMBER: 1,
        WaitReason.MISSING_SKILL: 2,
        WaitReason.DECLINED_OR_MISSED: 1,
        WaitReason.NO_FREE_CAPACITY: 1,
        WaitReason.CHANNEL_LIMIT: 1,
    }
    assert why.missing_skills == {(BILLING, 5): 2}
    assert why.eligible_agent_ids == (9,)
    assert why.agents_considered == 9


def test_explain_names_the_preferred_agent_an_item_is_held_for() -> None:
    prefers = {"preferred_agent_id": 1, "preferred_until": T0 + timedelta(seconds=30)}
    why = explain(item(1, **prefers), [agent(1, capacity=1, used=1), agent(2)], T0)
    assert why.waiting_for_preferred_agent == 1
    assert why.excluded == {WaitReason.NO_FREE_CAPACITY: 1}


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
    assignments = plan(items, agents, T0)
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
    assignments = plan(items, agents, T0)
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


BLOCKS = {VOICE: frozenset({CHAT, EMAIL})}
skill_need_strategy = st.builds(
    SkillNeed,
    st.sampled_from([BILLING, SPANISH]),
    st.integers(1, 10),
    st.one_of(st.none(), st.integers(0, 600)),
)
rich_agent_strategy = st.builds(
    agent,
    st.integers(1, 20),
    capacity=st.integers(1, 8),
    used=st.integers(0, 3),
    channels=st.frozensets(st.sampled_from([CHAT, VOICE, EMAIL]), max_size=3),
    queues=st.frozensets(st.sampled_from([SALES, SUPPORT]), max_size=2),
    skills=st.dictionaries(st.sampled_from([BILLING, SPANISH]), st.integers(1, 10)),
    active_items=st.integers(0, 3),
    channel_items=st.dictionaries(st.sampled_from([CHAT, VOICE, EMAIL]), st.integers(0, 2)),
    channel_limits=st.dictionaries(st.sampled_from([CHAT, VOICE, EMAIL]), st.integers(1, 3)),
    last_offered_at=st.one_of(st.none(), st.just(T0 - timedelta(minutes=3))),
)
rich_item_strategy = st.builds(
    item,
    st.integers(1, 300),
    queue=st.sampled_from([SALES, SUPPORT]),
    channel=st.sampled_from([CHAT, VOICE, EMAIL]),
    routing_priority=st.integers(1, 3),
    priority=st.integers(0, 2),
    age=st.integers(0, 900),
    units=st.integers(1, 4),
    excluded=st.frozensets(st.integers(1, 20), max_size=3),
    skills=st.lists(skill_need_strategy, max_size=2).map(tuple),
    routing_model=st.sampled_from(list(RoutingModel)),
    capacity_percent=st.one_of(st.none(), st.sampled_from([50, 100])),
    aging_after_seconds=st.one_of(st.none(), st.integers(0, 600)),
    aging_boost=st.integers(0, 3),
    preferred_agent_id=st.one_of(st.none(), st.integers(1, 20)),
    preferred_until=st.one_of(st.none(), st.just(T0 + timedelta(seconds=30))),
)


def statically_eligible(it: WaitingItem, ag: AgentState) -> bool:
    return (
        it.channel_id in ag.open_channel_ids
        and it.queue_id in ag.queue_ids
        and ag.id not in it.excluded_agent_ids
        and all(ag.skills.get(n.skill_id, 0) >= n.min_level for n in it.skill_needs(T0))
    )


@settings(max_examples=400, deadline=None)
@given(
    items=st.lists(rich_item_strategy, max_size=40, unique_by=lambda i: i.id),
    agents=st.lists(rich_agent_strategy, max_size=10, unique_by=lambda a: a.id),
)
def test_every_rule_holds_for_every_offer_of_a_plan(items, agents) -> None:
    assignments = plan(items, agents, T0, blocks=BLOCKS)
    by_item = {i.id: i for i in items}
    assert len({a.item_id for a in assignments}) == len(assignments), "an item offered twice"
    free = {a.id: a.free_units for a in agents}
    held = {a.id: dict(a.channel_items) for a in agents}
    for assignment in assignments:  # replayed in the order the round made them
        it, ag = by_item[assignment.item_id], next(a for a in agents if a.id == assignment.agent_id)
        assert statically_eligible(it, ag)
        blocked = {c for ch, n in held[ag.id].items() if n > 0 for c in BLOCKS.get(ch, ())}
        assert it.channel_id not in blocked, "offered a channel its other work blocks"
        limit = ag.channel_limits.get(it.channel_id)
        assert limit is None or held[ag.id].get(it.channel_id, 0) < limit, "channel limit"
        free[ag.id] -= it.units_for(ag.capacity)
        assert free[ag.id] >= 0, "an agent was overfilled"
        held[ag.id][it.channel_id] = held[ag.id].get(it.channel_id, 0) + 1
        prefers = it.prefers(T0)
        if prefers is not None and prefers != ag.id:
            favourite = next((a for a in agents if a.id == prefers), None)
            assert favourite is None or not statically_eligible(it, favourite), (
                "an item held for its preferred agent went to someone else"
            )


@settings(max_examples=300, deadline=None)
@given(
    items=st.lists(rich_item_strategy, max_size=30, unique_by=lambda i: i.id),
    agents=st.lists(rich_agent_strategy, max_size=8, unique_by=lambda a: a.id),
)
def test_explain_agrees_with_plan_about_who_could_take_a_lone_item(items, agents) -> None:
    for it in items[:5]:
        lone = plan([it], agents, T0, blocks=BLOCKS)
        why = explain(it, agents, T0, blocks=BLOCKS)
        assert sum(why.excluded.values()) + len(why.eligible_agent_ids) == len(agents)
        if why.waiting_for_preferred_agent is None:
            assert bool(lone) == bool(why.eligible_agent_ids)
            if lone:
                assert lone[0].agent_id in why.eligible_agent_ids


def idle_rank(moment: datetime | None) -> tuple[int, float]:
    return (0, 0.0) if moment is None else (1, moment.timestamp())


def reference_plan(
    items: list[WaitingItem], agents: list[AgentState], now: datetime, blocks: dict
) -> list[tuple[int, int, str, tuple]]:
    """The engine's rules checked agent by agent, unindexed: the offers a plan must make."""
    free = {a.id: a.free_units for a in agents}
    active = {a.id: a.active_items for a in agents}
    held = {a.id: dict(a.channel_items) for a in agents}
    offered = {a.id: (*idle_rank(a.last_offered_at), 0) for a in agents}
    by_id = {a.id: a for a in agents}

    def has_room(it: WaitingItem, ag: AgentState) -> bool:
        blocked = {c for ch, n in held[ag.id].items() if n > 0 for c in blocks.get(ch, ())}
        limit = ag.channel_limits.get(it.channel_id)
        return (
            it.channel_id not in blocked
            and (limit is None or held[ag.id].get(it.channel_id, 0) < limit)
            and free[ag.id] >= it.units_for(ag.capacity)
        )

    def key(it: WaitingItem, ag: AgentState) -> tuple:
        model, rank = it.routing_model, idle_rank(ag.idle_since)
        if model == RoutingModel.LEAST_ACTIVE:
            return (active[ag.id], rank, ag.id)
        if model == RoutingModel.LONGEST_IDLE:
            return (active[ag.id] > 0, rank, ag.id)
        if model == RoutingModel.ROUND_ROBIN:
            return (offered[ag.id], ag.id)
        if model == RoutingModel.BEST_SKILL_MATCH:
            score = sum(ag.skills.get(n.skill_id, 0) for n in it.skill_needs(now))
            return (-score, -free[ag.id], rank, ag.id)
        return (-free[ag.id], rank, ag.id)

    result = []
    for it in serving_order(items, now):
        favourite = by_id.get(it.prefers(now))
        if favourite is not None and statically_eligible(it, favourite):
            chosen = (
                (favourite, "preferred_agent", (favourite.id,)) if has_room(it, favourite) else None
            )
        else:
            best = min(
                (
                    (key(it, ag), ag)
                    for ag in agents
                    if statically_eligible(it, ag) and has_room(it, ag)
                ),
                default=None,
            )
            chosen = (best[1], str(it.routing_model), best[0]) if best else None
        if chosen is None:
            continue
        ag, model, agent_key = chosen
        free[ag.id] -= it.units_for(ag.capacity)
        active[ag.id] += 1
        held[ag.id][it.channel_id] = held[ag.id].get(it.channel_id, 0) + 1
        offered[ag.id] = (1, now.timestamp(), len(result) + 1)
        result.append((it.id, ag.id, model, agent_key))
    return result


def assert_plan_matches_reference(items: list[WaitingItem], agents: list[AgentState]) -> None:
    assignments = plan(items, agents, T0, blocks=BLOCKS)
    made = [(a.item_id, a.agent_id, a.model, a.key) for a in assignments]
    assert made == reference_plan(items, agents, T0, BLOCKS)


@settings(max_examples=300, deadline=None)
@given(
    items=st.lists(rich_item_strategy, max_size=40, unique_by=lambda i: i.id),
    agents=st.lists(rich_agent_strategy, max_size=10, unique_by=lambda a: a.id),
)
def test_plan_makes_the_same_offers_as_a_plain_reference(items, agents) -> None:
    assert_plan_matches_reference(items, agents)


# Many items of few kinds: pools serve item after item, so their entries go stale and agents
# leave them as they fill up.
crowded_item_strategy = st.builds(
    item,
    st.integers(1, 500),
    queue=st.sampled_from([SALES, SUPPORT]),
    channel=st.sampled_from([CHAT, CHAT, VOICE]),
    routing_priority=st.integers(1, 2),
    age=st.integers(0, 300),
    units=st.integers(1, 2),
    excluded=st.frozensets(st.integers(1, 20), max_size=2),
    skills=st.sampled_from(
        [(), (SkillNeed(BILLING, 3),), (SkillNeed(BILLING, 3), SkillNeed(SPANISH, 4, 120))]
    ),
    routing_model=st.sampled_from(list(RoutingModel)),
    capacity_percent=st.sampled_from([None, None, 100]),
)


@settings(max_examples=150, deadline=None)
@given(
    items=st.lists(crowded_item_strategy, max_size=80, unique_by=lambda i: i.id),
    agents=st.lists(rich_agent_strategy, max_size=20, unique_by=lambda a: a.id),
)
def test_plan_matches_the_reference_when_pools_serve_many_items(items, agents) -> None:
    assert_plan_matches_reference(items, agents)
