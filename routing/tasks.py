from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from routing import services

TRANSIENT = (OperationalError, ConnectionError, TimeoutError)


# No automatic retry: a failed requested round asks for a new one itself.
@shared_task(ignore_result=True)
def run_routing_round() -> None:
    services.run_requested_round()


@shared_task(ignore_result=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=2)
def run_sweep() -> None:
    services.run_sweep()
