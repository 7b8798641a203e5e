"""The dashboard's deltas: what changed since the last frame, read for the changed ids only.

One process's dashboards share one ``Shown`` (what they were last sent) and one pending
``Changes`` (the ids the nudges named since): a delta reads the changed agents' rows, the
queue rows (from counters: O(queues)) and the waiting list's first rows, then each distinct
view gets its own page's part. The edge (channels_app.dashboard_feed) encodes each view's
delta once and sends the same text to all of its sockets.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from supervisor import metrics
from supervisor.selectors import (
    AgentView,
    agent_page,
    agent_rows,
    alerts,
    queue_rows,
    skills_backlog,
    waiting_rows,
)

# The waiting list's rows carry the routing explanation, which reads every agent's state
# (O(agents)), and the skills backlog counts the waiting items' needs (O(waiting)): read at
# most this often, while the queue rows (counters: O(queues)) follow every delta. On a floor
# of 2,000 agents one read costs a Daphne process about a tenth of a core at a 2 s pace.
WAITING_EVERY_SECONDS = 5.0


@dataclass
class Changes:
    """The ids the nudges named since the last delta; many dashboards in one process hear the
    same nudge, and a set keeps each id once."""

    agents: set[int] = field(default_factory=set)
    line: bool = False  # the queues' lines moved: queue rows and the waiting list

    def note(self, message: Mapping[str, Any]) -> None:
        agents = message.get("agents") or ()
        self.agents.update(agents)
        # Only an agent's own change (presence, load) leaves the lines alone.
        if message.get("queues") or message.get("work_items") or not agents:
            self.line = True

    def __bool__(self) -> bool:
        return bool(self.agents) or self.line


@dataclass
class Shown:
    """What this process's dashboards were last sent: a delta carries what differs."""

    queues: dict[int, dict[str, Any]] = field(default_factory=dict)
    waiting: dict[int, dict[str, Any]] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    skills_backlog: list[dict[str, Any]] = field(default_factory=list)
    bot_resolved_today: int = 0
    pages: dict[AgentView, list[int]] = field(default_factory=dict)
    totals: dict[AgentView, int] = field(default_factory=dict)
    # The line moved since the waiting list was last read (at ``waiting_read_at``, monotonic).
    waiting_due: bool = False
    waiting_read_at: float = -math.inf

    def waiting_wait(self) -> float:
        """Seconds until the waiting list may be read again."""
        return max(0.0, self.waiting_read_at + WAITING_EVERY_SECONDS - time.monotonic())

    @classmethod
    def from_snapshot(cls, snapshot: Mapping[str, Any]) -> Shown:
        view = AgentView(**snapshot["view"])
        return cls(
            queues={row["id"]: row for row in snapshot["queues"]},
            waiting={row["work_item_id"]: row for row in snapshot["waiting"]},
            alerts=snapshot["alerts"],
            skills_backlog=snapshot["skills_backlog"],
            bot_resolved_today=snapshot["bot_resolved_today"],
            pages={view: [row["id"] for row in snapshot["agents"]]},
            totals={view: snapshot["agents_total"]},
        )

    def watch(self, snapshot: Mapping[str, Any]) -> None:
        """A socket took up a view with this snapshot. A view other sockets already follow
        keeps its page as they were sent it: their next delta must cover the difference."""
        view = AgentView(**snapshot["view"])
        if view not in self.pages:
            self.pages[view] = [row["id"] for row in snapshot["agents"]]
            self.totals[view] = snapshot["agents_total"]

    def forget_views_except(self, views: Iterable[AgentView]) -> None:
        keep = set(views)
        for view in [view for view in self.pages if view not in keep]:
            del self.pages[view]
            self.totals.pop(view, None)


