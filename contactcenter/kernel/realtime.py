"""Pushing events to browsers: one envelope, sent only after the transaction commits."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

from contactcenter.kernel.hooks import Hook, after_commit
from contactcenter.kernel.protocol import PROTOCOL_VERSION

logger = logging.getLogger(__name__)

SUPERVISORS_GROUP = "supervisors"


def agent_group(agent_id: int) -> str:
    return f"agent.{agent_id}"


def interaction_group(interaction_id: int) -> str:
    return f"interaction.{interaction_id}"


# Every frame ``envelope`` builds, pushed or sent by a consumer, is announced here. Nothing is
# connected in production, so a frame costs a call over no receivers; the tests connect the
# check of every frame against its schema (contactcenter.kernel.protocol, tests/conftest.py).
frame_built: Hook[dict[str, Any]] = Hook("kernel.frame_built")


def envelope(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    frame = {"type": event_type, "v": PROTOCOL_VERSION, "data": data}
    frame_built.send(frame)
    return frame


def publish(group: str, event_type: str, data: dict[str, Any]) -> None:
    """Send one event to a group's sockets once the current transaction commits."""
    publish_current(group, event_type, lambda: data)


def publish_current(group: str, event_type: str, read: Callable[[], dict[str, Any]]) -> None:
    """Send an event whose data is read after the commit, so it shows the committed state.

    Used for state snapshots (an agent's load) that a concurrent transaction may change
    between this one's read and its commit.
    """

    def send_committed_state() -> None:
        _group_send(group, {"type": "push.frame", "frame": envelope(event_type, read())})

    after_commit(send_committed_state)


def publish_batch(read: Callable[[], list[tuple[str, str, dict[str, Any]]]]) -> None:
    """Send many events once the transaction commits, their data read after the commit.

    One trip through the event loop for all of them: a round's hundreds of offers would
    otherwise pay the sync-to-async hop once per frame.
    """

    def send_committed_batch() -> None:
        send_now(read())

    after_commit(send_committed_batch)


