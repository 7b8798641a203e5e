"""Work that runs inside the Daphne process in embedded mode (no beat, no worker)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone

from contactcenter.demo.traffic import run_demo_traffic
from routing.services.sweep import run_sweep
from routing.services.triggers import WrapUpEnding, wrap_up_ending
from routing.services.work import wrap_up_ended
from supervisor import history

logger = logging.getLogger(__name__)

ROLLUP_TICK_SECONDS = 60.0


async def sweep_ticker(interval_seconds: float) -> None:
    """Run the routing sweep forever, as Celery beat does in production mode."""
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            await sync_to_async(run_sweep)()
        except Exception:
            # One failed sweep must not stop the next: log it and go on.
            logger.exception("routing sweep failed")


async def rollup_ticker(interval_seconds: float) -> None:
    """Roll up finished reporting intervals, as Celery beat does in production mode."""
    while True:
        try:
            await sync_to_async(history.rollup_finished_intervals)()
        except Exception:
            logger.exception("interval rollup failed")
        await asyncio.sleep(interval_seconds)


class WrapUpTimers:
    """Rounds at the end of each wrap-up, on this process's event loop.

    In production a Celery task with the wrap-up's end as its eta does this; an eager task
    ignores its eta and would run at the close, while the wrap-up still holds the capacity.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.running: set[asyncio.Task] = set()

    def schedule(self, ending: WrapUpEnding) -> None:
        """Receiver of ``wrap_up_ending``, called after the close commits, in whichever
        thread committed it."""
        if self.loop.is_closed():
            # The loop that started the background work is gone (tests run one per case).
            return
        # In a fresh context: the committing thread's would tell asgiref that the timer's
        # sync_to_async runs inside the sync thread already, and refuse it as a deadlock.
        self.loop.call_soon_threadsafe(self._start_timer, ending, context=contextvars.Context())

    def _start_timer(self, ending: WrapUpEnding) -> None:
        delay = max((ending.due - timezone.now()).total_seconds(), 0.0)
        self.loop.call_later(delay, self._fire, ending.agent_id)

    def _fire(self, agent_id: int) -> None:
        task = self.loop.create_task(self._end(agent_id))
        # Held until done: the loop keeps only weak references to its tasks.
        self.running.add(task)
        task.add_done_callback(self.running.discard)

    async def _end(self, agent_id: int) -> None:
        try:
            await sync_to_async(wrap_up_ended)(agent_id=agent_id)
        except Exception:
            # The sweep's round picks the capacity up instead.
            logger.exception("round at the end of agent %s's wrap-up failed", agent_id)


class StartBackgroundTasks:
    """ASGI middleware that starts the embedded background tasks on the first connection."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app
        self.tasks: list[asyncio.Task] = []
        self.wrap_up_timers: WrapUpTimers | None = None
        self.started = False

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if not self.started:
            self.started = True
            self.start()
        await self.app(scope, receive, send)

    def start(self) -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            self.wrap_up_timers = WrapUpTimers(asyncio.get_running_loop())
            wrap_up_ending.connect(self.wrap_up_timers.schedule)
        if settings.EMBEDDED_TICKER:
            self.tasks.append(asyncio.create_task(sweep_ticker(settings.ROUTING_SWEEP_SECONDS)))
            logger.info("embedded sweep ticker every %ss", settings.ROUTING_SWEEP_SECONDS)
            self.tasks.append(asyncio.create_task(rollup_ticker(ROLLUP_TICK_SECONDS)))
        if settings.DEMO_TRAFFIC:
            self.tasks.append(asyncio.create_task(run_demo_traffic()))
            logger.info("demo traffic generator started")

    def stop(self) -> None:
        """Stop the background work (tests; Daphne simply exits)."""
        if self.wrap_up_timers is not None:
            wrap_up_ending.disconnect(self.wrap_up_timers.schedule)
            self.wrap_up_timers = None
        for task in self.tasks:
            task.cancel()
        self.tasks.clear()
