"""The live picture for the supervisor: O(queues + agents + open work), never O(history).
Today's figures come from the day's totals kept with the last rollup plus the open
quarter-hour, so this holds while rollups are written (every minute, by beat or the embedded
ticker)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Concat

from routing import explanations
from routing.models import (
    Agent,
    AgentSkill,
    PresenceStatus,
    Queue,
    Skill,
    Team,
    WorkItem,
    WorkItemSkill,
)
from routing.selectors.snapshot import ACTIVE_STATUSES, waiting_items_by_id
from supervisor import history, metrics
from supervisor.formatting import duration, rounded
from supervisor.models import QueueLine


@dataclass(frozen=True)
class AgentView:
    """Which agents one dashboard shows: a filter and a page of it (``dashboard.view``)."""

    offset: int = 0
    limit: int = 50
    search: str = ""
    team_id: int | None = None
    status_id: int | None = None
    offline: bool = False
    skill_id: int | None = None

    def as_data(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def filters_by_presence(self) -> bool:
        """Whether agents enter or leave this view as their presence changes."""
        return self.offline or self.status_id is not None


DEFAULT_VIEW = AgentView()


def dashboard_snapshot(now: datetime, view: AgentView = DEFAULT_VIEW) -> dict[str, Any]:
    """Everything a dashboard shows, with only ``view``'s page of agents. The floor's agents
    cost one count and one page, whatever their number."""
    totals = history.today_totals(now)
    statuses = dashboard_statuses()
    queues = queue_rows(now, totals)
    page, total = agent_page(view)
    return {
        "generated_at": now.isoformat(),
        "queues": queues,
        "bot_resolved_today": sum(totals.bot_resolved.values()),
        "agents": agent_rows(page, totals),
        "agents_total": total,
        "view": view.as_data(),
        "waiting": waiting_rows(now),
        "skills_backlog": skills_backlog(),
        "alerts": alerts(now, queues),
        # What a supervisor may set an agent to (null: offline), and filter agents by.
        "statuses": statuses,
        "teams": list(Team.objects.order_by("name").values("id", "name")),
        "skills": list(Skill.objects.order_by("name").values("id", "name")),
    }


def dashboard_statuses() -> list[dict[str, Any]]:
    return [
        {
            "id": status["id"],
            "name": status["name"],
            "open_for_work": status["channel_count"] > 0,
        }
        for status in PresenceStatus.objects.order_by("position", "name")
        .annotate(channel_count=Count("channels"))
        .values("id", "name", "channel_count")
    ]


def agents_in_view(view: AgentView) -> QuerySet[Agent]:
    """The agents ``view``'s filter lets through, in the dashboard's order (by name)."""
    agents = Agent.objects.all()
    if view.team_id is not None:
        agents = agents.filter(team_id=view.team_id)
    if view.offline:
        # Signed out, or a status named Offline: one choice in the page.
        agents = agents.filter(Q(status__isnull=True) | Q(status__name__iexact="offline"))
    elif view.status_id is not None:
        agents = agents.filter(status_id=view.status_id)
    if view.skill_id is not None:
        agents = agents.filter(skills__skill_id=view.skill_id)
    if view.search:
        agents = agents.annotate(
            full_name=Concat("user__first_name", Value(" "), "user__last_name")
        ).filter(Q(full_name__icontains=view.search) | Q(user__username__icontains=view.search))
    return agents.order_by("user__first_name", "user__last_name", "user__username", "pk")


def agent_page(view: AgentView) -> tuple[list[int], int]:
    """The ids on ``view``'s page, in order, and how many agents match its filter."""
    agents = agents_in_view(view)
    page = list(agents.values_list("pk", flat=True)[view.offset : view.offset + view.limit])
    if view.offset == 0 and len(page) < view.limit:
        return page, len(page)
    return page, agents.count()


