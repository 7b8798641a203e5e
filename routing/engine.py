"""The routing engine: a pure function from a snapshot of waiting work and agents to offers.

No Django, no clock, no I/O: the shell (``routing.services``) loads the snapshot, passes the
current time in, calls ``plan`` and applies the result. The same engine runs in tests and,
later, in the simulator, which replays traffic in virtual time.

Serving order: queue routing priority (1 first), then item priority (higher first, raised by
aging once an item has waited long enough), then age (oldest first), then id.

An agent is eligible for an item when:
- their presence accepts the item's channel and they are a member of the item's queue;
- they hold every required skill at its minimum level; an optional requirement stops
  counting once the item has waited its drop-after time (so nobody waits forever for a
  perfect match while a good one is free);
- they have not declined or missed the item before;
- their free capacity units cover the item (a fixed number of units, or a percentage of the
  agent's own capacity), the channel's per-agent concurrency limit is not reached, and no
  item they hold blocks the channel (while on a call, no chat).

Among eligible agents the routing model of the item's queue picks one; every model breaks
ties by the longest idle agent, then the lowest id, so a plan is deterministic. A returning
customer's item waits for the agent who last served them while its preference lasts, as long
as that agent is eligible apart from free room; after that, anyone may take it.

It scales by indexing: items sharing a queue, channel, skill needs, units and model share a
pool of statically eligible agents kept in a heap ordered by the model's key. Keys go stale
as agents take work; a stale entry is refreshed when it reaches the top, and an agent who
can no longer take that pool's work leaves it for the rest of the round (free room only
shrinks within a round).
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class RoutingModel(StrEnum):
    MOST_AVAILABLE = "most_available"
    LEAST_ACTIVE = "least_active"
    LONGEST_IDLE = "longest_idle"
    ROUND_ROBIN = "round_robin"
    BEST_SKILL_MATCH = "best_skill_match"


class WaitReason(StrEnum):
    """Why one agent cannot take a waiting item, in the order they are checked."""

    OFFLINE = "offline"
    NOT_OPEN_FOR_CHANNEL = "not_open_for_channel"
    NOT_A_MEMBER = "not_a_member"
    MISSING_SKILL = "missing_skill"
    DECLINED_OR_MISSED = "declined_or_missed"
    BLOCKED_BY_OTHER_WORK = "blocked_by_other_work"
    CHANNEL_LIMIT = "channel_limit"
    NO_FREE_CAPACITY = "no_free_capacity"


@dataclass(frozen=True, slots=True)
class SkillNeed:
    skill_id: int
    min_level: int
    # An optional need is dropped once the item has waited this long; None means required.
    drop_after_seconds: int | None = None

    def applies(self, waited: timedelta) -> bool:
        return self.drop_after_seconds is None or waited.total_seconds() < self.drop_after_seconds


@dataclass(frozen=True, slots=True)
class WaitingItem:
    id: int
    queue_id: int
    channel_id: int
    routing_priority: int
    priority: int
    enqueued_at: datetime
    units: int
    excluded_agent_ids: frozenset[int] = frozenset()
    skills: tuple[SkillNeed, ...] = ()
    routing_model: RoutingModel = RoutingModel.MOST_AVAILABLE
    # When set, the item takes this share of the agent's capacity instead of ``units``.
    capacity_percent: int | None = None
    # Aging: once the item has waited ``aging_after_seconds``, its priority rises by this.
    aging_after_seconds: int | None = None
    aging_boost: int = 0
    preferred_agent_id: int | None = None
    preferred_until: datetime | None = None

    def effective_priority(self, now: datetime) -> int:
        if self.aging_after_seconds is None or not self.aging_boost:
            return self.priority
        if self.waited(now).total_seconds() >= self.aging_after_seconds:
            return self.priority + self.aging_boost
        return self.priority

    def waited(self, now: datetime) -> timedelta:
        return max(now - self.enqueued_at, timedelta(0))

    def __post_init__(self) -> None:
        # One canonical order, so that items with the same needs share a pool.
        canonical = tuple(sorted(self.skills, key=lambda need: (need.skill_id, need.min_level)))
        object.__setattr__(self, "skills", canonical)

    def skill_needs(self, now: datetime) -> tuple[SkillNeed, ...]:
        """The needs that still count after this wait."""
        if all(need.drop_after_seconds is None for need in self.skills):
            return self.skills
        waited = self.waited(now)
        return tuple(need for need in self.skills if need.applies(waited))

    def units_for(self, capacity: int) -> int:
        return _units(self.units, self.capacity_percent, capacity)

    def prefers(self, now: datetime) -> int | None:
        if self.preferred_agent_id is not None and (
            self.preferred_until is None or now < self.preferred_until
        ):
            return self.preferred_agent_id
        return None


@dataclass(frozen=True, slots=True)
class AgentState:
    id: int
    capacity: int
    used_units: int
    open_channel_ids: frozenset[int]
    queue_ids: frozenset[int]
    idle_since: datetime | None = None
    skills: Mapping[int, int] = field(default_factory=dict)
    active_items: int = 0
    # Items held per channel, and the most the agent may hold per channel (absent: no limit).
    channel_items: Mapping[int, int] = field(default_factory=dict)
    channel_limits: Mapping[int, int] = field(default_factory=dict)
    last_offered_at: datetime | None = None

    @property
    def free_units(self) -> int:
        return max(self.capacity - self.used_units, 0)


@dataclass(frozen=True, slots=True)
class Assignment:
    item_id: int
    agent_id: int
    # Why this agent: the routing model and the agent's key under it (smaller wins).
    model: str = field(default="", compare=False)
    key: tuple = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why an item waits: how many agents each reason excludes, and the missing skills."""

    agents_considered: int
    excluded: dict[str, int]
    missing_skills: dict[tuple[int, int], int]
    eligible_agent_ids: tuple[int, ...]
    waiting_for_preferred_agent: int | None = None


