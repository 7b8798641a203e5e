"""The supervisor's reports page and its CSV export: reading the query into a period, the
totals over the period, the charts' series and the CSV tables. Every figure comes from
``supervisor.history.report``; how each is defined is in ``supervisor.metrics``."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.http import HttpResponse
from django.utils import timezone

from contactcenter.crm.models import ChannelKind
from routing.models import PresenceStatus
from supervisor import history, metrics

# The intervals a report can be cut into, in minutes (the finest is the rollups' step).
INTERVALS = {"15": timedelta(minutes=15), "60": timedelta(hours=1), "1440": timedelta(days=1)}
DEFAULT_INTERVAL = "60"
# Long before any contact center's history; far enough from date.min for date arithmetic.
EARLIEST_DAY = date(2000, 1, 1)
# How many days after ``day`` the last day (``to``) may be.
MAX_DAYS_AFTER = 31
TABLES = ("queues", "channels", "agents")
# Counts whose sum over intervals is the period's; the averages and ratios are recomputed.
SUMMED = (
    "offered",
    "handled",
    "abandoned",
    "expired",
    "moved_out",
    "answered_in_sl",
    "sl_counted",
    "wait_seconds",
    "handle_ended",
    "handle_seconds",
    "busy_seconds",
    "staffed_seconds",
)
# Recomputed from the summed counters, as each interval's are.
AVERAGES = ("service_level", "average_speed_of_answer", "average_handle_time")
ACTIVITY = ("offered", "handled", "abandoned", "expired", "moved_out", "handle_ended")
Labeller = Callable[[datetime, datetime], str]


class BadParameter(ValueError):
    """A query parameter that cannot be read; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True)
class Query:
    day: date
    to: date | None  # the last day, inclusive; None: ``day`` only
    interval: str  # a key of INTERVALS
    period: history.Period

    @property
    def last_day(self) -> date:
        return self.to or self.day

    def params(self) -> dict[str, str]:
        """The query as URL parameters, for links that keep it."""
        params = {"day": self.day.isoformat()}
        if self.to is not None:
            params["to"] = self.to.isoformat()
        params["interval"] = self.interval
        return params


def parse_query(params: Mapping[str, str], *, today: date) -> Query:
    """``day`` (YYYY-MM-DD, default ``today``), optional ``to`` (the last day, at most
    MAX_DAYS_AFTER days after ``day``) and ``interval`` (minutes, one of INTERVALS)."""
    day = _date(params, "day") or today
    to = _date(params, "to")
    for field, value in (("day", day), ("to", to)):
        if value is not None and value < EARLIEST_DAY:
            raise BadParameter(field, f"choose a day from {EARLIEST_DAY.isoformat()} on.")
    if to is not None and to < day:
        raise BadParameter("to", "the last day cannot be before the first (day).")
    if to is not None and (to - day).days > MAX_DAYS_AFTER:
        raise BadParameter("to", f"a report covers at most {MAX_DAYS_AFTER} days after day.")
    interval = (params.get("interval") or DEFAULT_INTERVAL).strip()
    if interval not in INTERVALS:
        raise BadParameter("interval", "choose 15, 60 or 1440 (minutes).")
    last = to or day
    try:
        # Local midnights, kept in UTC so that interval arithmetic is in real time.
        start = _midnight(day)
        end = _midnight(last + timedelta(days=1))
    except OverflowError:
        raise BadParameter("to" if to else "day", "this date is out of range.") from None
    return Query(day, to, interval, history.Period(start, end, INTERVALS[interval]))


def parse_table(params: Mapping[str, str]) -> str:
    table = (params.get("table") or "").strip()
    if table not in TABLES:
        raise BadParameter("table", "choose queues, channels or agents.")
    return table


def form_values(params: Mapping[str, str], *, today: date) -> dict[str, str]:
    """What the form shows back after a bad query."""
    return {
        "day": params.get("day", today.isoformat()),
        "to": params.get("to", ""),
        "interval": params.get("interval", DEFAULT_INTERVAL),
    }


def _date(params: Mapping[str, str], field: str) -> date | None:
    raw = (params.get(field) or "").strip()
    if not raw:
        return None
    try:
        return datetime.strptime(raw, "%Y-%m-%d").date()  # noqa: DTZ007 (a date, no time)
    except ValueError:
        raise BadParameter(field, "enter a date as YYYY-MM-DD.") from None


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min)).astimezone(UTC)


# --- the page --------------------------------------------------------------------------------


