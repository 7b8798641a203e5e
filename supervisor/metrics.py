"""How the contact center's figures are defined: pure functions over stored facts.

Every figure is counted when its event happened (the interval a contact entered a queue, was
answered, abandoned, moved on or finished), so a finished interval's figures do not change
(see the limits below) and can be summed: the live dashboard reads today's from the rollups,
and a report over any past day recomputes the same numbers from the stored work items,
moves, offers and status history (``supervisor.history`` reads them).

Definitions, per queue (and per channel, by the work item's channel):

- **offered**: contacts that entered the queue (at enqueue, or when moved into it).
- **handled**: contacts answered from the queue (an agent accepted them).
- **abandoned**: the customer left before an answer. **expired**: the queue's maximum wait
  ended the contact. **moved out**: overflow or a supervisor moved it to another queue.
- **average speed of answer (ASA)**: the mean wait of handled contacts, from entering this
  queue to the answer.
- **average handle time (AHT)**: from the answer to the end of work, after-contact work
  (wrap-up) included, counted when the work ended.
- **service level**: answered within the queue's service-level time, out of every contact
  whose outcome is known and not a short abandon: answered, abandoned after the time, expired,
  or moved out after the time; the live dashboard also counts contacts still waiting past
  the time, since they can no longer be answered within it.
- **occupancy**: time holding work (wrap-up included; overlapping chats count once) out of
  the time staffed: open for work (a status that accepts some channel) or holding work. A
  break, the "Missed offer" status and offline are not staffed, unless work is still held.
  Per queue (per channel): the time its work was held, out of the staffed time of the agents
  who held it in that interval; an agent who works several queues counts whole in each, so a
  queue's occupancy over a day depends on the interval it is cut into (an agent counts for
  the whole of each interval in which they held its work).

Limits: a queue's service level uses its service-level time as it is when counted, so a
rollup keeps the time of its day; whether a status takes work is read from its channels
today. A rollup is written a minute after its interval ends; an event committed later than
that with an earlier time (none is, in practice) would reach reports but not today's rollups.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

# Outcomes of one stay in one queue.
ANSWERED, ABANDONED, EXPIRED = "answered", "abandoned", "expired"
MOVED, WAITING = "moved", "waiting"


@dataclass(frozen=True)
class Move:
    from_queue_id: int
    to_queue_id: int
    moved_at: datetime


@dataclass(frozen=True)
class ItemFacts:
    """What the figures need of one work item."""

    work_item_id: int
    queue_id: int  # where it is (or ended) now
    channel: str
    status: str  # routing.models.WorkItem.Status value
    enqueued_at: datetime
    accepted_at: datetime | None = None
    closed_at: datetime | None = None
    wrap_up_until: datetime | None = None
    agent_id: int | None = None
    moves: tuple[Move, ...] = ()

    @property
    def work_ended_at(self) -> datetime | None:
        """When the agent's work on it ended, after-contact work included."""
        if self.accepted_at is None or self.closed_at is None:
            return None
        return max(self.closed_at, self.wrap_up_until or self.closed_at)


@dataclass(frozen=True)
class Visit:
    """One stay of a contact in one queue."""

    queue_id: int
    entered_at: datetime
    outcome: str
    outcome_at: datetime | None  # None while waiting

    @property
    def wait_seconds(self) -> float | None:
        if self.outcome_at is None:
            return None
        return (self.outcome_at - self.entered_at).total_seconds()


def visits(item: ItemFacts) -> list[Visit]:
    """The item's stays in queues, in order: moves end one stay and start the next."""
    moves = sorted(item.moves, key=lambda move: move.moved_at)
    queue_id = moves[0].from_queue_id if moves else item.queue_id
    entered_at = item.enqueued_at
    stays = []
    for move in moves:
        stays.append(Visit(queue_id, entered_at, MOVED, move.moved_at))
        queue_id, entered_at = move.to_queue_id, move.moved_at
    if item.accepted_at is not None:
        last = Visit(queue_id, entered_at, ANSWERED, item.accepted_at)
    elif item.status == "expired":
        last = Visit(queue_id, entered_at, EXPIRED, item.closed_at)
    elif item.closed_at is not None:
        # Ended before anyone answered: the customer left (or the item was withdrawn).
        last = Visit(queue_id, entered_at, ABANDONED, item.closed_at)
    else:
        last = Visit(queue_id, entered_at, WAITING, None)
    stays.append(last)
    return stays