def _units(units: int, percent: int | None, capacity: int) -> int:
    """Units one item takes from an agent: fixed, or a share of the agent's capacity."""
    if percent is None:
        return units
    return max(math.ceil(capacity * percent / 100), 1)


def serving_order(items: Iterable[WaitingItem], now: datetime) -> list[WaitingItem]:
    def order(item: WaitingItem) -> tuple:
        return (item.routing_priority, -item.effective_priority(now), item.enqueued_at, item.id)

    return sorted(items, key=order)


def _idle_rank(idle_since: datetime | None) -> tuple[int, float]:
    # Agents who never worked count as idle the longest.
    return (0, 0.0) if idle_since is None else (1, idle_since.timestamp())


class _Desk:
    """An agent's state as the round changes it."""

    __slots__ = (
        "active",
        "alive_in",
        "blocked",
        "channel_items",
        "free",
        "idle_rank",
        "last_offered",
        "limits",
        "state",
        "version",
    )

    def __init__(self, state: AgentState, blocks: Mapping[int, frozenset[int]]) -> None:
        self.state = state
        self.free = state.free_units
        self.active = state.active_items
        self.channel_items = dict(state.channel_items)
        self.limits = state.channel_limits
        self.idle_rank = _idle_rank(state.idle_since)
        # (offered at all, when, the turn within this round): a round's offers share ``now``.
        self.last_offered = (*_idle_rank(state.last_offered_at), 0)
        self.blocked: set[int] = set()
        for channel_id, held in self.channel_items.items():
            if held > 0:
                self.blocked |= blocks.get(channel_id, frozenset())
        self.version = 0
        self.alive_in: list[tuple[int, int]] = []

    def leave_lines(self, alive: Counter[tuple[int, int]]) -> None:
        """After taking work: count out of the lines this agent can no longer serve."""
        still = []
        for line in self.alive_in:
            if self.room_for(line[1], 1) is None:
                still.append(line)
            else:
                alive[line] -= 1
        self.alive_in = still

    def room_for(self, channel_id: int, units: int) -> WaitReason | None:
        """What keeps this agent from one more item on the channel, or None."""
        if channel_id in self.blocked:
            return WaitReason.BLOCKED_BY_OTHER_WORK
        limit = self.limits.get(channel_id)
        if limit is not None and self.channel_items.get(channel_id, 0) >= limit:
            return WaitReason.CHANNEL_LIMIT
        if self.free < units:
            return WaitReason.NO_FREE_CAPACITY
        return None

    def take(
        self,
        channel_id: int,
        units: int,
        now: datetime,
        blocks: Mapping[int, frozenset[int]],
        turn: int,
    ) -> None:
        """Hold one more item; ``turn`` orders the offers of one round, which share ``now``."""
        self.free -= units
        self.active += 1
        self.channel_items[channel_id] = self.channel_items.get(channel_id, 0) + 1
        self.blocked |= blocks.get(channel_id, frozenset())
        self.version += 1
        self.last_offered = (1, now.timestamp(), turn)


