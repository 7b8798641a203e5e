"""Why a work item waits, or why it went to its agent, in words a supervisor can act on.

The counting is the engine's (``engine.explain``, on the same snapshot a round uses); this
module loads that snapshot and names things: skills, channels, queues and agents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contactcenter.kernel.errors import NotFound
from routing import engine
from routing.models import Agent, Offer, Skill, WorkItem
from routing.selectors import snapshot as round_snapshot

REASON_LABELS = {
    engine.WaitReason.OFFLINE: "offline",
    engine.WaitReason.NOT_OPEN_FOR_CHANNEL: "not open for {channel}",
    engine.WaitReason.NOT_A_MEMBER: "not a member of {queue}",
    engine.WaitReason.MISSING_SKILL: "missing a required skill",
    engine.WaitReason.DECLINED_OR_MISSED: "declined or missed it already",
    engine.WaitReason.BLOCKED_BY_OTHER_WORK: "on work that blocks {channel}",
    engine.WaitReason.CHANNEL_LIMIT: "at their {channel} limit",
    engine.WaitReason.NO_FREE_CAPACITY: "no free capacity",
}


@dataclass(frozen=True)
class Snapshot:
    """Every agent (offline ones too: they are counted as offline) and the channel blocks."""

    agents: list[engine.AgentState]
    blocks: dict[int, frozenset[int]]
    skill_names: dict[int, str]

    @classmethod
    def load(cls, now: datetime) -> Snapshot:
        return cls(
            agents=round_snapshot.agent_states(now, include_offline=True),
            blocks=round_snapshot.channel_blocks(),
            skill_names=dict(Skill.objects.values_list("pk", "name")),
        )


def explain_work_item(work_item_id: int, now: datetime) -> dict[str, Any]:
    """For a waiting item: the agents each reason excludes. For an offered or assigned one:
    which agent has it, and the routing model's reason for choosing them."""
    item = (
        WorkItem.objects.select_related("queue", "channel", "agent__user")
        .filter(pk=work_item_id)
        .first()
    )
    if item is None:
        raise NotFound(f"No work item {work_item_id}.", field="work_item_id")
    base = {
        "work_item_id": item.pk,
        "status": item.status,
        "queue": item.queue.name,
        "channel": item.channel.kind,
        "waited_seconds": int(max((now - item.enqueued_at).total_seconds(), 0)),
    }
    if item.status in round_snapshot.ACTIVE_STATUSES:
        return {**base, **_why_this_agent(item)}
    if item.status != WorkItem.Status.QUEUED:
        return {**base, "summary": f"Not waiting: {item.get_status_display().lower()}."}
    return {**base, **explain_waiting(item, now)}


def explain_waiting(
    item: WorkItem,
    now: datetime,
    *,
    snapshot: Snapshot | None = None,
    waiting: engine.WaitingItem | None = None,
) -> dict[str, Any]:
    """Why a queued item waits. To explain many items at once, pass one ``Snapshot`` and
    each item's engine view (``round_snapshot.waiting_items_by_id``)."""
    snapshot = snapshot or Snapshot.load(now)
    agents = snapshot.agents
    waiting = waiting or round_snapshot.waiting_items_by_id([item.pk])[item.pk]
    explanation = engine.explain(waiting, agents, now, blocks=snapshot.blocks)
    names = {"channel": item.channel.name, "queue": item.queue.name}
    skills = snapshot.skill_names
    excluded = []
    for reason in engine.WaitReason:
        count = explanation.excluded.get(str(reason), 0)
        if not count:
            continue
        if reason is engine.WaitReason.MISSING_SKILL:
            for (skill_id, level), missing in sorted(explanation.missing_skills.items()):
                excluded.append(
                    {
                        "reason": str(reason),
                        "count": missing,
                        "skill": skills.get(skill_id, f"skill {skill_id}"),
                        "min_level": level,
                        "label": f"missing {skills.get(skill_id, skill_id)} at level {level}",
                    }
                )
            continue
        excluded.append(
            {"reason": str(reason), "count": count, "label": REASON_LABELS[reason].format(**names)}
        )
    preferred = None
    if explanation.waiting_for_preferred_agent is not None:
        preferred = Agent.objects.select_related("user").get(
            pk=explanation.waiting_for_preferred_agent
        )
    eligible = len(explanation.eligible_agent_ids)
    parts = [f"{row['count']} {row['label']}" for row in excluded]
    if preferred is not None:
        summary = f"Held for {preferred.name} first"
    elif eligible:
        summary = f"{eligible} agent(s) can take it; waiting for its turn"
    elif not agents:
        summary = "No agents"
    else:
        summary = "No agent can take it"
    if parts:
        summary += ": " + ", ".join(parts)
    return {
        "agents_considered": explanation.agents_considered,
        "eligible_agents": eligible,
        "excluded": excluded,
        "waiting_for_preferred_agent": preferred.name if preferred else None,
        "summary": summary + ".",
    }


def _why_this_agent(item: WorkItem) -> dict[str, Any]:
    offer = (
        Offer.objects.filter(work_item=item, agent_id=item.agent_id)
        .exclude(outcome=Offer.Outcome.CANCELLED)
        .order_by("-created_at", "-id")
        .first()
    )
    model = offer.routing_model if offer else ""
    key = offer.routing_key if offer else []
    why = describe_choice(model, key)
    return {
        "agent": item.agent.name,
        "routing_model": model,
        "routing_key": key,
        "summary": f"{item.get_status_display()}: {item.agent.name}, {why}.",
    }


def describe_choice(model: str, key: list) -> str:
    """The routing model's key in words (keys compare smaller-is-better)."""
    try:
        if model == "preferred_agent":
            return "the agent who last served this customer"
        if model == engine.RoutingModel.MOST_AVAILABLE:
            return f"the most available agent ({-key[0]} free units)"
        if model == engine.RoutingModel.LEAST_ACTIVE:
            return f"the least active agent ({key[0]} open items)"
        if model == engine.RoutingModel.LONGEST_IDLE:
            return "the agent idle the longest"
        if model == engine.RoutingModel.ROUND_ROBIN:
            return "next in turn (the longest since their last offer)"
        if model == engine.RoutingModel.BEST_SKILL_MATCH:
            return f"the best skill match (summed level {-key[0]})"
    except (IndexError, TypeError):
        pass
    return f"chosen by {model or 'routing'}"
