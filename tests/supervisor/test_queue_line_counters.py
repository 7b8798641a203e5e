"""The queue counters the database keeps (supervisor.models.QueueLine, kept by triggers) stay
equal to a scan of the line through every way an item enters, moves and leaves it. The unit
suites run again on PostgreSQL in CI, where the triggers are statement-level."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models.functions import Coalesce
from django.utils import timezone

from routing.models import Offer, WorkItem
from routing.services.departures import customer_left
from routing.services.offers import accept_offer, decline_offer, expire_offers
from routing.services.rounds import run_round
from routing.services.sweep import run_sweep
from routing.services.transfers import transfer_work
from routing.services.work import close_work
from supervisor.history import today_totals
from supervisor.models import QueueLine
from supervisor.selectors import line_counts, queue_rows
from tests.factories import (
    chat_queue,
    decline_reason,
    disposition,
    make_agent,
    make_queue,
    start_chat,
)

pytestmark = pytest.mark.django_db


def scanned() -> dict[tuple[int, str], tuple[int, int]]:
    """The line read item by item: what the counters stand for."""
    found: dict[tuple[int, str], list[int]] = {}
    for queue_id, status, entered in WorkItem.objects.filter(
        status__in=[WorkItem.Status.QUEUED, WorkItem.Status.OFFERED]
    ).values_list("queue_id", "status", Coalesce("overflowed_at", "enqueued_at")):
        found.setdefault((queue_id, status), []).append(round(entered.timestamp() * 1000))
    return {key: (len(times), sum(times)) for key, times in found.items()}


def assert_counters_match_the_line(step: str) -> None:
    counted = {key: value for key, value in line_counts().items() if value[0] != 0}
    line = scanned()
    assert {key: items for key, (items, _) in counted.items()} == {
        key: items for key, (items, _) in line.items()
    }, step
    for key, (items, entered_ms) in line.items():
        # Each database rounds an item's time to the millisecond its own way.
        assert abs(counted[key][1] - entered_ms) <= items, (step, key)


def test_the_counters_follow_every_move_of_the_line(committed) -> None:
    backup = make_queue("Backup")
    main = chat_queue()
    main.overflow_queue, main.overflow_after_seconds = backup, 30
    main.save()
    ada = make_agent("ada", available=True, capacity=4, queues=[main, backup])
    bob = make_agent("bob", available=True, capacity=2, queues=[main])
    reason = decline_reason().pk
    with committed():
        chats = [start_chat(f"Customer {n}") for n in range(6)]
    assert_counters_match_the_line("enqueue and the rounds it asked for")
    with committed():
        run_round()
    assert_counters_match_the_line("offer")

    offered = list(Offer.objects.filter(outcome="pending").order_by("pk"))
    ada_offer = next(offer for offer in offered if offer.agent_id == ada.pk)
    with committed():
        accept_offer(agent=ada, offer_id=ada_offer.pk)
    assert_counters_match_the_line("accept")
    bob_offer = next((offer for offer in offered if offer.agent_id == bob.pk), None)
    if bob_offer is not None:
        with committed():
            decline_offer(agent=bob, offer_id=bob_offer.pk, reason_id=reason)
        assert_counters_match_the_line("decline")
    with committed():
        expire_offers(now=timezone.now() + timedelta(minutes=5))
    assert_counters_match_the_line("time-out")

    with committed():
        transfer_work(agent=ada, work_item_id=ada_offer.work_item_id, queue_id=backup.pk)
    assert_counters_match_the_line("transfer")
    with committed():
        run_sweep(now=timezone.now() + timedelta(seconds=31))
    assert_counters_match_the_line("overflow")

    waiting = WorkItem.objects.filter(status=WorkItem.Status.QUEUED).first()
    if waiting is not None:
        with committed():
            customer_left(interaction_id=waiting.interaction_id)
        assert_counters_match_the_line("abandon")
    for chat in chats:
        item = WorkItem.objects.filter(interaction=chat).order_by("-pk").first()
        if item.status == WorkItem.Status.OFFERED:
            with committed():
                accept_offer(agent=item.agent, offer_id=item.offers.get(outcome="pending").pk)
            assert_counters_match_the_line("accept after the time-out")
    for item in WorkItem.objects.filter(status=WorkItem.Status.ASSIGNED).select_related("agent"):
        with committed():
            close_work(agent=item.agent, work_item_id=item.pk, disposition_id=disposition())
        assert_counters_match_the_line("close")


def test_a_bulk_update_of_many_items_moves_each_counter_once(committed) -> None:
    with committed():
        for n in range(30):
            start_chat(f"Customer {n}")
    main = chat_queue()
    ada = make_agent("ada")
    rows_before = QueueLine.objects.count()
    WorkItem.objects.filter(status=WorkItem.Status.QUEUED).update(
        status=WorkItem.Status.OFFERED, agent=ada
    )
    assert_counters_match_the_line("bulk claim")
    # PostgreSQL: one statement, one row per queue and status and connection, not 30.
    assert QueueLine.objects.count() <= rows_before + 1
    assert line_counts()[(main.pk, WorkItem.Status.OFFERED)][0] == 30


def test_queue_rows_read_the_counters_not_the_line(
    committed, django_assert_max_num_queries
) -> None:
    with committed():
        for n in range(5):
            start_chat(f"Customer {n}")
    now = timezone.now() + timedelta(seconds=40)
    totals = today_totals(now)
    rows = {row["name"]: row for row in queue_rows(now, totals)}
    chat = rows["Web chat"]
    assert chat["waiting"] == 5
    assert 39 <= chat["average_wait_seconds"] <= 41
    assert 39 <= chat["longest_wait_seconds"] <= 41
    assert chat["waiting_past_alert"] == (5 if chat["alert_wait_seconds"] < 39 else 0)
    with django_assert_max_num_queries(5):
        queue_rows(now, totals)