def _model_key(model: RoutingModel, needs: tuple[SkillNeed, ...]) -> Callable[[_Desk], tuple]:
    if model is RoutingModel.LEAST_ACTIVE:
        return lambda desk: (desk.active, desk.idle_rank, desk.state.id)
    if model is RoutingModel.LONGEST_IDLE:
        return lambda desk: (desk.active > 0, desk.idle_rank, desk.state.id)
    if model is RoutingModel.ROUND_ROBIN:
        return lambda desk: (desk.last_offered, desk.state.id)
    if model is RoutingModel.BEST_SKILL_MATCH:

        def best_match(desk: _Desk) -> tuple:
            score = sum(desk.state.skills.get(need.skill_id, 0) for need in needs)
            return (-score, -desk.free, desk.idle_rank, desk.state.id)

        return best_match
    return lambda desk: (-desk.free, desk.idle_rank, desk.state.id)


def _has_skills(agent: AgentState, needs: tuple[SkillNeed, ...]) -> bool:
    skills = agent.skills
    return all(skills.get(need.skill_id, 0) >= need.min_level for need in needs)


class _Candidates:
    """The agents of one queue and channel, indexed by skill level for quick pool building."""

    __slots__ = ("by_skill", "desks")

    def __init__(self) -> None:
        self.desks: list[_Desk] = []
        self.by_skill: dict[int, tuple[list[int], list[_Desk]]] | None = None

    def add(self, desk: _Desk) -> None:
        self.desks.append(desk)

    def with_skills(self, needs: tuple[SkillNeed, ...]) -> list[_Desk]:
        if not needs:
            return self.desks
        if self.by_skill is None:
            self.by_skill = self._index()
        # Start from the need the fewest agents meet, then check the others on those only.
        narrowest: list[_Desk] = []
        narrowest_need = None
        for need in needs:
            levels, desks = self.by_skill.get(need.skill_id, ([], []))
            meeting = desks[: bisect.bisect_right(levels, -need.min_level)]
            if narrowest_need is None or len(meeting) < len(narrowest):
                narrowest, narrowest_need = meeting, need
        others = tuple(need for need in needs if need is not narrowest_need)
        if not others:
            return narrowest
        return [desk for desk in narrowest if _has_skills(desk.state, others)]

    def _index(self) -> dict[int, tuple[list[int], list[_Desk]]]:
        entries: dict[int, list[tuple[int, int, _Desk]]] = defaultdict(list)
        for desk in self.desks:
            for skill_id, level in desk.state.skills.items():
                entries[skill_id].append((-level, desk.state.id, desk))
        index = {}
        for skill_id, rows in entries.items():
            rows.sort(key=_level_then_id)
            index[skill_id] = ([row[0] for row in rows], [row[2] for row in rows])
        return index


def _level_then_id(row: tuple[int, int, _Desk]) -> tuple[int, int]:
    return row[0], row[1]


