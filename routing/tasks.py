"""Celery tasks: each unwraps its arguments and calls one routing service."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from routing.services.rounds import run_requested_round
from routing.services.sweep import run_sweep as sweep
from routing.services.triggers import RoundWanted

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
