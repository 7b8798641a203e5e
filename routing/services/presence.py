"""Agents' presence: what they are open for, set by them, a supervisor or the system, and
the console heartbeat that keeps an agent at their desk."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
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
        )
        returned_to = {
            return_to_queue(offer, outcome=Offer.Outcome.CANCELLED, now=now) for offer in stranded
        }
        # Waiting visitors of every queue the agent serves learn whether anyone is there.
        line_moved(agent.pk, returned_to | set(agent.queues.values_list("pk", flat=True)))
    return agent


def console_alive(*, agent: Agent, now: datetime | None = None) -> None:
    """An open console reports that the agent is at their desk."""
    Agent.objects.filter(pk=agent.pk).update(console_seen_at=now or timezone.now())


def sign_out_absent_agents(*, now: datetime | None = None) -> int:
    """Set offline the agents with a presence whose consoles stopped reporting in.

    Without this an agent who closes the browser stays available and every item offered to
    them waits out the push time-out. Agents who never opened a console (the demo's simulated
    agents) are left alone. Their assigned work stays theirs: it shows on the supervisor view
    and on their console when they return.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.CONSOLE_GRACE_SECONDS)
    absent = Agent.objects.filter(status__isnull=False, console_seen_at__lte=cutoff)
    signed_out = 0
    for agent_id in list(absent.values_list("pk", flat=True)):
        try:
            with transaction.atomic():
                # Checked again under the row lock: a console may have reported in meanwhile.
                agent = absent.select_for_update().filter(pk=agent_id).first()
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
