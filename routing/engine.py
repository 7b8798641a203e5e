"""The routing engine: a pure function from a snapshot of waiting work and agents to offers.

No Django, no clock, no I/O: the shell (``routing.services.rounds``) loads the snapshot
(``routing.selectors.snapshot``), passes the current time in, calls ``plan`` and applies the
result. The same engine runs in tests and,
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
shrinks within a round). Before any of that, an item is skipped outright when no agent of
its queue and channel has room for an item of its size any more, which late in a busy
round is most items. Indexes are built lazily and avoid small per-agent objects where they
can: the fewer objects a plan allocates, the less the garbage collector runs during it.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

_NO_WAIT = timedelta(0)


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
        return max(now - self.enqueued_at, _NO_WAIT)

    def __post_init__(self) -> None:
        # One canonical order, so that items with the same needs share a pool.
        canonical = tuple(sorted(self.skills, key=lambda need: (need.skill_id, need.min_level)))
        object.__setattr__(self, "skills", canonical)

    def skill_needs(self, now: datetime) -> tuple[SkillNeed, ...]:
        """The needs that still count after this wait."""
        for need in self.skills:
            if need.drop_after_seconds is not None:
                break
        else:
            # Nothing optional: the common case needs no clock arithmetic at all.
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


# Shared by every desk until it holds blocking work, rather than an empty set per agent.
_NOTHING_BLOCKED: frozenset[int] = frozenset()


class _Desk:
    """An agent's state as the round changes it."""

    __slots__ = (
        "active",
        "blocked",
        "channel_items",
        "free",
        "id",
        "idle_rank",
        "last_offered",
        "limits",
        "openings",
        "state",
        "version",
    )

    def __init__(self, state: AgentState, blocks: Mapping[int, frozenset[int]]) -> None:
        self.state = state
        self.id = state.id
        self.free = state.free_units
        self.active = state.active_items
        self.channel_items = dict(state.channel_items)
        self.limits = state.channel_limits
        self.idle_rank = _idle_rank(state.idle_since)
        # (offered at all, when, the turn within this round): a round's offers share ``now``.
        self.last_offered = (*_idle_rank(state.last_offered_at), 0)
        self.blocked = _NOTHING_BLOCKED
        for channel_id, held in self.channel_items.items():
            if held > 0 and channel_id in blocks:
                self.blocked = self.blocked | blocks[channel_id]
        # Bumped by every item taken: pool entries made at an older version are stale.
        self.version = 0
        # The openings (see ``_Openings``) this agent is still counted in.
        self.openings: list[_Opening] = []

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
        blocks: Mapping[int, frozenset[int]],
        offered_at: float,
        turn: int,
    ) -> None:
        """Hold one more item; ``turn`` orders the offers of one round, which share a time."""
        self.free -= units
        self.active += 1
        self.channel_items[channel_id] = self.channel_items.get(channel_id, 0) + 1
        if channel_id in blocks:
            self.blocked = self.blocked | blocks[channel_id]
        self.version += 1
        self.last_offered = (1, offered_at, turn)


# A queue, a channel and the size of an item: (queue id, channel id, units, capacity percent).
_Opening = tuple[int, int, int, int | None]


class _Openings:
    """How many agents could still take an item of each opening (queue, channel and size).

    Items whose opening has no agent left are skipped before any skill or pool work; late
    in a busy round that is most of them. Counts are made on first use, and only go down:
    within a round an agent's free room only shrinks.
    """

    __slots__ = ("counts", "lines")

    def __init__(self, lines: Mapping[tuple[int, int], _Candidates]) -> None:
        self.lines = lines
        self.counts: dict[_Opening, int] = {}

    def any_for(self, item: WaitingItem) -> bool:
        opening = (item.queue_id, item.channel_id, item.units, item.capacity_percent)
        count = self.counts.get(opening)
        if count is None:
            count = self.counts[opening] = self._count(opening)
        return count > 0

    def _count(self, opening: _Opening) -> int:
        line = self.lines.get(opening[:2])
        if line is None:
            return 0
        count = 0
        for desk in line.desks:
            if _fits(desk, opening):
                desk.openings.append(opening)
                count += 1
        return count

    def after_take(self, desk: _Desk) -> None:
        """Count the agent out of the openings they no longer fit."""
        still = []
        for opening in desk.openings:
            if _fits(desk, opening):
                still.append(opening)
            else:
                self.counts[opening] -= 1
        desk.openings = still


