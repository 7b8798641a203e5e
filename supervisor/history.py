"""Reading the stored work, moves, offers and status history for the figures in
``supervisor.metrics``: reports over any period, today's totals for the live dashboard, and
the rollups of finished intervals that keep those totals O(intervals)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from contactcenter.crm.models import Interaction
from routing.models import (
    Agent,
    AgentStatusChange,
    Offer,
    PresenceStatus,
    Queue,
    WorkItem,
    WorkItemMove,
)
from routing.selectors.snapshot import ACTIVE_STATUSES
from supervisor import metrics
from supervisor.formatting import rounded
from supervisor.models import IntervalRollup

# Rollups cover this much each; reports offer it as their finest interval.
ROLLUP_STEP = timedelta(minutes=15)
# A rollup is written only this long after its interval ended, so that a transaction that
# stamped its time inside the interval has committed by then.
ROLLUP_GRACE = timedelta(seconds=60)
ID_BATCH = 10_000
# Reports look this far back for work answered before the period and still held in it.
LONGEST_HOLD = timedelta(days=1)


def day_start(moment: datetime) -> datetime:
    """Local midnight of ``moment``'s day (settings.TIME_ZONE)."""
    local = timezone.localtime(moment)
    # In UTC, so that adding intervals counts real time across a clock change.
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def item_facts(
    start: datetime, end: datetime, *, with_held: bool = False
) -> list[metrics.ItemFacts]:
    """Work items with an event in [start, end); ``with_held`` adds those held throughout
    (answered before, still worked on), which occupancy needs. Each condition reads an index
    on its column, so the cost follows the period's activity, not the whole history."""
    # Ids, not a subquery: PostgreSQL cannot combine a subquery inside an OR with the other
    # conditions' indexes, and would scan every work item.
    moved = list(
        WorkItemMove.objects.filter(moved_at__gte=start, moved_at__lt=end).values_list(
            "work_item_id", flat=True
        )
    )
    events = (
        Q(enqueued_at__gte=start, enqueued_at__lt=end)
        | Q(accepted_at__gte=start, accepted_at__lt=end)
        | Q(closed_at__gte=start, closed_at__lt=end)
        | Q(status=WorkItem.Status.CLOSED, wrap_up_until__gte=start, wrap_up_until__lt=end)
        | Q(pk__in=moved)
    )
    if with_held:
        events |= Q(status__in=ACTIVE_STATUSES, accepted_at__lt=start) | Q(
            accepted_at__gte=start - LONGEST_HOLD, accepted_at__lt=start
        )
    rows = list(
        WorkItem.objects.filter(events)
        .order_by()
        .values(
            "pk",
            "queue_id",
            "channel__kind",
            "status",
            "enqueued_at",
            "accepted_at",
            "closed_at",
            "wrap_up_until",
            "agent_id",
        )
    )
    moves = _moves_of([row["pk"] for row in rows])
    return [
        metrics.ItemFacts(
            work_item_id=row["pk"],
            queue_id=row["queue_id"],
            channel=row["channel__kind"],
            status=row["status"],
            enqueued_at=row["enqueued_at"],
            accepted_at=row["accepted_at"],
            closed_at=row["closed_at"],
            wrap_up_until=row["wrap_up_until"],
            agent_id=row["agent_id"],
            moves=tuple(moves.get(row["pk"], ())),
        )
        for row in rows
    ]


def _moves_of(ids: list[int]) -> dict[int, list[metrics.Move]]:
    """Work item -> its moves between queues."""
    moves: dict[int, list[metrics.Move]] = defaultdict(list)
    # In batches: SQLite caps the parameters of one statement.
    for offset in range(0, len(ids), ID_BATCH):
        for work_item_id, from_queue_id, to_queue_id, moved_at in WorkItemMove.objects.filter(
            work_item_id__in=ids[offset : offset + ID_BATCH]
        ).values_list("work_item_id", "from_queue_id", "to_queue_id", "moved_at"):
            moves[work_item_id].append(metrics.Move(from_queue_id, to_queue_id, moved_at))
    return moves


