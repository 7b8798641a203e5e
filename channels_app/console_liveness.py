"""The consoles open in this server process, reported to the cache together.

One report per process every CONSOLE_HEARTBEAT_SECONDS, whatever the number of consoles: a
timer and a thread hop per console would cost the process more than its sockets do, and a
database write per console made an idle floor of 2,000 agents write 200 rows a second.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from django.conf import settings

from channels_app.db_calls import db_call
from routing.services import presence

logger = logging.getLogger(__name__)


class OpenConsoles:
    """Agents with a console open in this process (an agent may have several tabs), and the
    task that reports them while there are any."""

    def __init__(self) -> None:
        self.open: Counter[int] = Counter()
        self.reporter: asyncio.Task | None = None

    def opened(self, agent_id: int) -> None:
        self.open[agent_id] += 1
        loop = asyncio.get_running_loop()
        reporter = self.reporter
        if reporter is None or reporter.done() or reporter.get_loop() is not loop:
            self.reporter = loop.create_task(self.report_periodically())

    def closed(self, agent_id: int) -> None:
        self.open[agent_id] -= 1
        if self.open[agent_id] <= 0:
            del self.open[agent_id]
        if not self.open and self.reporter is not None:
            # Nothing left to report: a process without consoles keeps no timer.
            self.reporter.cancel()
            self.reporter = None

    def agent_ids(self) -> list[int]:
        return list(self.open)

    async def report_periodically(self) -> None:
        """While consoles are open, keep the absence sweep from signing their agents out.

        A closed tab or a dead server process simply stops reporting, so nothing needs
        cleaning up after a crash.
        """
        while True:
            await asyncio.sleep(settings.CONSOLE_HEARTBEAT_SECONDS)
            agent_ids = self.agent_ids()
            try:
                await db_call(presence.consoles_alive)(agent_ids)
            except Exception:
                # The sweep skips sign-outs while it cannot read the cache either.
                logger.exception("reporting %d open consoles failed", len(agent_ids))


open_consoles = OpenConsoles()