def _fits(desk: _Desk, opening: _Opening) -> bool:
    _, channel_id, units, percent = opening
    # Every item takes at least one unit (the schema insists), so that is the least room
    # that counts.
    needed = max(_units(units, percent, desk.state.capacity), 1)
    return desk.room_for(channel_id, needed) is None


# A pool's heap holds one entry per agent: (*key, version, desk), the agent's key under the
# pool's routing model (smaller wins), then the desk's version when the key was made, and
# the desk. Every key ends in the agent id, so comparisons never reach the version or desk,
# and one flat tuple per agent keeps the garbage collector's work down.
_Entry = tuple


def _most_available(desk: _Desk) -> _Entry:
    return (-desk.free, desk.idle_rank, desk.id, desk.version, desk)


def _least_active(desk: _Desk) -> _Entry:
    return (desk.active, desk.idle_rank, desk.id, desk.version, desk)


def _longest_idle(desk: _Desk) -> _Entry:
    return (desk.active > 0, desk.idle_rank, desk.id, desk.version, desk)


def _round_robin(desk: _Desk) -> _Entry:
    return (desk.last_offered, desk.id, desk.version, desk)


# Looked up by value, so a plain string names the same model as the enum member.
_ENTRIES: dict[str, Callable[[_Desk], _Entry]] = {
    RoutingModel.MOST_AVAILABLE: _most_available,
    RoutingModel.LEAST_ACTIVE: _least_active,
    RoutingModel.LONGEST_IDLE: _longest_idle,
    RoutingModel.ROUND_ROBIN: _round_robin,
}


def _entry_maker(model: str, needs: tuple[SkillNeed, ...]) -> Callable[[_Desk], _Entry]:
    if model == RoutingModel.BEST_SKILL_MATCH:
        skill_ids = [need.skill_id for need in needs]

        def best_skill_match(desk: _Desk) -> _Entry:
            skills = desk.state.skills
            score = sum(skills.get(skill_id, 0) for skill_id in skill_ids)
            return (-score, -desk.free, desk.idle_rank, desk.id, desk.version, desk)

        return best_skill_match
    entry = _ENTRIES.get(model)
    if entry is None:
        raise ValueError(f"{model!r} is not a routing model")
    return entry


def _has_skills(agent: AgentState, needs: tuple[SkillNeed, ...]) -> bool:
    skills = agent.skills
    return all(skills.get(need.skill_id, 0) >= need.min_level for need in needs)


class _Candidates:
    """The agents of one queue and channel, indexed by skill for quick pool building.

    The order of the agents does not matter: a pool ranks them by a key that ends in the
    agent id, so its choice is the same whatever order they come in.
    """

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
        by_skill = self.by_skill
        # Start from the skill the fewest agents hold, then check the other needs on those.
        first = min(needs, key=lambda need: len(by_skill.get(need.skill_id, _NO_HOLDERS)[0]))
        levels, holders = by_skill.get(first.skill_id, _NO_HOLDERS)
        level_needed = first.min_level
        meeting = [
            desk for level, desk in zip(levels, holders, strict=True) if level >= level_needed
        ]
        if len(needs) == 1:
            return meeting
        others = tuple(need for need in needs if need is not first)
        return [desk for desk in meeting if _has_skills(desk.state, others)]

    def _index(self) -> dict[int, tuple[list[int], list[_Desk]]]:
        """Each skill's holders in this line, and their levels, as two parallel lists.

        Two lists rather than a (level, desk) pair per holder: tens of thousands of small
        tuples would keep the garbage collector busy.
        """
        index: dict[int, tuple[list[int], list[_Desk]]] = {}
        for desk in self.desks:
            for skill_id, level in desk.state.skills.items():
                held = index.get(skill_id)
                if held is None:
                    index[skill_id] = ([level], [desk])
                else:
                    held[0].append(level)
                    held[1].append(desk)
        return index


