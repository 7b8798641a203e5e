"""The live picture for the supervisor: O(queues + agents + open work), never O(history).
Today's figures come from the day's totals kept with the last rollup plus the open
quarter-hour, so this holds while rollups are written (every minute, by beat or the embedded
ticker)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import Coalesce

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


def dashboard_snapshot(now: datetime) -> dict[str, Any]:
    totals = history.today_totals(now)
    statuses = list(
        PresenceStatus.objects.order_by("position", "name")
        .annotate(channel_count=Count("channels"))
        .values("id", "name", "alert_after_seconds", "channel_count")
    )
    queues = queue_rows(now, totals)
    agents = agent_rows(totals)
    return {
        "generated_at": now.isoformat(),
        "queues": queues,
        "bot_resolved_today": sum(totals.bot_resolved.values()),
        "agents": agents,
        "waiting": waiting_rows(now),
        "skills_backlog": skills_backlog(),
        "alerts": alerts(now, queues, agents, statuses),
        # What a supervisor may set an agent to (null: offline), and filter agents by.
        "statuses": [
            {
                "id": status["id"],
                "name": status["name"],
                "open_for_work": status["channel_count"] > 0,
            }
            for status in statuses
        ],
        "teams": list(Team.objects.order_by("name").values("id", "name")),
        "skills": list(Skill.objects.order_by("name").values("id", "name")),
    }


def alerts(
    now: datetime,
    queues: list[dict[str, Any]],
    agents: list[dict[str, Any]],
    statuses: list[dict[str, Any]],
) -> list[dict[str, Any]]:
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
    limits = {status["id"]: status["alert_after_seconds"] for status in statuses}
    for agent in agents:
        limit = limits.get(agent["status_id"])
        since = datetime.fromisoformat(agent["status_since"])
        if limit and (now - since).total_seconds() > limit:
            raised.append(
                {
                    "id": f"status:{agent['id']}:{agent['status_since']}",
                    "kind": "status_time",
                    "text": f"{agent['name']} has been in {agent['status_name']} for over "
                    f"{duration(limit)}.",
                }
            )
    return raised


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
    """Each queue's line now (from the waiting items: O(waiting)) and its day so far (from
    ``totals``). Contacts still waiting past the service-level time count against today's
    service level: they can no longer be answered within it."""
    queues = list(
        Queue.objects.order_by("name").values(
            "pk", "name", "service_level_seconds", "service_level_goal", "alert_wait_seconds"
        )
    )
    waiting: dict[int, list[float]] = {queue["pk"]: [] for queue in queues}
    # Offered but not yet accepted: not in the line any more, but still unanswered.
    unanswered: dict[int, list[float]] = {queue["pk"]: [] for queue in queues}
    for queue_id, status, entered_at in (
        # Two conditions, not one IN: each status has its own partial index.
        WorkItem.objects.filter(
            Q(status=WorkItem.Status.QUEUED) | Q(status=WorkItem.Status.OFFERED)
        )
        .order_by()
        .values_list("queue_id", "status", Coalesce("overflowed_at", "enqueued_at"))
    ):
        wait = (now - entered_at).total_seconds()
        unanswered.setdefault(queue_id, []).append(wait)
        if status == WorkItem.Status.QUEUED:
            waiting.setdefault(queue_id, []).append(wait)
    today = totals.per_queue()
    rows = []
    for queue in queues:
        waits = waiting[queue["pk"]]
        day = today.get(queue["pk"], metrics.QueueCounters())
        past_sl = sum(wait > queue["service_level_seconds"] for wait in unanswered[queue["pk"]])
        counted = day.sl_counted + past_sl
        service_level = day.answered_in_sl / counted if counted else None
        goal = queue["service_level_goal"] / 100
        rows.append(
            {
                "id": queue["pk"],
                "name": queue["name"],
                "waiting": len(waits),
                "longest_wait_seconds": int(max(waits, default=0)),
                "average_wait_seconds": int(sum(waits) / len(waits)) if waits else 0,
                "waiting_past_alert": sum(wait > queue["alert_wait_seconds"] for wait in waits),
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


def agent_rows(totals: metrics.Totals) -> list[dict[str, Any]]:
    agents = list(
        Agent.objects.select_related("user", "status")
        .prefetch_related("queues", "skills")
        .order_by("user__username")
    )
    items_by_agent: dict[int, list[WorkItem]] = {agent.pk: [] for agent in agents}
    active = (
        WorkItem.objects.filter(status__in=ACTIVE_STATUSES)
        .select_related("channel", "interaction__case__customer")
        .order_by("enqueued_at", "id")
    )
    for item in active:
        items_by_agent.setdefault(item.agent_id, []).append(item)
    rows = []
    for agent in agents:
        items = items_by_agent[agent.pk]
        day = totals.agents.get(agent.pk, metrics.AgentCounters())
        rows.append(
            {
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
        )
    return rows
