"""Asking for routing rounds: at most one per transaction, coalesced across processes.

Any transition that gives work a chance to move (a new item, freed capacity, a presence
change) calls ``request_round``. The round runs once the transaction commits, as a Celery
task (``routing.tasks`` connects to ``round_wanted``), unless one is pending already.

Two levels of coalescing:
- **Within a transaction.** Every request registers a ``transaction.on_commit`` callback, so
  none can be lost with a rolled-back neighbour; the requests of one thread share one
  ``_Requests`` until it is served, so the first of those callbacks to run does the work for
  all of them and the rest find nothing left to do. It asks for a round unconditionally if
  any request did, else only if some agent has room for one of the new items.
- **Across transactions and processes.** A pending flag in the shared cache: set only together
  with queueing the task that serves it, cleared only by a starting round, so a burst of
  triggers runs a few rounds, not one each. It expires on its own in case that task is lost
  (the sweep routes meanwhile).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache

from contactcenter.kernel.hooks import Hook, after_commit
from routing.models import WorkItem
from routing.selectors.snapshot import has_agent_with_room

ROUND_PENDING_KEY = "routing:round-pending"
ROUND_PENDING_SECONDS = 10
# How many requested rounds have started, for operators and for the coalescing tests.
ROUNDS_STARTED_KEY = "routing:rounds-started"


@dataclass(frozen=True)
class RoundWanted:
    """A round to queue now, or ``countdown`` seconds from now."""

    countdown: float | None = None


round_wanted: Hook[RoundWanted] = Hook("routing.round_wanted", required=True)


# Timers may fire a hair early by the wall clock (asyncio by up to its clock resolution), and
# a round whose clock reads just short of the wrap-up's end finds the capacity still held.
WRAP_UP_END_SLACK = timedelta(milliseconds=20)


@dataclass(frozen=True)
class WrapUpEnding:
    """An agent's wrap-up ends at ``at``, and with it the capacity it holds: a round is asked
    for then (``work.wrap_up_ended``), not at the close, when the capacity is still held."""

    agent_id: int
    at: datetime

    @property
    def due(self) -> datetime:
        """When to ask for the round: just past the end, by every clock involved."""
        return self.at + WRAP_UP_END_SLACK


# Sent after the close commits. Nothing is flagged until the wrap-up ends: the pending flag
# is taken only by the round asked for then, so it holds no other trigger back meanwhile.
wrap_up_ending: Hook[WrapUpEnding] = Hook("routing.wrap_up_ending", required=True)

# A new item's (queue, channel, units): a round is worth asking for only if some agent open
# for the channel in the queue has that much room.
RoomKey = tuple[int, int, int]


class _Requests:
    """Round requests not yet served, shared by the on-commit callbacks that serve them.

    Requests made in a transaction that then rolls back stay here and are served with the
    next transaction's requests: at worst one round that nothing needed (Django has no hook
    for a rollback, and a round with nothing to do costs little). No request is ever lost:
    each one's own callback serves the object when its transaction commits.
    """

    def __init__(self) -> None:
        self.unconditional = False
        self.room_for: set[RoomKey] = set()
        self.served = False

    def add(self, room_key: RoomKey | None) -> None:
        if room_key is None:
            self.unconditional = True
        else:
            self.room_for.add(room_key)

    def serve(self) -> None:
        if self.served:
            return
        # Marked first: a round run inline (eager mode) asks afresh for what it changes.
        self.served = True
        if getattr(_unserved, "requests", None) is self:
            _unserved.requests = None
        if self.unconditional or any(has_agent_with_room(*key) for key in sorted(self.room_for)):
            dispatch_round()


# The requests of this thread not yet served (a transaction's connection is the thread's).
_unserved = threading.local()


def request_round(*, if_room_for: WorkItem | None = None) -> None:
    """Run a routing round once the current transaction commits, unless one is pending.

    A new item (``if_room_for``) asks for a round only if, once it is committed, some agent
    has room for it: while everyone is full, a burst of arrivals runs no rounds at all, and
    the agents' freed capacity brings the round that serves it. Checked after the commit, so
    that capacity freed at the same moment either is seen here or triggers a round that sees
    the committed item.
    """
    room_key = None
    if if_room_for is not None:
        # An item taking a share of capacity takes at least one unit of whoever gets it.
        percent = if_room_for.queue.routing_config.capacity_percent
        units = 1 if percent is not None else if_room_for.units
        room_key = (if_room_for.queue_id, if_room_for.channel_id, units)
    requests = getattr(_unserved, "requests", None)
    if requests is None or requests.served:
        requests = _unserved.requests = _Requests()
    requests.add(room_key)
    after_commit(requests.serve)


def forget_unserved() -> None:
    """Drop this thread's requests not yet served (tests start each case afresh)."""
    _unserved.requests = None


def dispatch_round(*, countdown: float | None = None) -> None:
    """Queue a round now, unless one is pending already."""
    if cache.add(ROUND_PENDING_KEY, 1, timeout=ROUND_PENDING_SECONDS):
        round_wanted.send(RoundWanted(countdown=countdown))


def round_still_wanted() -> bool:
    return cache.get(ROUND_PENDING_KEY) is not None


def round_starting() -> None:
    """A requested round starts: clear the pending flag and count it.

    Cleared before the round reads its snapshot, so that work committed after this point
    requests a new round and work committed before it is in this round's snapshot.
    """
    cache.delete(ROUND_PENDING_KEY)
    if not cache.add(ROUNDS_STARTED_KEY, 1, timeout=None):
        try:
            cache.incr(ROUNDS_STARTED_KEY)
        except ValueError:
            cache.add(ROUNDS_STARTED_KEY, 1, timeout=None)


def rounds_started() -> int:
    return cache.get(ROUNDS_STARTED_KEY, 0)