def offer_facts(start: datetime, end: datetime) -> list[metrics.OfferFacts]:
    return [
        metrics.OfferFacts(agent_id, outcome, responded_at)
        for agent_id, outcome, responded_at in Offer.objects.filter(
            responded_at__gte=start, responded_at__lt=end
        )
        .order_by()
        .values_list("agent_id", "outcome", "responded_at")
    ]


def bot_resolutions(start: datetime, end: datetime) -> list[metrics.BotResolution]:
    return [
        metrics.BotResolution(channel, ended_at)
        for channel, ended_at in Interaction.objects.filter(
            bot_status=Interaction.BotStatus.RESOLVED, ended_at__gte=start, ended_at__lt=end
        )
        .order_by()
        .values_list("channel", "ended_at")
    ]


def service_level_seconds() -> dict[int, int]:
    return dict(Queue.objects.values_list("pk", "service_level_seconds"))


def tally_between(start: datetime, end: datetime, step: timedelta) -> metrics.Tally:
    return metrics.tally(
        item_facts(start, end),
        offer_facts(start, end),
        bot_resolutions(start, end),
        service_level_seconds=service_level_seconds(),
        intervals=metrics.Intervals(start, end, step),
    )


def status_spans(start: datetime, end: datetime) -> list[metrics.StatusSpan]:
    """Every agent's statuses over [start, end) from the status history. Before an agent's
    first recorded change their status is the one that change left; with no change at all,
    their current one."""
    last_before = AgentStatusChange.objects.filter(
        agent=OuterRef("pk"), changed_at__lt=start
    ).order_by("-changed_at", "-id")
    first_in = AgentStatusChange.objects.filter(
        agent=OuterRef("pk"), changed_at__gte=start
    ).order_by("changed_at", "id")
    agents = Agent.objects.annotate(
        before_status=Subquery(last_before.values("to_status_id")[:1]),
        before_name=Subquery(last_before.values("to_name")[:1]),
        first_from_status=Subquery(first_in.values("from_status_id")[:1]),
        first_from_name=Subquery(first_in.values("from_name")[:1]),
        any_before=Subquery(last_before.values("pk")[:1]),
        any_after=Subquery(first_in.values("pk")[:1]),
    ).values(
        "pk",
        "status_id",
        "status__name",
        "before_status",
        "before_name",
        "first_from_status",
        "first_from_name",
        "any_before",
        "any_after",
    )
    # Whether a status takes work is read from its channels today (a status deleted since
    # takes none); its name comes from the history, as it was then.
    open_ids = set(
        PresenceStatus.objects.filter(channels__isnull=False).values_list("pk", flat=True)
    )

    def presence(status_id: int | None, name: str | None) -> metrics.Presence:
        if status_id is None and not name:
            return metrics.SIGNED_OUT
        return metrics.Presence(name or metrics.OFFLINE, status_id in open_ids)

    at_start: dict[int, metrics.Presence] = {}
    for agent in agents:
        if agent["any_before"] is not None:
            at_start[agent["pk"]] = presence(agent["before_status"], agent["before_name"])
        elif agent["any_after"] is not None:
            at_start[agent["pk"]] = presence(agent["first_from_status"], agent["first_from_name"])
        else:
            at_start[agent["pk"]] = presence(agent["status_id"], agent["status__name"])
    changes = [
        (agent_id, presence(to_status, to_name), when)
        for agent_id, to_status, to_name, when in AgentStatusChange.objects.filter(
            changed_at__gte=start, changed_at__lt=end
        )
        .order_by()
        .values_list("agent_id", "to_status_id", "to_name", "changed_at")
    ]
    return metrics.status_spans(changes, at_start, start=start, end=end)


# --- rollups and today's totals --------------------------------------------------------------