@dataclass
class QueueCounters:
    """Additive counts for one queue and channel over one interval."""

    offered: int = 0
    handled: int = 0
    answered_in_sl: int = 0
    sl_counted: int = 0
    abandoned: int = 0
    expired: int = 0
    moved_out: int = 0
    wait_seconds: float = 0.0  # of handled contacts
    handle_ended: int = 0
    handle_seconds: float = 0.0
    bot_resolved: int = 0

    def add(self, other: QueueCounters) -> None:
        for name in COUNTER_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def average_speed_of_answer(self) -> float | None:
        return self.wait_seconds / self.handled if self.handled else None

    @property
    def average_handle_time(self) -> float | None:
        return self.handle_seconds / self.handle_ended if self.handle_ended else None

    @property
    def service_level(self) -> float | None:
        """Share answered within the time (0..1); None when nothing was decided yet."""
        return self.answered_in_sl / self.sl_counted if self.sl_counted else None


COUNTER_FIELDS = tuple(f.name for f in fields(QueueCounters))


@dataclass
class AgentCounters:
    handled: int = 0
    handle_ended: int = 0
    handle_seconds: float = 0.0
    accepted: int = 0
    declined: int = 0
    missed: int = 0

    def add(self, other: AgentCounters) -> None:
        for name in AGENT_COUNTER_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def average_handle_time(self) -> float | None:
        return self.handle_seconds / self.handle_ended if self.handle_ended else None


AGENT_COUNTER_FIELDS = tuple(f.name for f in fields(AgentCounters))


@dataclass(frozen=True)
class OfferFacts:
    agent_id: int
    outcome: str  # routing.models.Offer.Outcome value
    responded_at: datetime | None


@dataclass(frozen=True)
class BotResolution:
    channel: str
    ended_at: datetime


QueueKey = tuple[int, str]  # (queue id, channel kind)


@dataclass
class Tally:
    """Counters per interval start: per (queue, channel), and per agent."""

    queues: dict[datetime, dict[QueueKey, QueueCounters]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(QueueCounters))
    )
    agents: dict[datetime, dict[int, AgentCounters]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(AgentCounters))
    )
    # Bot resolutions have no queue: kept per channel.
    bot_resolved: dict[datetime, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )


