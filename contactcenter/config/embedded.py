"""Work that runs inside the Daphne process in embedded mode (no beat, no worker)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from asgiref.sync import sync_to_async
from django.conf import settings

from contactcenter.demo.traffic import run_demo_traffic
from routing.services.sweep import run_sweep
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


class StartBackgroundTasks:
    """ASGI middleware that starts the embedded background tasks on the first connection."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app
        self.tasks: list[asyncio.Task] = []
        self.started = False

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if not self.started:
            self.started = True
            self.start()
        await self.app(scope, receive, send)

    def start(self) -> None:
        if settings.EMBEDDED_TICKER:
            self.tasks.append(asyncio.create_task(sweep_ticker(settings.ROUTING_SWEEP_SECONDS)))
            logger.info("embedded sweep ticker every %ss", settings.ROUTING_SWEEP_SECONDS)
            self.tasks.append(asyncio.create_task(rollup_ticker(ROLLUP_TICK_SECONDS)))
        if settings.DEMO_TRAFFIC:
            self.tasks.append(asyncio.create_task(run_demo_traffic()))
            logger.info("demo traffic generator started")
