"""Celery tasks: each unwraps its arguments and calls one routing service."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from routing.services.rounds import run_requested_round
from routing.services.sweep import run_sweep as sweep
from routing.services.triggers import RoundWanted, WrapUpEnding
from routing.services.work import wrap_up_ended

TRANSIENT = (OperationalError, ConnectionError, TimeoutError)


# No automatic retry: a failed requested round asks for a new one itself.
@shared_task(ignore_result=True)
def run_routing_round() -> None:
    run_requested_round()


@shared_task(ignore_result=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=2)
def run_sweep() -> None:
    sweep()


def queue_round(wanted: RoundWanted) -> None:
    """Receiver of ``triggers.round_wanted``: the round runs in a worker (inline when eager)."""
    run_routing_round.apply_async(countdown=wanted.countdown)


@shared_task(ignore_result=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=2)
def end_wrap_up(agent_id: int) -> None:
    wrap_up_ended(agent_id=agent_id)


def queue_wrap_up_end(ending: WrapUpEnding) -> None:
    """Receiver of ``triggers.wrap_up_ending``: a task due when the wrap-up ends.

    An eager task would run at once, whatever its eta: in the embedded mode the Daphne
    process keeps the timer itself (``contactcenter.config.embedded``).
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    end_wrap_up.apply_async(args=[ending.agent_id], eta=ending.due)