_NO_HOLDERS: tuple[list[int], list[_Desk]] = ([], [])


class _Pool:
    """Agents statically eligible for one kind of item, best first under its model.

    A pool is made when an item first needs it, from the agents who can take the work then.
    An entry made before its agent took more work is stale; its key can only be too small
    (taking work never makes an agent rank better), so it is refreshed when it reaches the
    top rather than whenever the agent takes work, and dropped if the agent no longer fits.
    """

    __slots__ = ("channel_id", "heap", "make_entry", "percent", "units")

    def __init__(
        self,
        desks: Iterable[_Desk],
        *,
        make_entry: Callable[[_Desk], _Entry],
        channel_id: int,
        units: int,
        percent: int | None,
    ) -> None:
        self.make_entry = make_entry
        self.channel_id = channel_id
        self.units = units
        self.percent = percent
        self.heap = [make_entry(desk) for desk in self.usable_of(desks)]
        heapq.heapify(self.heap)

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
        """The best usable agent not excluded, with their key; agents who no longer fit leave."""
        heap = self.heap
        set_aside = []
        found = None
        while heap:
            top = heap[0]
            desk = top[-1]
            if top[-2] != desk.version:
                # The agent took work since this entry was made: re-rank them, or let them go.
                if self.usable(desk):
                    heapq.heapreplace(heap, self.make_entry(desk))
                else:
                    heapq.heappop(heap)
                continue
            if desk.id in excluded:
                set_aside.append(heapq.heappop(heap))
                continue
            found = (desk, top[:-2])
            break
        for entry in set_aside:
            heapq.heappush(heap, entry)
        return found


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
    lines = _lines(desks.values())
    openings = _Openings(lines)
    pools: dict[tuple, _Pool] = {}
    offered_at = now.timestamp()
    assignments: list[Assignment] = []

    def assign(item: WaitingItem, desk: _Desk, units: int, model: str, key: tuple) -> None:
        desk.take(item.channel_id, units, blocks, offered_at, len(assignments) + 1)
        openings.after_take(desk)
        assignments.append(Assignment(item.id, desk.id, model, key))

    for item in serving_order(items, now):
        # Most items have no preferred agent: spare them the call.
        preferred = item.prefers(now) if item.preferred_agent_id is not None else None
        if preferred is not None and preferred in desks:
            desk = desks[preferred]
            if _statically_eligible(desk.state, item, item.skill_needs(now)):
                units = item.units_for(desk.state.capacity)
                if desk.room_for(item.channel_id, units) is None:
                    assign(item, desk, units, "preferred_agent", (desk.id,))
                # Held for the preferred agent, with or without room right now.
                continue
        if not openings.any_for(item):
            continue
        pool = _pool_for(item, pools, lines, now)
        best = pool.best(item.excluded_agent_ids)
        if best is not None:
            desk, key = best
            assign(item, desk, pool.units_for(desk), str(item.routing_model), key)
    return assignments


def _lines(desks: Iterable[_Desk]) -> dict[tuple[int, int], _Candidates]:
    """(queue, channel) -> the agents with room who serve it."""
    lines: dict[tuple[int, int], _Candidates] = defaultdict(_Candidates)
    for desk in desks:
        if desk.free <= 0:
            continue
        for queue_id in desk.state.queue_ids:
            for channel_id in desk.state.open_channel_ids:
                lines[(queue_id, channel_id)].add(desk)
    return lines


def _pool_for(
    item: WaitingItem,
    pools: dict[tuple, _Pool],
    lines: dict[tuple[int, int], _Candidates],
    now: datetime,
) -> _Pool:
    """The pool of agents for items like this one (same line, needs, units and model),
    made once per round and shared by every such item."""
    needs = item.skill_needs(now)
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
        # The item has an opening, so its queue and channel have a line.
        line = lines[(item.queue_id, item.channel_id)]
        pool = pools[pool_key] = _Pool(
            line.with_skills(needs),
            make_entry=_entry_maker(item.routing_model, needs),
            channel_id=item.channel_id,
            units=item.units,
            percent=item.capacity_percent,
        )
    return pool


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