class Intervals:
    """Consecutive intervals of ``step`` from ``start`` to ``end`` (the last may be short)."""

    def __init__(self, start: datetime, end: datetime, step: timedelta) -> None:
        if step <= timedelta(0):
            raise ValueError("step must be positive")
        self.start, self.end, self.step = start, end, step

    def bucket(self, moment: datetime | None) -> datetime | None:
        if moment is None or not self.start <= moment < self.end:
            return None
        return self.start + self.step * ((moment - self.start) // self.step)

    def split(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, float]]:
        """The seconds of [start, end) that fall in each interval it overlaps."""
        start, end = max(start, self.start), min(end, self.end)
        if start >= end:
            return
        begin = self.start + self.step * ((start - self.start) // self.step)
        while begin < end:
            seconds = _overlap(start, end, begin, min(begin + self.step, self.end))
            if seconds:
                yield begin, seconds
            begin += self.step

    def __iter__(self) -> Iterator[tuple[datetime, datetime]]:
        begin = self.start
        while begin < self.end:
            yield begin, min(begin + self.step, self.end)
            begin += self.step


def tally(
    items: Iterable[ItemFacts],
    offers: Iterable[OfferFacts],
    bot_resolutions: Iterable[BotResolution],
    *,
    service_level_seconds: Mapping[int, int],
    intervals: Intervals,
) -> Tally:
    """Count every event that happened inside ``intervals`` into its interval."""
    result = Tally()
    for item in items:
        stays = visits(item)
        for visit in stays:
            _count_visit(result, item, visit, service_level_seconds, intervals)
        _count_handle_time(result, item, stays, intervals)
    for offer in offers:
        responded = intervals.bucket(offer.responded_at)
        if responded is None:
            continue
        agent = result.agents[responded][offer.agent_id]
        if offer.outcome == "accepted":
            agent.accepted += 1
        elif offer.outcome == "declined":
            agent.declined += 1
        elif offer.outcome == "timed_out":
            agent.missed += 1
    for resolution in bot_resolutions:
        ended = intervals.bucket(resolution.ended_at)
        if ended is not None:
            result.bot_resolved[ended][resolution.channel] += 1
    return result


def _count_visit(
    result: Tally,
    item: ItemFacts,
    visit: Visit,
    service_level_seconds: Mapping[int, int],
    intervals: Intervals,
) -> None:
    """A stay in a queue: offered when it entered, its outcome when it ended."""
    key = (visit.queue_id, item.channel)
    entered = intervals.bucket(visit.entered_at)
    if entered is not None:
        result.queues[entered][key].offered += 1
    ended = intervals.bucket(visit.outcome_at)
    if ended is None:
        return
    row = result.queues[ended][key]
    within = visit.wait_seconds <= service_level_seconds.get(visit.queue_id, 0)
    if visit.outcome == ANSWERED:
        row.handled += 1
        row.wait_seconds += visit.wait_seconds
        row.sl_counted += 1
        row.answered_in_sl += within
        if item.agent_id is not None:
            result.agents[ended][item.agent_id].handled += 1
    elif visit.outcome == ABANDONED:
        row.abandoned += 1
        row.sl_counted += not within
    elif visit.outcome == EXPIRED:
        row.expired += 1
        row.sl_counted += 1
    elif visit.outcome == MOVED:
        row.moved_out += 1
        row.sl_counted += not within


def _count_handle_time(
    result: Tally, item: ItemFacts, stays: list[Visit], intervals: Intervals
) -> None:
    """Handle time counts when the work ended (wrap-up included), in the queue that
    answered it."""
    work_ended = item.work_ended_at
    finished = intervals.bucket(work_ended)
    if finished is None:
        return
    handle = (work_ended - item.accepted_at).total_seconds()
    row = result.queues[finished][(stays[-1].queue_id, item.channel)]
    row.handle_ended += 1
    row.handle_seconds += handle
    if item.agent_id is not None:
        agent = result.agents[finished][item.agent_id]
        agent.handle_ended += 1
        agent.handle_seconds += handle


# --- time in status and occupancy -----------------------------------------------------------------


@dataclass(frozen=True)
class Presence:
    """A status as the figures see it: its name, and whether it takes work (accepts some
    channel). Offline, a break or "Missed offer" take none."""

    name: str
    open_for_work: bool = False


OFFLINE = "Offline"
SIGNED_OUT = Presence(OFFLINE)


@dataclass(frozen=True)
class StatusSpan:
    """An agent's presence from ``start`` to ``end``."""

    agent_id: int
    presence: Presence
    start: datetime
    end: datetime


def status_spans(
    changes: Iterable[tuple[int, Presence, datetime]],
    status_at_start: Mapping[int, Presence],
    *,
    start: datetime,
    end: datetime,
) -> list[StatusSpan]:
    """Each agent's statuses over [start, end), from their status at ``start`` and the changes
    (agent id, new presence, when) inside it."""
    by_agent: dict[int, list[tuple[datetime, Presence]]] = defaultdict(list)
    for agent_id, presence, changed_at in changes:
        if start <= changed_at < end:
            by_agent[agent_id].append((changed_at, presence))
    spans = []
    for agent_id in set(status_at_start) | set(by_agent):
        current, since = status_at_start.get(agent_id, SIGNED_OUT), start
        for changed_at, presence in sorted(by_agent[agent_id], key=lambda change: change[0]):
            if changed_at > since:
                spans.append(StatusSpan(agent_id, current, since, changed_at))
            current, since = presence, changed_at
        if end > since:
            spans.append(StatusSpan(agent_id, current, since, end))
    return spans


def _overlap(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> float:
    return max(0.0, (min(a_end, b_end) - max(a_start, b_start)).total_seconds())


def _union(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for begin, end in sorted(spans):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


@dataclass
class TimeUse:
    """Seconds per interval start, per agent: in each status, open for work, staffed (open for
    work or holding work), and busy (holding work; also per queue and per channel)."""

    in_status: dict[datetime, dict[int, dict[str, float]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(lambda: defaultdict(float)))
    )
    open_for_work: dict[datetime, dict[int, float]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(float))
    )
    staffed: dict[datetime, dict[int, float]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(float))
    )
    busy: dict[datetime, dict[int, float]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(float))
    )
    busy_by_queue: dict[datetime, dict[int, float]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(float))
    )
    busy_by_channel: dict[datetime, dict[str, float]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(float))
    )
    # Who held each queue's (each channel's) work in the interval: their staffed time is the
    # queue's (the channel's).
    workers_by_queue: dict[datetime, dict[int, set[int]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )
    workers_by_channel: dict[datetime, dict[str, set[int]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set))
    )


