"""The live picture for the supervisor: O(queues + agents + open work), never O(history)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Min, Q

from routing import explanations
from routing.models import (
    Agent,
    AgentSkill,
    PresenceStatus,
    Queue,
    Skill,
    WorkItem,
    WorkItemSkill,
)
from routing.selectors import ACTIVE_STATUSES, waiting_items_by_id


def dashboard_snapshot(now: datetime) -> dict[str, Any]:
    return {
        "generated_at": now.isoformat(),
        "queues": queue_rows(now),
        "agents": agent_rows(),
        "waiting": waiting_rows(now),
        "skills_backlog": skills_backlog(),
        # What a supervisor may set an agent to (null: offline).
        "statuses": list(PresenceStatus.objects.order_by("position", "name").values("id", "name")),
    }


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


def queue_rows(now: datetime) -> list[dict[str, Any]]:
    waiting = Q(work_items__status=WorkItem.Status.QUEUED)
    queues = Queue.objects.annotate(
        waiting=Count("work_items", filter=waiting),
        oldest=Min("work_items__enqueued_at", filter=waiting),
    ).order_by("name")
    return [
        {
            "id": queue.pk,
            "name": queue.name,
            "waiting": queue.waiting,
            "longest_wait_seconds": int((now - queue.oldest).total_seconds())
            if queue.oldest
            else 0,
            "oldest_enqueued_at": queue.oldest.isoformat() if queue.oldest else None,
        }
        for queue in queues
    ]


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


def agent_rows() -> list[dict[str, Any]]:
    agents = list(Agent.objects.select_related("user", "status").order_by("user__username"))
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
        rows.append(
            {
                "id": agent.pk,
                "name": agent.name,
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
