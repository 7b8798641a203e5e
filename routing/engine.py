"""The routing engine: a pure function from a snapshot of waiting work and agents to offers.

No Django, no clock, no I/O: the shell (``routing.services``) loads the snapshot, calls
``plan`` and applies the result. The same engine runs in tests and, later, in the simulator.

Rules of this first cut:
- items are served by queue routing priority (1 first), then item priority (higher first),
  then age (oldest first), then id;
- an agent is eligible when their presence accepts the item's channel, they are a member of
  the item's queue, they have not declined or missed the item before, and their free
  capacity units cover the item's units;
- among eligible agents the one with the most free units wins (spreads load), ties going to
  the agent idle the longest, then the lowest id, so a plan is deterministic.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime


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


@dataclass(frozen=True, slots=True)
class AgentState:
    id: int
    capacity: int
    used_units: int
    open_channel_ids: frozenset[int]
    queue_ids: frozenset[int]
    idle_since: datetime | None = None

    @property
    def free_units(self) -> int:
        return max(self.capacity - self.used_units, 0)


@dataclass(frozen=True, slots=True)
class Assignment:
    item_id: int
    agent_id: int


def serving_order(items: Iterable[WaitingItem]) -> list[WaitingItem]:
    return sorted(
        items, key=lambda item: (item.routing_priority, -item.priority, item.enqueued_at, item.id)
    )


def _preference_key(agent: AgentState, free_units: int) -> tuple:
    # Agents who never worked count as idle the longest.
    idle_rank = (0, 0) if agent.idle_since is None else (1, agent.idle_since.timestamp())
    return (-free_units, idle_rank, agent.id)


def plan(items: Sequence[WaitingItem], agents: Sequence[AgentState]) -> list[Assignment]:
    """Offer each waiting item, in serving order, to the best eligible agent."""
    pools: dict[tuple[int, int], list[AgentState]] = defaultdict(list)
    for agent in agents:
        if agent.free_units <= 0:
            continue
        for queue_id in agent.queue_ids:
            for channel_id in agent.open_channel_ids:
                pools[(queue_id, channel_id)].append(agent)
    free_units = {agent.id: agent.free_units for agent in agents}

    assignments: list[Assignment] = []
    for item in serving_order(items):
        best: AgentState | None = None
        best_key: tuple | None = None
        for agent in pools.get((item.queue_id, item.channel_id), ()):
            free = free_units[agent.id]
            if free < item.units or agent.id in item.excluded_agent_ids:
                continue
            key = _preference_key(agent, free)
            if best_key is None or key < best_key:
                best, best_key = agent, key
        if best is not None:
            free_units[best.id] -= item.units
            assignments.append(Assignment(item_id=item.id, agent_id=best.id))
    return assignments
