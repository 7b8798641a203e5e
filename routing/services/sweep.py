"""The periodic sweep: the clock and safety net of routing."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from routing.services.conversations import settle_idle_bot_conversations
from routing.services.departures import end_chats_left_behind
from routing.services.offers import expire_offers
from routing.services.presence import absence_check_due, sign_out_absent_agents
from routing.services.queue_limits import apply_queue_limits
from routing.services.rounds import run_round
from routing.services.work import announce_wrap_ups_ended


def run_sweep(*, now: datetime | None = None) -> int:
    """Time out overdue offers, set absent agents offline, end chats whose visitor did not
    come back and idle conversations with the bot, apply queue overflow and maximum waits,
    then run a round (which also routes work whose wrap-up or skill widening came due).
    Returns the number of offers made.

    With nothing to do every step is one indexed query that finds nothing (the look for
    absent agents, which reads every open console's liveness, runs once per heartbeat
    period), so a sweep costs a handful of round trips whatever the size of the floor."""
    now = now or timezone.now()
    expire_offers(now=now)
    if absence_check_due(now):
        sign_out_absent_agents(now=now)
    end_chats_left_behind(now=now)
    settle_idle_bot_conversations(now=now)
    announce_wrap_ups_ended(now=now)
    apply_queue_limits(now=now)
    return len(run_round(now=now))
