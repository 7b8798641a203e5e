"""Agents' presence: what they are open for, set by them, a supervisor or the system, and
the console heartbeat that keeps an agent at their desk."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from contactcenter.kernel.errors import NotFound
from routing.models import Agent, AgentStatusChange, Offer, PresenceStatus
from routing.services.steps import line_moved, return_to_queue

logger = logging.getLogger(__name__)


def set_presence(
    *,
    agent: Agent,
    status_id: int | None,
    now: datetime | None = None,
    cause: str = AgentStatusChange.Cause.AGENT,
    changed_by: AbstractBaseUser | None = None,
    only_from_status_id: int | None = None,
) -> Agent:
    """Change the agent's presence, recording who changed it and why; offers on channels the
    new status does not accept end.

    With ``only_from_status_id`` (a system change decided on an earlier read) nothing
    changes unless the agent is still in that status under the row lock.
    """
    now = now or timezone.now()
    status = None
    if status_id is not None:
        status = PresenceStatus.objects.filter(pk=status_id).first()
        if status is None:
            raise NotFound(f"No presence status {status_id}.", field="status_id")
    with transaction.atomic():
        agent = (
            Agent.objects.select_for_update(of=("self",)).select_related("status").get(pk=agent.pk)
        )
        if only_from_status_id is not None and agent.status_id != only_from_status_id:
            return agent
        if agent.status_id != (status.pk if status else None):
            AgentStatusChange.objects.create(
                agent=agent,
                from_status=agent.status,
                to_status=status,
                from_name=agent.status.name if agent.status else "Offline",
                to_name=status.name if status else "Offline",
                changed_at=now,
                changed_by=changed_by,
                cause=cause,
            )
            agent.status = status
            agent.status_since = now
            agent.save(update_fields=["status", "status_since"])
        open_channels = set(status.channels.values_list("pk", flat=True)) if status else set()
        stranded = (
            Offer.objects.select_for_update(of=("self",))
            .select_related("work_item")
            .filter(agent=agent, outcome=Offer.Outcome.PENDING)
            .exclude(work_item__channel_id__in=open_channels)
            # In the order a round takes the queues' line counters (supervisor's triggers),
            # so that the two cannot deadlock on them.
            .order_by("work_item__queue_id", "pk")
        )
        returned_to = {
            return_to_queue(offer, outcome=Offer.Outcome.CANCELLED, now=now) for offer in stranded
        }
        # Waiting visitors of every queue the agent serves learn whether anyone is there.
        line_moved(agent.pk, returned_to | set(agent.queues.values_list("pk", flat=True)))
    return agent


# Console liveness lives in the cache (Redis in production), not in the database: each server
# process reports all of its open consoles in one write per CONSOLE_HEARTBEAT_SECONDS, so an
# idle floor costs no database writes. ``Agent.console_seen_at`` is written only when a
# console opens or closes: it says that the agent works from a console at all (agents who
# never opened one are never signed out) and gives the sweep a floor for "last seen" that
# survives a cache that lost its keys.
CONSOLE_SEEN_KEY = "routing:console-seen:{}"
# When the cache's memory of liveness began: a key missing since then counts as seen at
# that moment, so a flushed or restarted Redis gives every console a fresh grace period
# instead of signing the whole floor out.
LIVENESS_EPOCH_KEY = "routing:console-liveness-epoch"


def console_opened(*, agent: Agent, now: datetime | None = None) -> None:
    """A console opened: the agent now works from one (and is at their desk)."""
    Agent.objects.filter(pk=agent.pk).update(console_seen_at=now or timezone.now())


def console_closed(*, agent: Agent, now: datetime | None = None) -> None:
    """A console closed: the grace period before the sweep signs the agent out starts now,
    unless another console of theirs keeps reporting in."""
    Agent.objects.filter(pk=agent.pk).update(console_seen_at=now or timezone.now())


def consoles_alive(agent_ids: Collection[int], *, now: datetime | None = None) -> None:
    """The open consoles of one server process report in, all in one cache write."""
    if not agent_ids:
        return
    seen = (now or timezone.now()).timestamp()
    cache.set_many(
        {CONSOLE_SEEN_KEY.format(agent_id): seen for agent_id in agent_ids},
        # Longer than the grace period: a key that expired was not refreshed for longer
        # than that, and a missing key then counts as seen when the epoch began.
        timeout=2 * settings.CONSOLE_GRACE_SECONDS,
    )


def _consoles_last_seen(agent_ids: list[int], now: datetime) -> dict[int, float]:
    """When each agent's consoles last reported in, in one cache read: a missing key counts
    as seen when the liveness epoch began (which starts now if the cache lost it too)."""
    keys = {CONSOLE_SEEN_KEY.format(agent_id): agent_id for agent_id in agent_ids}
    found = cache.get_many([LIVENESS_EPOCH_KEY, *keys])
    epoch = found.get(LIVENESS_EPOCH_KEY)
    if epoch is None:
        cache.add(LIVENESS_EPOCH_KEY, now.timestamp(), timeout=None)
        epoch = cache.get(LIVENESS_EPOCH_KEY, now.timestamp())
    return {agent_id: found.get(key, epoch) for key, agent_id in keys.items()}


# When the sweep last looked for absent agents (a timestamp): liveness only changes once per
# CONSOLE_HEARTBEAT_SECONDS, so sweeps in between skip the look, which reads every agent
# with an open console.
ABSENCE_CHECKED_KEY = "routing:absence-checked"


def absence_check_due(now: datetime) -> bool:
    """Whether a heartbeat period passed since the last look for absent agents (and claim
    this one). Two sweeps racing here both look, which only costs a second read."""
    try:
        checked = cache.get(ABSENCE_CHECKED_KEY)
        # A clock that went back (or a test's) makes a look due, never blocks it for long.
        if checked is not None and 0 <= now.timestamp() - checked < (
            settings.CONSOLE_HEARTBEAT_SECONDS
        ):
            return False
        cache.set(ABSENCE_CHECKED_KEY, now.timestamp(), timeout=None)
    except Exception:
        logger.exception("console liveness unreadable: nobody is signed out this sweep")
        return False
    return True


def sign_out_absent_agents(*, now: datetime | None = None) -> int:
    """Set offline the agents with a presence whose consoles stopped reporting in.

    Without this an agent who closes the browser stays available and every item offered to
    them waits out the push time-out. Agents who never opened a console (the demo's simulated
    agents) are left alone. Their assigned work stays theirs: it shows on the supervisor view
    and on their console when they return. If the cache cannot be read nobody is signed out:
    an outage of Redis must not empty the floor.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.CONSOLE_GRACE_SECONDS)
    # Only agents whose console opened or closed before the cutoff can be absent.
    candidates = Agent.objects.filter(status__isnull=False, console_seen_at__lte=cutoff)
    agent_ids = list(candidates.values_list("pk", flat=True))
    if not agent_ids:
        return 0
    try:
        last_seen = _consoles_last_seen(agent_ids, now)
    except Exception:
        logger.exception("console liveness unreadable: nobody is signed out this sweep")
        return 0
    signed_out = 0
    for agent_id in agent_ids:
        if last_seen[agent_id] > cutoff.timestamp():
            continue
        try:
            with transaction.atomic():
                # Checked again under the row lock: a console may have opened meanwhile.
                agent = candidates.select_for_update().filter(pk=agent_id).first()
                if agent is None:
                    continue
                set_presence(
                    agent=agent, status_id=None, now=now, cause=AgentStatusChange.Cause.ABSENT
                )
                signed_out += 1
        except Exception:
            # One agent's failure must not keep the others at an empty desk or stop the sweep.
            logger.exception("could not sign out absent agent %s", agent_id)
    return signed_out
