"""Capacity freed at the end of a wrap-up brings a round then, in production (a Celery task
due at that moment) and in the embedded mode (a timer on the Daphne process's loop)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta

import pytest
from channels.db import database_sync_to_async
from django.core.cache import cache
from django.utils import timezone

from contactcenter.config.celery import app as celery_app
from contactcenter.config.embedded import StartBackgroundTasks
from routing import tasks
from routing.models import Agent, Offer, RoutingConfig, WorkItem
from routing.services.offers import accept_offer
from routing.services.triggers import ROUND_PENDING_KEY
from routing.services.work import close_work
from tests.factories import disposition, make_agent, start_chat, work_item_of


def agent_full_with_one_waiting(
    wrap_up_seconds: int, committed: Callable[[], AbstractContextManager] = nullcontext
) -> tuple[Agent, WorkItem, WorkItem]:
    """An agent working a chat that fills them, and a second chat waiting behind it."""
    RoutingConfig.objects.filter(name="Web chat").update(wrap_up_seconds=wrap_up_seconds)
    ada = make_agent("ada", capacity=2, available=True)
    with committed():
        first = start_chat("First")
    offer = Offer.objects.get(agent=ada, outcome=Offer.Outcome.PENDING)
    with committed():
        accept_offer(agent=ada, offer_id=offer.pk)
    with committed():
        second = work_item_of(start_chat("Second"))
    assert second.status == WorkItem.Status.QUEUED
    return ada, work_item_of(first), second


@pytest.mark.django_db
def test_a_close_with_a_wrap_up_queues_a_round_for_its_end_and_flags_nothing_meanwhile(
    committed, settings
) -> None:
    ada, first, second = agent_full_with_one_waiting(30, committed)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    cache.delete(ROUND_PENDING_KEY)
    with celery_app.connection_for_read() as broker:
        queue = broker.SimpleQueue(celery_app.conf.task_default_queue, no_ack=True)
        queue.clear()
        with committed():
            close_work(agent=ada, work_item_id=first.pk, disposition_id=disposition())
        message = queue.get(timeout=2)
        queue.close()
    first.refresh_from_db()
    assert message.headers["task"] == tasks.end_wrap_up.name
    due = datetime.fromisoformat(message.headers["eta"])
    assert first.wrap_up_until < due <= first.wrap_up_until + timedelta(milliseconds=100)
    assert message.payload[0] == [ada.pk]
    # Nothing waits on the pending flag meanwhile: other triggers still get their rounds.
    assert cache.get(ROUND_PENDING_KEY) is None

    # The eta comes and a worker runs the task.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    WorkItem.objects.filter(pk=first.pk).update(wrap_up_until=timezone.now())
    with committed():
        tasks.end_wrap_up(ada.pk)
    second.refresh_from_db()
    assert (second.status, second.agent) == (WorkItem.Status.OFFERED, ada)


@pytest.mark.asyncio
@pytest.mark.usefixtures("reference_data")
async def test_the_embedded_mode_refills_at_the_wrap_up_end_without_a_sweep() -> None:
    ada, first, second = await database_sync_to_async(agent_full_with_one_waiting)(1)
    background = StartBackgroundTasks(app=None)
    background.start()  # the sweep ticker stays off in tests
    try:
        ended_with = await database_sync_to_async(disposition)()
        await database_sync_to_async(close_work)(
            agent=ada, work_item_id=first.pk, disposition_id=ended_with
        )
        status_of = database_sync_to_async(
            lambda: WorkItem.objects.values_list("status", "agent_id").get(pk=second.pk)
        )
        assert await status_of() == (WorkItem.Status.QUEUED, None), "wrap-up holds the room"
        deadline = timezone.now() + timedelta(seconds=3)
        while await status_of() != (WorkItem.Status.OFFERED, ada.pk):
            assert timezone.now() < deadline, "no round came at the end of the wrap-up"
            await asyncio.sleep(0.05)
    finally:
        background.stop()