def alerts(now: datetime, queues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What needs a supervisor now. Each alert has a stable id while its cause lasts, so the
    browser notifies once per cause, not once per snapshot."""
    raised = []
    for queue in queues:
        if queue["waiting_past_alert"]:
            count = queue["waiting_past_alert"]
            raised.append(
                {
                    "id": f"wait:{queue['id']}",
                    "kind": "long_wait",
                    "text": f"{count} contact{'s' if count != 1 else ''} waiting over "
                    f"{duration(queue['alert_wait_seconds'])} in {queue['name']}.",
                }
            )
        if queue["below_goal"]:
            raised.append(
                {
                    "id": f"sl:{queue['id']}",
                    "kind": "service_level",
                    "text": f"{queue['name']} is below its service-level goal: "
                    f"{queue['service_level_today']:.0%} answered within "
                    f"{queue['service_level_seconds']} s today, goal "
                    f"{queue['service_level_goal']:.0%}.",
                }
            )
    return raised + status_time_alerts(now)


def status_time_alerts(now: datetime) -> list[dict[str, Any]]:
    """Agents in a status past its alert limit: one query over the agents past it (index
    ``agent_status_since``, migration supervisor 0003), never a pass over every agent."""
    limits = dict(
        PresenceStatus.objects.filter(alert_after_seconds__gt=0).values_list(
            "pk", "alert_after_seconds"
        )
    )
    if not limits:
        return []
    past = Q()
    for status_id, limit in limits.items():
        past |= Q(status_id=status_id, status_since__lt=now - timedelta(seconds=limit))
    overdue = (
        Agent.objects.filter(past)
        .select_related("user", "status")
        .order_by("user__first_name", "user__last_name", "user__username", "pk")
    )
    return [
        {
            "id": f"status:{agent.pk}:{agent.status_since.isoformat()}",
            "kind": "status_time",
            "text": f"{agent.name} has been in {agent.status.name} for over "
            f"{duration(limits[agent.status_id])}.",
        }
        for agent in overdue
    ]


# The waiting-work list shows the next items to be served; the queue rows count the rest.
WAITING_ROWS = 25


def waiting_rows(now: datetime, *, limit: int = WAITING_ROWS) -> list[dict[str, Any]]:
    """The first waiting items in serving order, each with why it waits."""
    items = list(
        WorkItem.objects.filter(status=WorkItem.Status.QUEUED)
        .select_related("queue__routing_config", "channel", "interaction__case__customer")
        .prefetch_related("skills__skill")
        .order_by("queue__routing_config__routing_priority", "-priority", "enqueued_at", "id")[
            :limit
        ]
    )
    if not items:
        return []
    snapshot = explanations.Snapshot.load(now)
    engine_view = waiting_items_by_id(item.pk for item in items)
    return [
        {
            "work_item_id": item.pk,
            "queue": item.queue.name,
            "channel": item.channel.kind,
            "customer_name": item.interaction.case.customer.name,
            "priority": item.priority,
            "enqueued_at": item.enqueued_at.isoformat(),
            "skills": [f"{need.skill.name} ≥ {need.min_level}" for need in item.skills.all()],
            "why": explanations.explain_waiting(
                item, now, snapshot=snapshot, waiting=engine_view[item.pk]
            )["summary"],
        }
        for item in items
        # An item closed between the two reads has nothing left to explain.
        if item.pk in engine_view
    ]


def queue_rows(now: datetime, totals: metrics.Totals) -> list[dict[str, Any]]:
    """Each queue's line now and its day so far (from ``totals``), in a fixed number of
    queries whatever the line's length (``line_figures``). Contacts still waiting past the
    service-level time count against today's service level: they can no longer be answered
    within it."""
    queues = list(
        Queue.objects.order_by("name").values(
            "pk", "name", "service_level_seconds", "service_level_goal", "alert_wait_seconds"
        )
    )
    lines = line_figures(now, queues)
    today = totals.per_queue()
    rows = []
    for queue in queues:
        line = lines[queue["pk"]]
        day = today.get(queue["pk"], metrics.QueueCounters())
        counted = day.sl_counted + line.past_service_level
        service_level = day.answered_in_sl / counted if counted else None
        goal = queue["service_level_goal"] / 100
        rows.append(
            {
                "id": queue["pk"],
                "name": queue["name"],
                "waiting": line.waiting,
                "longest_wait_seconds": line.longest_wait_seconds,
                "average_wait_seconds": line.average_wait_seconds,
                "waiting_past_alert": line.past_alert,
                "alert_wait_seconds": queue["alert_wait_seconds"],
                "offered_today": day.offered,
                "handled_today": day.handled,
                "abandoned_today": day.abandoned,
                "average_speed_of_answer_today": rounded(day.average_speed_of_answer),
                "service_level_today": round(service_level, 4)
                if service_level is not None
                else None,
                "service_level_goal": goal,
                "service_level_seconds": queue["service_level_seconds"],
                "below_goal": service_level is not None and service_level < goal,
            }
        )
    return rows


@dataclass
class LineFigures:
    waiting: int = 0
    longest_wait_seconds: int = 0
    average_wait_seconds: int = 0
    past_alert: int = 0
    past_service_level: int = 0  # queued or offered, not yet answered


ENTERED = Coalesce("overflowed_at", "enqueued_at")
LINE_STATUSES = (WorkItem.Status.QUEUED, WorkItem.Status.OFFERED)


def line_counts() -> dict[tuple[int, str], tuple[int, int]]:
    """(queue id, status) → (items, sum of their entry times in epoch ms), for queued and
    offered items: the counters the database keeps (``QueueLine``), a few rows per queue."""
    return {
        (row["queue_id"], row["status"]): (row["items"], row["entered_ms"])
        for row in QueueLine.objects.values("queue_id", "status")
        .annotate(items=Sum("items"), entered_ms=Sum("entered_ms"))
        .order_by()
    }


def line_figures(now: datetime, queues: list[dict[str, Any]]) -> dict[int, LineFigures]:
    """Each queue's line, from the counters and the index ``workitem_line_entered`` (queue,
    status, entry time) on the queued and offered items. Costs: the counts and the average
    wait are O(queues) (the counters); the longest wait is one index probe per queue; the
    counts past the alert and service-level times read the index entries past those times
    only, O(queues + items past them), never the rest of the line."""
    counts = line_counts()
    now_ms = now.timestamp() * 1000
    figures = {}
    for queue in queues:
        waiting, entered_ms = counts.get((queue["pk"], WorkItem.Status.QUEUED), (0, 0))
        average = (now_ms - entered_ms / waiting) / 1000 if waiting else 0
        figures[queue["pk"]] = LineFigures(waiting=waiting, average_wait_seconds=int(average))
    oldest = (
        WorkItem.objects.filter(queue_id=OuterRef("pk"), status=WorkItem.Status.QUEUED)
        .annotate(entered=ENTERED)
        .order_by("entered")
        .values("entered")[:1]
    )
    for queue_id, entered in Queue.objects.annotate(oldest=Subquery(oldest)).values_list(
        "pk", "oldest"
    ):
        if entered is not None and queue_id in figures:
            figures[queue_id].longest_wait_seconds = int((now - entered).total_seconds())
    for queue_id, count in _entered_before(now, queues, "alert_wait_seconds", (LINE_STATUSES[0],)):
        figures[queue_id].past_alert = count
    for queue_id, count in _entered_before(now, queues, "service_level_seconds", LINE_STATUSES):
        figures[queue_id].past_service_level = count
    return figures


def _entered_before(
    now: datetime, queues: list[dict[str, Any]], limit: str, statuses: tuple[str, ...]
) -> list[tuple[int, int]]:
    """(queue id, items in ``statuses`` that entered more than the queue's ``limit`` seconds
    ago): one range of the index per queue and status."""
    ranges = Q(pk__in=[])
    for queue in queues:
        for status in statuses:
            ranges |= Q(
                queue_id=queue["pk"],
                status=status,
                entered__lt=now - timedelta(seconds=queue[limit]),
            )
    return list(
        WorkItem.objects.annotate(entered=ENTERED)
        .filter(ranges)
        .values("queue_id")
        .annotate(count=Count("pk"))
        .values_list("queue_id", "count")
        .order_by()
    )


def skills_backlog() -> list[dict[str, Any]]:
    """Per skill that waiting work requires: how many items wait for it, and how many agents
    who hold it are open for work right now (a status that accepts some channel). Three
    queries, O(skills), whatever the waiting line or the history."""
    waiting = dict(
        WorkItemSkill.objects.filter(work_item__status=WorkItem.Status.QUEUED)
        .values("skill_id")
        .annotate(items=Count("work_item", distinct=True))
        .values_list("skill_id", "items")
    )
    # Over every skill, not only the waited-for ones, so that the snapshot always runs the
    # same queries (an empty id list would skip them).
    holders = dict(
        AgentSkill.objects.filter(agent__status__channels__isnull=False)
        .values("skill_id")
        .annotate(agents=Count("agent", distinct=True))
        .values_list("skill_id", "agents")
    )
    names = dict(Skill.objects.values_list("pk", "name"))
    return sorted(
        (
            {
                "skill": names[skill_id],
                "waiting": count,
                "available_agents": holders.get(skill_id, 0),
            }
            for skill_id, count in waiting.items()
        ),
        key=lambda row: (-row["waiting"], row["skill"]),
    )


def agent_rows(agent_ids: list[int], totals: metrics.Totals) -> list[dict[str, Any]]:
    """The rows of these agents, in this order: O(these agents and their open work)."""
    agents = {
        agent.pk: agent
        for agent in Agent.objects.filter(pk__in=agent_ids)
        .select_related("user", "status")
        .prefetch_related("queues", "skills")
    }
    items_by_agent: dict[int, list[WorkItem]] = {agent_id: [] for agent_id in agents}
    active = (
        WorkItem.objects.filter(agent_id__in=list(agents), status__in=ACTIVE_STATUSES)
        .select_related("channel", "interaction__case__customer")
        .order_by("enqueued_at", "id")
    )
    for item in active:
        items_by_agent[item.agent_id].append(item)
    return [
        _agent_row(agents[agent_id], items_by_agent[agent_id], totals)
        for agent_id in agent_ids
        if agent_id in agents
    ]


def _agent_row(agent: Agent, items: list[WorkItem], totals: metrics.Totals) -> dict[str, Any]:
    day = totals.agents.get(agent.pk, metrics.AgentCounters())
    return {
        "id": agent.pk,
        "name": agent.name,
        "team_id": agent.team_id,
        "queue_ids": [queue.pk for queue in agent.queues.all()],
        "skill_ids": [held.skill_id for held in agent.skills.all()],
        "handled_today": day.handled,
        "declined_today": day.declined,
        "missed_today": day.missed,
        "status_id": agent.status_id,
        "status_name": agent.status.name if agent.status else "Offline",
        "status_since": agent.status_since.isoformat(),
        "capacity": agent.capacity,
        "used_units": sum(item.units for item in items),
        "items": [
            {
                "work_item_id": item.pk,
                "channel": item.channel.kind,
                "customer_name": item.interaction.case.customer.name,
                "state": item.status,
                "since": (item.accepted_at or item.enqueued_at).isoformat(),
            }
            for item in items
        ],
    }
