"""One feed of dashboard deltas per process, shared by every supervisor socket in it.

Every dashboard consumer hears each ``dashboard.changed`` nudge; they all hand it here, where
the ids gather (once each). At most every ``interval_seconds`` the feed reads one delta for
the changed ids (supervisor.deltas), encodes each distinct view's frame once and sends that
same text to every socket showing the view. With no dashboard open, nudges cost nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Mapping
from typing import Any, Protocol

from django.conf import settings
from django.utils import timezone

from channels_app.db_calls import db_call
from contactcenter.kernel.realtime import envelope
from supervisor import history, metrics
from supervisor.deltas import Changes, Shown, read_delta
from supervisor.selectors import AgentView, dashboard_snapshot

logger = logging.getLogger(__name__)


class Dashboard(Protocol):
    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Send one text frame to the browser."""


def encoded(event_type: str, data: dict[str, Any]) -> str:
    return json.dumps(envelope(event_type, data))


class DashboardFeed:
    interval_seconds = 0.3

    def __init__(self) -> None:
        self.reset(None)

    def reset(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self.loop = loop
        self.views: dict[Dashboard, AgentView] = {}
        self.joining: set[Dashboard] = set()
        self.changes = Changes()
        self.shown = Shown()
        self.sending: asyncio.Task | None = None
        self.ticking: asyncio.Task | None = None
        self.built_at = -math.inf
        self.totals: metrics.Totals | None = None
        # One read at a time: a snapshot and a delta read side by side would each take the
        # other's changes for shown, and a change noted during a snapshot's read must be built
        # after its socket joined the views, against a baseline no newer than its snapshot.
        self.lock = asyncio.Lock()

    def _same_loop(self) -> None:
        # A feed serves one event loop (tests start several).
        loop = asyncio.get_running_loop()
        if self.loop is not loop:
            self.reset(loop)

    async def watch(self, dashboard: Dashboard, view: AgentView) -> None:
        """Send ``dashboard`` a snapshot of ``view``, then deltas for it."""
        self._same_loop()
        self.views.pop(dashboard, None)
        # Counted as open while its snapshot is read, so that no change is lost meanwhile.
        self.joining.add(dashboard)
        try:
            async with self.lock:
                snapshot = await db_call(dashboard_snapshot)(timezone.now(), view)
                if not self.views:
                    self.shown = Shown.from_snapshot(snapshot)
                else:
                    self.shown.watch(snapshot)
                await dashboard.send(text_data=encoded("dashboard.snapshot", snapshot))
                self.views[dashboard] = view
        finally:
            self.joining.discard(dashboard)
        if self.ticking is None or self.ticking.done():
            self.ticking = asyncio.create_task(self._refresh_while_quiet())

    def leave(self, dashboard: Dashboard) -> None:
        self.views.pop(dashboard, None)
        self.joining.discard(dashboard)
        if not self.views and not self.joining:
            for task in (self.sending, self.ticking):
                if task is not None:
                    task.cancel()
            self.reset(self.loop)

    def changed(self, message: Mapping[str, Any]) -> None:
        if not (self.views or self.joining):
            return
        self._same_loop()
        self.changes.note(message)
        if self.sending is None or self.sending.done():
            self.sending = asyncio.create_task(self._send_soon())

    async def _send_soon(self) -> None:
        # Nudges that come while this waits or builds fold into the next delta; a waiting
        # list held back (supervisor.deltas.WAITING_EVERY_SECONDS) is read when it may be.
        while self.changes or self.shown.waiting_due:
            due = self.built_at + self.interval_seconds - time.monotonic()
            if not self.changes:
                due = max(due, self.shown.waiting_wait())
            await asyncio.sleep(max(0.0, due))
            async with self.lock:
                changes, self.changes = self.changes, Changes()
                await self._build(changes, quiet=False)
            if not (self.views or self.joining):
                return

    async def _refresh_while_quiet(self) -> None:
        quiet = settings.SUPERVISOR_QUIET_REFRESH_SECONDS
        while self.views or self.joining:
            await asyncio.sleep(max(0.0, self.built_at + quiet - time.monotonic()))
            if time.monotonic() - self.built_at >= quiet and not self.changes:
                async with self.lock:
                    await self._build(Changes(), quiet=True)

    async def _build(self, changes: Changes, *, quiet: bool) -> None:
        """Read and send one delta (the caller holds ``lock``)."""
        self.built_at = time.monotonic()
        views = set(self.views.values())
        if not views:
            return
        self.shown.forget_views_except(views)
        deltas = await db_call(self._read)(changes, views, quiet)
        for view, data in deltas.items():
            text = encoded("dashboard.delta", data)
            for dashboard, shown_view in list(self.views.items()):
                # Checked at each send: a socket may have left or asked for another view.
                if shown_view == view and self.views.get(dashboard) == view:
                    await self._send(dashboard, text)

    async def _send(self, dashboard: Dashboard, text: str) -> None:
        try:
            await dashboard.send(text_data=text)
        except Exception:
            # A socket closing under the send must not cost the other dashboards this delta.
            logger.warning("a dashboard could not be sent its delta", exc_info=True)

    def _read(
        self, changes: Changes, views: set[AgentView], quiet: bool
    ) -> dict[AgentView, dict[str, Any]]:
        now = timezone.now()
        # Today's counters move when work is offered, answered or ends, which nudges name
        # with the work item (the line moved); a presence change leaves them as they were.
        if self.totals is None or changes.line or quiet:
            self.totals = history.today_totals(now)
        return read_delta(now, changes, views, self.shown, self.totals, quiet=quiet)


dashboard_feed = DashboardFeed()