def page_context(query: Query, report: dict[str, Any]) -> dict[str, Any]:
    """What templates/supervisor/reports.html shows: the interval rows that have something
    in them, totals over the period, the agents and the charts' data."""
    multi_day = query.to is not None and query.to != query.day
    label = _labeller(query.period.step, multi_day)
    queue_rows = [
        {**row, "label": label(row["start"], row["end"]), **_goal_check(row)}
        for row in report["by_queue"]
        if _active(row)
    ]
    channel_rows = [
        {
            **row,
            "label": label(row["start"], row["end"]),
            "channel_name": channel_name(row["channel"]),
        }
        for row in report["by_channel"]
        if _active(row)
    ]
    statuses = status_columns(report["agents"])
    agents = [
        {**row, "in_status": [row["seconds_in_status"].get(name, 0) for name in statuses]}
        for row in report["agents"]
        if _agent_active(row)
    ]
    return {
        "form": {
            "day": query.day.isoformat(),
            "to": query.to.isoformat() if query.to else "",
            "interval": query.interval,
        },
        "query": query,
        "query_string": urlencode(query.params()),
        "queue_rows": queue_rows,
        "queue_totals": queue_totals(report["by_queue"]),
        "channel_rows": channel_rows,
        "channel_totals": channel_totals(report["by_channel"]),
        "statuses": statuses,
        "agents": agents,
        "chart": chart_data(report, _axis_labeller(query.period.step, multi_day)),
    }


def _active(row: Mapping[str, Any]) -> bool:
    return (
        any(row[name] for name in ACTIVITY)
        or bool(row["busy_seconds"])
        or bool(row.get("bot_resolved"))
    )


def _agent_active(row: Mapping[str, Any]) -> bool:
    return (
        any(row[name] for name in ("staffed_seconds", "handled", "accepted", "declined", "missed"))
        or any(
            seconds
            for status, seconds in row["seconds_in_status"].items()
            if status != metrics.OFFLINE
        )
        or row["average_handle_time"] is not None
    )


def _goal_check(row: Mapping[str, Any]) -> dict[str, bool]:
    level = row["service_level"]
    return {"below_goal": level is not None and level < row["service_level_goal"]}


def _labeller(step: timedelta, multi_day: bool) -> Labeller:
    def label(start: datetime, end: datetime) -> str:
        begin, finish = timezone.localtime(start), timezone.localtime(end)
        if step >= timedelta(days=1):
            return begin.strftime("%a %Y-%m-%d")
        hours = f"{begin:%H:%M}–{finish:%H:%M}"
        return f"{begin:%Y-%m-%d} {hours}" if multi_day else hours

    return label


def _axis_labeller(step: timedelta, multi_day: bool) -> Labeller:
    """Shorter labels for a chart's axis: where each interval starts."""

    def label(start: datetime, _end: datetime) -> str:
        begin = timezone.localtime(start)
        if step >= timedelta(days=1):
            return begin.strftime("%a %m-%d")
        return begin.strftime("%m-%d %H:%M" if multi_day else "%H:%M")

    return label


def summed(rows: Iterable[Mapping[str, Any]], **fields: Any) -> dict[str, Any]:
    """Rows added up over the period: counts summed, averages and ratios recomputed from the
    summed counters (service level = answered in time / counted, ASA = wait / handled, AHT =
    handle time / handle ended, occupancy = busy / staffed)."""
    total: dict[str, Any] = dict.fromkeys(SUMMED, 0)
    total["bot_resolved"] = 0
    for row in rows:
        for name in SUMMED:
            total[name] += row[name]
        total["bot_resolved"] += row.get("bot_resolved", 0)
    counters = metrics.QueueCounters(
        answered_in_sl=total["answered_in_sl"],
        sl_counted=total["sl_counted"],
        handled=total["handled"],
        wait_seconds=total["wait_seconds"],
        handle_ended=total["handle_ended"],
        handle_seconds=total["handle_seconds"],
    )
    figures = history.queue_figures(counters)
    total.update(
        {name: figures[name] for name in AVERAGES},
        occupancy=history.ratio(total["busy_seconds"], total["staffed_seconds"]),
        **fields,
    )
    return total


def queue_totals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_queue: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_queue[row["queue_id"]].append(row)
    totals = []
    for queue_rows in by_queue.values():
        first = queue_rows[0]
        total = summed(
            queue_rows,
            queue_id=first["queue_id"],
            queue=first["queue"],
            service_level_goal=first["service_level_goal"],
        )
        totals.append({**total, **_goal_check(total)})
    return totals


def channel_totals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_channel: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_channel[row["channel"]].append(row)
    return [
        summed(channel_rows, channel=channel, channel_name=channel_name(channel))
        for channel, channel_rows in by_channel.items()
    ]


def channel_name(kind: str) -> str:
    return ChannelKind(kind).label if kind in ChannelKind.values else kind


def status_columns(agents: list[dict[str, Any]]) -> list[str]:
    """Every status someone spent time in: in the console's order, deleted ones after,
    offline last."""
    seen = {name for row in agents for name in row["seconds_in_status"]}
    order = {
        name: index
        for index, name in enumerate(PresenceStatus.objects.values_list("name", flat=True))
    }
    return sorted(
        seen,
        key=lambda name: (name == metrics.OFFLINE, order.get(name, len(order)), name),
    )