def time_use(
    spans: Iterable[StatusSpan],
    items: Iterable[ItemFacts],
    *,
    intervals: Intervals,
    now: datetime,
) -> TimeUse:
    """Split status time and busy time (the union of held work, so three chats at once count
    once) over the intervals; work still held counts up to ``now``. Staffed time is the union
    of time open for work and time holding work: finishing a chat after going on a break is
    staffed, the rest of the break is not."""
    use = TimeUse()
    open_spans: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for span in spans:
        for begin, seconds in intervals.split(span.start, span.end):
            use.in_status[begin][span.agent_id][span.presence.name] += seconds
            if span.presence.open_for_work:
                use.open_for_work[begin][span.agent_id] += seconds
        if span.presence.open_for_work:
            open_spans[span.agent_id].append((span.start, span.end))
    held: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    held_by_queue: dict[tuple[int, int], list[tuple[datetime, datetime]]] = defaultdict(list)
    held_by_channel: dict[tuple[int, str], list[tuple[datetime, datetime]]] = defaultdict(list)
    for item in items:
        if item.accepted_at is None or item.agent_id is None:
            continue
        # A wrap-up that ends after ``now`` is still held: it counts up to ``now`` too.
        work = (item.accepted_at, min(item.work_ended_at or now, now))
        held[item.agent_id].append(work)
        held_by_queue[(item.agent_id, visits(item)[-1].queue_id)].append(work)
        held_by_channel[(item.agent_id, item.channel)].append(work)
    for agent_id in set(held) | set(open_spans):
        _add_spans(use.staffed, agent_id, held[agent_id] + open_spans[agent_id], intervals)
    for agent_id, work_spans in held.items():
        _add_spans(use.busy, agent_id, work_spans, intervals)
    for (agent_id, queue_id), work_spans in held_by_queue.items():
        for begin in _add_spans(use.busy_by_queue, queue_id, work_spans, intervals):
            use.workers_by_queue[begin][queue_id].add(agent_id)
    for (agent_id, channel), work_spans in held_by_channel.items():
        for begin in _add_spans(use.busy_by_channel, channel, work_spans, intervals):
            use.workers_by_channel[begin][channel].add(agent_id)
    return use


def _add_spans(
    target: dict[datetime, dict[Any, float]],
    key: Any,
    spans: list[tuple[datetime, datetime]],
    intervals: Intervals,
) -> set[datetime]:
    """Add the seconds of the union of one agent's spans to ``key`` in each interval; returns
    the intervals they fell in."""
    touched = set()
    for start, end in _union(spans):
        for begin, seconds in intervals.split(start, end):
            target[begin][key] += seconds
            touched.add(begin)
    return touched


# --- rollups --------------------------------------------------------------------------------------


def tally_to_json(result: Tally, begin: datetime) -> dict[str, Any]:
    """One interval of a tally as JSON for an ``IntervalRollup``."""
    return {
        "queues": {
            f"{queue_id}|{channel}": asdict(counters)
            for (queue_id, channel), counters in result.queues.get(begin, {}).items()
        },
        "agents": {
            str(agent_id): asdict(counters)
            for agent_id, counters in result.agents.get(begin, {}).items()
        },
        "bot_resolved": dict(result.bot_resolved.get(begin, {})),
    }


@dataclass
class Totals:
    """Counters summed over several intervals."""

    queues: dict[QueueKey, QueueCounters] = field(
        default_factory=lambda: defaultdict(QueueCounters)
    )
    agents: dict[int, AgentCounters] = field(default_factory=lambda: defaultdict(AgentCounters))
    bot_resolved: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add_json(self, figures: Mapping[str, Any]) -> None:
        for key, values in figures.get("queues", {}).items():
            queue_id, channel = key.split("|", 1)
            self.queues[(int(queue_id), channel)].add(QueueCounters(**values))
        for agent_id, values in figures.get("agents", {}).items():
            self.agents[int(agent_id)].add(AgentCounters(**values))
        for channel, count in figures.get("bot_resolved", {}).items():
            self.bot_resolved[channel] += count

    def add_tally(self, result: Tally) -> None:
        for per_key in result.queues.values():
            for key, counters in per_key.items():
                self.queues[key].add(counters)
        for per_agent in result.agents.values():
            for agent_id, counters in per_agent.items():
                self.agents[agent_id].add(counters)
        for per_channel in result.bot_resolved.values():
            for channel, count in per_channel.items():
                self.bot_resolved[channel] += count

    def to_json(self) -> dict[str, Any]:
        """The same shape as ``tally_to_json``, so that ``add_json`` reads it back."""
        return {
            "queues": {
                f"{queue_id}|{channel}": asdict(counters)
                for (queue_id, channel), counters in self.queues.items()
            },
            "agents": {
                str(agent_id): asdict(counters) for agent_id, counters in self.agents.items()
            },
            "bot_resolved": dict(self.bot_resolved),
        }

    def per_queue(self) -> dict[int, QueueCounters]:
        merged: dict[int, QueueCounters] = defaultdict(QueueCounters)
        for (queue_id, _channel), counters in self.queues.items():
            merged[queue_id].add(counters)
        return merged