def read_delta(
    now: datetime,
    changes: Changes,
    views: Iterable[AgentView],
    shown: Shown,
    totals: metrics.Totals,
    *,
    quiet: bool = False,
) -> dict[AgentView, dict[str, Any]]:
    """Each view's ``dashboard.delta`` data, for the views that have something to show.
    ``quiet``: no event came for a while, but waits pass thresholds and service levels move:
    read the queue rows and the alerts again (O(queues) and the agents past their limit),
    not one agent row. Updates ``shown``."""
    common = _floor_changes(now, changes, shown, totals, quiet=quiet)
    views = list(views)
    pages = {}
    for view in views:
        # Events change agents' presence and load, never their names, teams or skills (an
        # admin's edit shows on the next snapshot): only a view filtered by presence can gain
        # or lose agents by them. Reading every view's page again on every change cost each
        # process O(views x floor) a delta.
        if view not in shown.pages or (changes.agents and view.filters_by_presence):
            pages[view] = agent_page(view)
        else:
            pages[view] = (shown.pages[view], shown.totals[view])
    wanted: dict[AgentView, tuple[list[int], list[int]]] = {}
    for view, (page, _) in pages.items():
        before = shown.pages.get(view, [])
        was_shown = set(before)
        entered = [agent_id for agent_id in page if agent_id not in was_shown]
        refreshed = [agent_id for agent_id in page if agent_id in changes.agents]
        in_page = set(page)
        removed = [agent_id for agent_id in before if agent_id not in in_page]
        wanted[view] = (list(dict.fromkeys(entered + refreshed)), removed)
    needed = list(dict.fromkeys(agent_id for ids, _ in wanted.values() for agent_id in ids))
    rows = {row["id"]: row for row in agent_rows(needed, totals)} if needed else {}
    deltas = {}
    for view, (ids, removed) in wanted.items():
        page, total = pages[view]
        agents = [rows[agent_id] for agent_id in ids if agent_id in rows]
        total_moved = total != shown.totals.get(view, total)
        shown.pages[view], shown.totals[view] = page, total
        if not (common or agents or removed or total_moved):
            continue
        deltas[view] = {
            "generated_at": now.isoformat(),
            "queues": [],
            "waiting": [],
            "waiting_removed": [],
            **common,
            "agents": agents,
            "agents_removed": removed,
            "agents_total": total,
        }
    return deltas


def _floor_changes(
    now: datetime, changes: Changes, shown: Shown, totals: metrics.Totals, *, quiet: bool
) -> dict[str, Any]:
    """What every view's delta carries: changed queue rows and waiting rows, and the
    alerts, skills backlog and bot count when they changed. The waiting list and the backlog
    wait for ``WAITING_EVERY_SECONDS`` since their last read (``shown.waiting_due`` says one
    is owed)."""
    common: dict[str, Any] = {}
    if changes.line or quiet:
        queues = queue_rows(now, totals)
        changed = [row for row in queues if shown.queues.get(row["id"]) != row]
        shown.queues = {row["id"]: row for row in queues}
        if changed:
            common["queues"] = changed
    # Agents' presence and load change the waiting rows' "why" and the backlog's available
    # agents too, and a quiet floor's waits move on: all owe a read (at most every
    # WAITING_EVERY_SECONDS).
    shown.waiting_due |= changes.line or bool(changes.agents) or quiet
    if shown.waiting_due and not shown.waiting_wait():
        shown.waiting_due, shown.waiting_read_at = False, time.monotonic()
        waiting = waiting_rows(now)
        entered = [row for row in waiting if shown.waiting.get(row["work_item_id"]) != row]
        now_waiting = {row["work_item_id"]: row for row in waiting}
        left = [item_id for item_id in shown.waiting if item_id not in now_waiting]
        shown.waiting = now_waiting
        if entered or left:
            common["waiting"], common["waiting_removed"] = entered, left
        backlog = skills_backlog()
        if backlog != shown.skills_backlog:
            common["skills_backlog"] = shown.skills_backlog = backlog
    raised = alerts(now, list(shown.queues.values()))
    if raised != shown.alerts:
        common["alerts"] = shown.alerts = raised
    bot = sum(totals.bot_resolved.values())
    if bot != shown.bot_resolved_today:
        common["bot_resolved_today"] = shown.bot_resolved_today = bot
    return common