def chart_data(report: dict[str, Any], label: Labeller) -> dict[str, Any]:
    """Per interval, for every queue and for all queues together: offered, handled,
    abandoned, service level and its goal (%), occupancy (%)."""
    starts: list[datetime] = []
    labels: list[str] = []
    by_queue: dict[int, dict[str, Any]] = {}
    per_interval: dict[datetime, list[dict[str, Any]]] = defaultdict(list)
    for row in report["by_queue"]:
        if row["start"] not in per_interval:
            starts.append(row["start"])
            labels.append(label(row["start"], row["end"]))
        per_interval[row["start"]].append(row)
        series = by_queue.setdefault(
            row["queue_id"],
            {
                "key": str(row["queue_id"]),
                "name": row["queue"],
                "goal": _percent(row["service_level_goal"]),
                "offered": [],
                "handled": [],
                "abandoned": [],
                "service_level": [],
                "occupancy": [],
                "active": False,
            },
        )
        series["offered"].append(row["offered"])
        series["handled"].append(row["handled"])
        series["abandoned"].append(row["abandoned"])
        series["service_level"].append(_percent(row["service_level"]))
        series["occupancy"].append(_percent(row["occupancy"]))
        series["active"] = series["active"] or _active(row)
    goals = {series["goal"] for series in by_queue.values() if series["active"]}
    everything = {
        "key": "all",
        "name": "All queues",
        # One goal line only when the queues share it.
        "goal": goals.pop() if len(goals) == 1 else None,
        "offered": [],
        "handled": [],
        "abandoned": [],
        "service_level": [],
        "active": True,
    }
    for start in starts:
        total = summed(per_interval[start])
        for name in ("offered", "handled", "abandoned"):
            everything[name].append(total[name])
        everything["service_level"].append(_percent(total["service_level"]))
    queues = [series for series in by_queue.values() if series["active"]]
    return {"labels": labels, "series": [everything, *queues]}


def _percent(ratio: float | None) -> float | None:
    return None if ratio is None else round(ratio * 100, 1)


# --- CSV -------------------------------------------------------------------------------------

QUEUE_COLUMNS = (
    "offered",
    "handled",
    "abandoned",
    "expired",
    "moved_out",
    "answered_in_sl",
    "sl_counted",
    "service_level",
    "average_speed_of_answer",
    "average_handle_time",
    "occupancy",
)
# Column names in the file, where they say more than the key: seconds and ratios.
CSV_NAMES = {
    "average_speed_of_answer": "average_speed_of_answer_seconds",
    "average_handle_time": "average_handle_time_seconds",
}


# The per-interval tables: the report's rows, the column naming each row, and the columns
# before and after the shared figures.
INTERVAL_TABLES = {
    "queues": ("by_queue", "queue", ("service_level_goal",), ()),
    "channels": ("by_channel", "channel", (), ("bot_resolved",)),
}


def csv_response(table: str, query: Query, report: dict[str, Any]) -> HttpResponse:
    """One table of the report as CSV: a header, then one row per interval and queue (or
    channel), or per agent over the period. Durations in seconds, ratios as decimals (0..1),
    times in ISO 8601 with their UTC offset; an empty cell where a figure has no value."""
    last = f"-to-{query.to.isoformat()}" if query.to and query.to != query.day else ""
    filename = f"report-{table}-{query.day.isoformat()}{last}-{query.interval}min.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    rows = _interval_csv(table, report) if table in INTERVAL_TABLES else _agent_csv(report)
    writer.writerows(rows)
    return response


def _interval_csv(table: str, report: dict[str, Any]) -> list[list[Any]]:
    rows_key, name_column, before, after = INTERVAL_TABLES[table]
    header = [
        "interval_start",
        "interval_end",
        name_column,
        *before,
        *(CSV_NAMES.get(name, name) for name in QUEUE_COLUMNS),
        *after,
    ]
    return [header] + [
        [
            _iso(row["start"]),
            _iso(row["end"]),
            _text(row[name_column]),
            *(row[name] for name in before),
            *(_cell(row[name]) for name in QUEUE_COLUMNS),
            *(row[name] for name in after),
        ]
        for row in report[rows_key]
    ]


def _agent_csv(report: dict[str, Any]) -> list[list[Any]]:
    statuses = status_columns(report["agents"])
    header = [
        "period_start",
        "period_end",
        "agent",
        "team",
        *(f"seconds_in_status:{name}" for name in statuses),
        "open_for_work_seconds",
        "staffed_seconds",
        "handled",
        "average_handle_time_seconds",
        "accepted",
        "declined",
        "missed",
        "occupancy",
    ]
    return [header] + [
        [
            _iso(report["start"]),
            _iso(report["end"]),
            _text(row["agent"]),
            _text(row["team"]),
            *(row["seconds_in_status"].get(name, 0) for name in statuses),
            row["open_for_work_seconds"],
            row["staffed_seconds"],
            row["handled"],
            _cell(row["average_handle_time"]),
            row["accepted"],
            row["declined"],
            row["missed"],
            _cell(row["occupancy"]),
        ]
        for row in report["agents"]
    ]


def _iso(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat()


def _cell(value: Any) -> Any:
    return "" if value is None else value


def _text(value: str) -> str:
    # A name that starts like a formula is not run as one by a spreadsheet (CSV injection).
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