def rollup_finished_intervals(now: datetime | None = None) -> int:
    """Store the figures of today's finished intervals that have none yet, each with the
    day's totals up to its end; returns how many were written. Safe to run from several
    processes at once (a rollup is unique by its start, and any two compute the same)."""
    now = now or timezone.now()
    today = day_start(now)
    last = (
        IntervalRollup.objects.filter(start__gte=today)
        .order_by("-start")
        .values("end", "day_totals")
        .first()
    )
    start = last["end"] if last else today
    finished_until = today + ROLLUP_STEP * ((now - ROLLUP_GRACE - today) // ROLLUP_STEP)
    if finished_until <= start:
        return 0
    result = tally_between(start, finished_until, ROLLUP_STEP)
    day_so_far = metrics.Totals()
    if last:
        day_so_far.add_json(last["day_totals"])
    rollups = []
    for begin, end in metrics.Intervals(start, finished_until, ROLLUP_STEP):
        figures = metrics.tally_to_json(result, begin)
        day_so_far.add_json(figures)
        rollups.append(
            IntervalRollup(
                start=begin,
                end=end,
                figures=figures,
                day_totals=day_so_far.to_json(),
                computed_at=now,
            )
        )
    IntervalRollup.objects.bulk_create(rollups, ignore_conflicts=True)
    # Another process may have written some of them first.
    return IntervalRollup.objects.filter(
        start__in=[rollup.start for rollup in rollups], computed_at=now
    ).count()


def today_totals(now: datetime) -> metrics.Totals:
    """Today's counters: the day's totals kept with the last finished interval's rollup (one
    row, however late in the day), then the rest counted from the stored rows (a quarter of
    an hour when the rollups keep up)."""
    today = day_start(now)
    totals = metrics.Totals()
    covered = today
    latest = (
        IntervalRollup.objects.filter(start__gte=today, end__lte=now)
        .order_by("-end")
        .values_list("end", "day_totals")
        .first()
    )
    if latest is not None:
        covered, day_totals = latest
        totals.add_json(day_totals)
    if covered < now:
        totals.add_tally(tally_between(covered, now, now - covered))
    return totals


# --- reports ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    step: timedelta


def ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def queue_figures(counters: metrics.QueueCounters) -> dict[str, Any]:
    return {
        "offered": counters.offered,
        "handled": counters.handled,
        "abandoned": counters.abandoned,
        "expired": counters.expired,
        "moved_out": counters.moved_out,
        "answered_in_sl": counters.answered_in_sl,
        "sl_counted": counters.sl_counted,
        # The sums behind the averages, so that several intervals' figures can be added up.
        "wait_seconds": round(counters.wait_seconds, 3),
        "handle_ended": counters.handle_ended,
        "handle_seconds": round(counters.handle_seconds, 3),
        "average_speed_of_answer": rounded(counters.average_speed_of_answer, 1),
        "average_handle_time": rounded(counters.average_handle_time, 1),
        "service_level": rounded(counters.service_level, 4),
    }


def report(period: Period, *, now: datetime | None = None) -> dict[str, Any]:
    """The interval report over ``period``: per interval, per queue and per channel; and per
    agent over the whole period. Recomputed from the stored rows every time."""
    now = now or timezone.now()
    end = min(period.end, max(now, period.start))
    intervals = metrics.Intervals(period.start, period.end, period.step)
    # Only what happened by ``now`` counts: a wrap-up that ends later has not ended yet.
    so_far = metrics.Intervals(period.start, end, period.step)
    items = item_facts(period.start, end, with_held=True)
    result = metrics.tally(
        items,
        offer_facts(period.start, end),
        bot_resolutions(period.start, end),
        service_level_seconds=service_level_seconds(),
        intervals=so_far,
    )
    use = metrics.time_use(status_spans(period.start, end), items, intervals=so_far, now=end)
    queues = list(Queue.objects.order_by("name").values("pk", "name", "service_level_goal"))
    # A channel whose contacts the bot resolved, none reaching a queue, is reported too.
    channels = sorted(
        {channel for per in result.queues.values() for _q, channel in per}
        | {channel for per in result.bot_resolved.values() for channel in per}
    )
    return {
        "start": period.start,
        "end": period.end,
        "step_seconds": int(period.step.total_seconds()),
        "by_queue": [
            _queue_row(begin, finish, queue, result, use)
            for begin, finish in intervals
            for queue in queues
        ],
        "by_channel": [
            _channel_row(begin, finish, channel, result, use)
            for begin, finish in intervals
            for channel in channels
        ],
        "agents": _agent_rows(result, use),
    }


def _staffed(use: metrics.TimeUse, begin: datetime, agent_ids: Iterable[int]) -> float:
    staffed_by_agent = use.staffed.get(begin, {})
    return math.fsum(staffed_by_agent.get(agent_id, 0.0) for agent_id in agent_ids)


def _queue_row(
    begin: datetime,
    finish: datetime,
    queue: dict[str, Any],
    result: metrics.Tally,
    use: metrics.TimeUse,
) -> dict[str, Any]:
    counters = metrics.QueueCounters()
    for (queue_id, _channel), values in result.queues.get(begin, {}).items():
        if queue_id == queue["pk"]:
            counters.add(values)
    staffed = _staffed(use, begin, use.workers_by_queue.get(begin, {}).get(queue["pk"], ()))
    busy = use.busy_by_queue.get(begin, {}).get(queue["pk"], 0.0)
    return {
        "start": begin,
        "end": finish,
        "queue_id": queue["pk"],
        "queue": queue["name"],
        "service_level_goal": queue["service_level_goal"] / 100,
        **queue_figures(counters),
        "busy_seconds": round(busy, 3),
        "staffed_seconds": round(staffed, 3),
        "occupancy": ratio(busy, staffed),
    }


def _channel_row(
    begin: datetime, finish: datetime, channel: str, result: metrics.Tally, use: metrics.TimeUse
) -> dict[str, Any]:
    counters = metrics.QueueCounters()
    for (_queue_id, kind), values in result.queues.get(begin, {}).items():
        if kind == channel:
            counters.add(values)
    busy = use.busy_by_channel.get(begin, {}).get(channel, 0.0)
    staffed = _staffed(use, begin, use.workers_by_channel.get(begin, {}).get(channel, ()))
    return {
        "start": begin,
        "end": finish,
        "channel": channel,
        **queue_figures(counters),
        "bot_resolved": result.bot_resolved.get(begin, {}).get(channel, 0),
        "busy_seconds": round(busy, 3),
        "staffed_seconds": round(staffed, 3),
        "occupancy": ratio(busy, staffed),
    }


def _agent_rows(result: metrics.Tally, use: metrics.TimeUse) -> list[dict[str, Any]]:
    counters: dict[int, metrics.AgentCounters] = defaultdict(metrics.AgentCounters)
    for per_agent in result.agents.values():
        for agent_id, values in per_agent.items():
            counters[agent_id].add(values)
    in_status: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    open_for_work: dict[int, float] = defaultdict(float)
    staffed: dict[int, float] = defaultdict(float)
    busy: dict[int, float] = defaultdict(float)
    for per_agent in use.in_status.values():
        for agent_id, statuses in per_agent.items():
            for status, seconds in statuses.items():
                in_status[agent_id][status] += seconds
    for total, per_interval in ((open_for_work, use.open_for_work), (staffed, use.staffed)):
        for per_agent in per_interval.values():
            for agent_id, seconds in per_agent.items():
                total[agent_id] += seconds
    for per_agent in use.busy.values():
        for agent_id, seconds in per_agent.items():
            busy[agent_id] += seconds
    rows = []
    for agent in Agent.objects.select_related("user", "team").order_by("user__username"):
        values = counters.get(agent.pk, metrics.AgentCounters())
        rows.append(
            {
                "agent_id": agent.pk,
                "agent": agent.name,
                "team": agent.team.name if agent.team else "",
                "seconds_in_status": {
                    status: round(seconds)
                    for status, seconds in sorted(in_status[agent.pk].items())
                },
                "open_for_work_seconds": round(open_for_work[agent.pk]),
                "staffed_seconds": round(staffed[agent.pk]),
                "handled": values.handled,
                "average_handle_time": rounded(values.average_handle_time, 1),
                "accepted": values.accepted,
                "declined": values.declined,
                "missed": values.missed,
                "occupancy": ratio(busy[agent.pk], staffed[agent.pk]),
            }
        )
    return rows