class _Pool:
    """Agents statically eligible for one kind of item, best first under its model.

    Most pools serve one or two items per round, so the heap is built on the second use;
    the first is a plain scan for the best key.
    """

    __slots__ = ("candidates", "channel_id", "heap", "key", "percent", "scanned", "units")

    def __init__(
        self,
        desks: list[_Desk],
        *,
        key: Callable[[_Desk], tuple],
        channel_id: int,
        units: int,
        percent: int | None,
    ) -> None:
        self.key = key
        self.channel_id = channel_id
        self.units = units
        self.percent = percent
        self.candidates: list[_Desk] | None = desks
        self.scanned = False
        self.heap: list[tuple] = []

    def units_for(self, desk: _Desk) -> int:
        return _units(self.units, self.percent, desk.state.capacity)

    def usable(self, desk: _Desk) -> bool:
        return desk.room_for(self.channel_id, self.units_for(desk)) is None

    def usable_of(self, desks: Iterable[_Desk]) -> list[_Desk]:
        """``usable`` over many agents, inlined: pool building is the engine's hot loop."""
        if self.percent is not None:
            return [desk for desk in desks if self.usable(desk)]
        channel, units = self.channel_id, self.units
        return [
            desk
            for desk in desks
            if desk.free >= units
            and channel not in desk.blocked
            and (
                channel not in desk.limits
                or desk.channel_items.get(channel, 0) < desk.limits[channel]
            )
        ]

    def best(self, excluded: frozenset[int]) -> tuple[_Desk, tuple] | None:
        """The best usable agent not excluded; agents who cannot take this work leave."""
        if self.candidates is not None:
            if not self.scanned:
                self.scanned = True
                return self._scan(excluded)
            self.heap = [
                (self.key(d), d.state.id, d.version, d) for d in self.usable_of(self.candidates)
            ]
            heapq.heapify(self.heap)
            self.candidates = None
        heap = self.heap
        set_aside = []
        found = None
        while heap:
            key, agent_id, version, desk = heap[0]
            if version != desk.version:
                # The agent took work since this entry was made: re-rank them, or let them go.
                heapq.heappop(heap)
                if self.usable(desk):
                    heapq.heappush(heap, (self.key(desk), agent_id, desk.version, desk))
                continue
            if agent_id in excluded:
                set_aside.append(heapq.heappop(heap))
                continue
            found = (desk, key)
            break
        for entry in set_aside:
            heapq.heappush(heap, entry)
        return found

    def _scan(self, excluded: frozenset[int]) -> tuple[_Desk, tuple] | None:
        usable = self.usable_of(self.candidates)
        self.candidates = usable
        best = None
        for desk in usable:
            if desk.state.id in excluded:
                continue
            key = (self.key(desk), desk.state.id)
            if best is None or key < best[1]:
                best = (desk, key)
        return None if best is None else (best[0], best[1][0])

    def refresh(self, desk: _Desk) -> None:
        """Put an agent back at their new place after they took an item from this pool."""
        if self.candidates is None and self.usable(desk):
            heapq.heappush(self.heap, (self.key(desk), desk.state.id, desk.version, desk))