def send_now(messages: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Send events right away (the caller has committed), in one trip to the event loop."""
    if messages:
        _run_on_layer_loop(lambda: _send_all(messages))


async def _send_all(messages: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Every group's frames in order, the groups side by side (a round reaches many agents)."""
    by_group: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for group, event_type, data in messages:
        by_group.setdefault(group, []).append((event_type, data))
    # Bounded: the layer's connection pool refuses more than a few dozen at once.
    slots = asyncio.Semaphore(LAYER_SENDS_AT_ONCE)
    await asyncio.gather(
        *(_send_in_order(group, frames, slots) for group, frames in by_group.items())
    )


async def _send_in_order(
    group: str, frames: list[tuple[str, dict[str, Any]]], slots: asyncio.Semaphore
) -> None:
    """A group's frames in one layer message when there are several (one trip to Redis)."""
    layer = get_channel_layer()
    envelopes = [envelope(event_type, data) for event_type, data in frames]
    message = (
        {"type": "push.frame", "frame": envelopes[0]}
        if len(envelopes) == 1
        else {"type": "push.frames", "frames": envelopes}
    )
    async with slots:
        try:
            await layer.group_send(group, message)
        except Exception:
            # One unreachable group must not silence the rest of the batch.
            logger.exception("could not push %s to %s", [f["type"] for f in envelopes], group)


def nudge_supervisors(
    *,
    agents: Iterable[int] = (),
    queues: Iterable[int] = (),
    work_items: Iterable[int] = (),
) -> None:
    """Tell dashboards what changed, by id: the agents whose rows, the queues whose lines and
    the work items whose places changed. Each process's dashboards gather the ids and read
    only those (channels_app.dashboard_feed). A nudge naming nothing says "the line moved":
    queue rows and the waiting list are read again, no agent row."""
    message = {
        "type": "dashboard.changed",
        "agents": sorted(set(agents)),
        "queues": sorted(set(queues)),
        "work_items": sorted(set(work_items)),
    }

    def nudge() -> None:
        _group_send(SUPERVISORS_GROUP, message)

    after_commit(nudge)


def _group_send(group: str, message: dict[str, Any]) -> None:
    _run_on_layer_loop(lambda: get_channel_layer().group_send(group, message))


# Sends from sync code to a cross-process layer go through one long-lived event loop per
# process: ``async_to_sync`` outside an event loop starts a loop, a thread and a fresh Redis
# connection on every call (about 2-3 ms a send against 0.1 ms on a kept loop; STACK-NOTES 3).
# The in-memory layer's queues belong to the server's own loop, so it keeps ``async_to_sync``,
# which hands the send to that loop.
#
# The sender does not wait for its send: the sends of a process wait in an outbox and the
# layer loop runs them one after another in the order given (so a socket's frames arrive in
# the order they were sent). A Daphne thread that waited for each of its pushes spent most of
# its time waiting, and a floor of 2,000 consoles queued seconds deep behind those threads.
LAYER_SEND_TIMEOUT_SECONDS = 10
LAYER_SENDS_AT_ONCE = 8
# Sends waiting past this many mean the layer is down or far behind: newer ones are dropped
# (and logged) rather than filling the memory; browsers catch up from their snapshot on
# reconnect.
OUTBOX_LIMIT = 100_000
# How long a process leaving waits for its last sends (a management command, the intake).
OUTBOX_FLUSH_SECONDS = 5


async def _awaited(make_coroutine: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    return await make_coroutine()


def _log_failed_push(send: asyncio.Future) -> None:
    if not send.cancelled() and send.exception() is not None:
        logger.error("a push to the channel layer failed", exc_info=send.exception())


class _Outbox:
    """This process's sends, run on the layer loop in order without their senders waiting."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending: deque[Callable[[], Coroutine[Any, Any, Any]]] = deque()
        self.lock = threading.Lock()
        self.draining = False
        self.empty = threading.Event()
        self.empty.set()

    def put(self, make_coroutine: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        with self.lock:
            if len(self.pending) >= OUTBOX_LIMIT:
                logger.error("%d pushes waiting for the channel layer: one dropped", OUTBOX_LIMIT)
                return
            self.pending.append(make_coroutine)
            self.empty.clear()
            start, self.draining = not self.draining, True
        if start:
            asyncio.run_coroutine_threadsafe(self.drain(), self.loop)

    async def drain(self) -> None:
        while True:
            with self.lock:
                if not self.pending:
                    self.draining = False
                    self.empty.set()
                    return
                make_coroutine = self.pending.popleft()
            # A send slower than LAYER_SEND_TIMEOUT_SECONDS stops holding the others back but
            # is not cancelled (a round's batch of offers would be cut off half sent).
            send = asyncio.ensure_future(make_coroutine())
            send.add_done_callback(_log_failed_push)
            # Failed (logged by the callback) or slow: the next sends go on.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(send), LAYER_SEND_TIMEOUT_SECONDS)

    def flush(self, timeout: float = OUTBOX_FLUSH_SECONDS) -> bool:
        """Wait until every send handed over so far has been made; False on time-out."""
        return self.empty.wait(timeout)


class _LayerLoop:
    lock = threading.Lock()
    loop: asyncio.AbstractEventLoop | None = None
    outbox: _Outbox | None = None
    pid: int | None = None

    @classmethod
    def get_outbox(cls) -> _Outbox:
        with cls.lock:
            # A forked worker inherits the attributes but not the thread: start its own.
            if cls.outbox is None or cls.pid != os.getpid():
                loop = asyncio.new_event_loop()
                threading.Thread(
                    target=loop.run_forever, name="channel-layer-loop", daemon=True
                ).start()
                cls.loop, cls.pid, cls.outbox = loop, os.getpid(), _Outbox(loop)
                atexit.register(cls.outbox.flush)
            return cls.outbox


def flush_pushes(timeout: float = OUTBOX_FLUSH_SECONDS) -> bool:
    """Wait until the pushes this process handed over so far are sent, for a process about to
    exit (Celery's worker children leave without running ``atexit``). False on time-out."""
    outbox = _LayerLoop.outbox
    if outbox is None or _LayerLoop.pid != os.getpid():
        return True
    return outbox.flush(timeout)


def _run_on_layer_loop(make_coroutine: Callable[[], Coroutine[Any, Any, Any]]) -> None:
    if isinstance(get_channel_layer(), InMemoryChannelLayer):
        async_to_sync(_awaited)(make_coroutine)
        return
    _LayerLoop.get_outbox().put(make_coroutine)
