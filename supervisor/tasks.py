from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from supervisor import history


@shared_task(
    ignore_result=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=2
)
def roll_up_intervals() -> None:
    history.rollup_finished_intervals()