def plan(
    items: Sequence[WaitingItem],
    agents: Sequence[AgentState],
    now: datetime,
    *,
    blocks: Mapping[int, frozenset[int]] | None = None,
) -> list[Assignment]:
    """Offer each waiting item, in serving order, to the best eligible agent.

    ``now`` (given, never read) drives aging, optional skills and preferred agents.
    ``blocks`` maps a channel to the channels an agent holding one of its items may not be
    offered.
    """
    blocks = blocks or {}
    desks = {agent.id: _Desk(agent, blocks) for agent in agents}
    base: dict[tuple[int, int], _Candidates] = defaultdict(_Candidates)
    # Agents of each queue and channel who could still take a one-unit item: once none is
    # left, that line's items are skipped without building pools.
    alive: Counter[tuple[int, int]] = Counter()
    for desk in desks.values():
        if desk.free <= 0:
            continue
        for queue_id in desk.state.queue_ids:
            for channel_id in desk.state.open_channel_ids:
                base[(queue_id, channel_id)].add(desk)
                if desk.room_for(channel_id, 1) is None:
                    alive[(queue_id, channel_id)] += 1
                    desk.alive_in.append((queue_id, channel_id))
    pools: dict[tuple, _Pool] = {}

    assignments: list[Assignment] = []
    for item in serving_order(items, now):
        needs = item.skill_needs(now)
        preferred = item.prefers(now)
        if preferred is not None:
            desk = desks.get(preferred)
            if desk is not None and _statically_eligible(desk.state, item, needs):
                units = item.units_for(desk.state.capacity)
                if desk.room_for(item.channel_id, units) is None:
                    desk.take(item.channel_id, units, now, blocks, len(assignments) + 1)
                    desk.leave_lines(alive)
                    assignments.append(
                        Assignment(item.id, desk.state.id, "preferred_agent", (desk.state.id,))
                    )
                # Held for the preferred agent, with or without room right now.
                continue
        if not alive[(item.queue_id, item.channel_id)]:
            continue
        pool_key = (
            item.queue_id,
            item.channel_id,
            needs,
            item.units,
            item.capacity_percent,
            item.routing_model,
        )
        pool = pools.get(pool_key)
        if pool is None:
            candidates = base.get((item.queue_id, item.channel_id))
            pool = pools[pool_key] = _Pool(
                candidates.with_skills(needs) if candidates is not None else (),
                key=_model_key(RoutingModel(item.routing_model), needs),
                channel_id=item.channel_id,
                units=item.units,
                percent=item.capacity_percent,
            )
        best = pool.best(item.excluded_agent_ids)
        if best is None:
            continue
        desk, key = best
        desk.take(item.channel_id, pool.units_for(desk), now, blocks, len(assignments) + 1)
        desk.leave_lines(alive)
        pool.refresh(desk)
        assignments.append(Assignment(item.id, desk.state.id, str(item.routing_model), key))
    return assignments


def _statically_eligible(
    agent: AgentState, item: WaitingItem, needs: tuple[SkillNeed, ...]
) -> bool:
    return (
        item.channel_id in agent.open_channel_ids
        and item.queue_id in agent.queue_ids
        and agent.id not in item.excluded_agent_ids
        and _has_skills(agent, needs)
    )


def explain(
    item: WaitingItem,
    agents: Sequence[AgentState],
    now: datetime,
    *,
    blocks: Mapping[int, frozenset[int]] | None = None,
) -> Explanation:
    """Why an item waits: each agent counted once, under the first reason that excludes them.

    Agents left over are eligible right now; the item then waits only for its turn (items
    ahead of it in serving order) or, while its preference lasts, for its preferred agent.
    """
    blocks = blocks or {}
    needs = item.skill_needs(now)
    excluded: Counter[str] = Counter()
    missing: Counter[tuple[int, int]] = Counter()
    eligible = []
    for agent in agents:
        reason = _first_obstacle(agent, item, needs, blocks)
        if reason is None:
            eligible.append(agent.id)
            continue
        excluded[reason] += 1
        if reason is WaitReason.MISSING_SKILL:
            need = next(n for n in needs if agent.skills.get(n.skill_id, 0) < n.min_level)
            missing[(need.skill_id, need.min_level)] += 1
    preferred = item.prefers(now)
    preferred_agent = next((a for a in agents if a.id == preferred), None)
    waiting_for = (
        preferred
        if preferred_agent is not None and _statically_eligible(preferred_agent, item, needs)
        else None
    )
    return Explanation(
        agents_considered=len(agents),
        excluded={str(reason): count for reason, count in excluded.items()},
        missing_skills=dict(missing),
        eligible_agent_ids=tuple(sorted(eligible)),
        waiting_for_preferred_agent=waiting_for,
    )


def _first_obstacle(
    agent: AgentState,
    item: WaitingItem,
    needs: tuple[SkillNeed, ...],
    blocks: Mapping[int, frozenset[int]],
) -> WaitReason | None:
    if not agent.open_channel_ids:
        return WaitReason.OFFLINE
    if item.channel_id not in agent.open_channel_ids:
        return WaitReason.NOT_OPEN_FOR_CHANNEL
    if item.queue_id not in agent.queue_ids:
        return WaitReason.NOT_A_MEMBER
    if not _has_skills(agent, needs):
        return WaitReason.MISSING_SKILL
    if agent.id in item.excluded_agent_ids:
        return WaitReason.DECLINED_OR_MISSED
    return _Desk(agent, blocks).room_for(item.channel_id, item.units_for(agent.capacity))
