"""The figures' definitions (``supervisor.metrics``) against numbers worked out by hand.

Every test counts into the intervals 10:00–10:15 and 10:15–10:30 of 2026-11-20 (UTC), so
nothing depends on the clock.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest

from supervisor.metrics import (
    ABANDONED,
    ANSWERED,
    EXPIRED,
    MOVED,
    SIGNED_OUT,
    WAITING,
    AgentCounters,
    BotResolution,
    Intervals,
    ItemFacts,
    Move,
    OfferFacts,
    Presence,
    QueueCounters,
    StatusSpan,
    Totals,
    Visit,
    status_spans,
    tally,
    tally_to_json,
    time_use,
    visits,
)

QUARTER = timedelta(minutes=15)
# Queues and their service-level times (seconds).
SALES, SUPPORT, EXPERTS = 1, 2, 3
SL = {SALES: 20, SUPPORT: 30, EXPERTS: 60}
ANN, BOB = 7, 8
# Statuses as the figures see them: Available takes work; a break does not.
AVAILABLE, BREAK = Presence("Available", open_for_work=True), Presence("Break")


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 11, 20, hour, minute, second, tzinfo=UTC)


FIRST, SECOND = at(10, 0), at(10, 15)


def half_hour() -> Intervals:
    return Intervals(at(10, 0), at(10, 30), QUARTER)


def item(
    number: int,
    *,
    queue: int = SALES,
    channel: str = "chat",
    status: str = "closed",
    enqueued: datetime,
    accepted: datetime | None = None,
    closed: datetime | None = None,
    wrap_up_until: datetime | None = None,
    agent: int | None = None,
    moves: tuple[Move, ...] = (),
) -> ItemFacts:
    return ItemFacts(
        work_item_id=number,
        queue_id=queue,
        channel=channel,
        status=status,
        enqueued_at=enqueued,
        accepted_at=accepted,
        closed_at=closed,
        wrap_up_until=wrap_up_until,
        agent_id=agent,
        moves=moves,
    )


def count(items=(), offers=(), bots=(), intervals: Intervals | None = None):
    return tally(items, offers, bots, service_level_seconds=SL, intervals=intervals or half_hour())


def figures(counters: QueueCounters) -> dict[str, float]:
    return {name: value for name, value in asdict(counters).items() if value}


# --- queue stays ----------------------------------------------------------------------------


def overflowed_twice(number: int = 1, *, left_sales_after: int = 25) -> ItemFacts:
    """Entered Sales at 10:00:00, overflowed to Support after ``left_sales_after`` s, then to
    Experts at 10:00:50, answered there at 10:01:00 by Ann and closed at 10:05:00. The moves
    are stored out of order: the stays follow their times, not the order given."""
    to_support = at(10, 0, left_sales_after)
    return item(
        number,
        queue=EXPERTS,
        enqueued=at(10, 0),
        accepted=at(10, 1),
        closed=at(10, 5),
        agent=ANN,
        moves=(
            Move(SUPPORT, EXPERTS, at(10, 0, 50)),
            Move(SALES, SUPPORT, to_support),
        ),
    )


def test_an_overflowed_item_stays_in_each_queue_in_turn() -> None:
    assert visits(overflowed_twice()) == [
        Visit(SALES, at(10, 0), MOVED, at(10, 0, 25)),
        Visit(SUPPORT, at(10, 0, 25), MOVED, at(10, 0, 50)),
        Visit(EXPERTS, at(10, 0, 50), ANSWERED, at(10, 1)),
    ]
    # 25 s in Sales, 25 s in Support, 10 s in Experts.
    assert [stay.wait_seconds for stay in visits(overflowed_twice())] == [25, 25, 10]


def test_stays_end_as_answered_abandoned_expired_or_still_waiting() -> None:
    waiting = item(1, status="queued", enqueued=at(10, 0))
    left = item(2, status="abandoned", enqueued=at(10, 0), closed=at(10, 0, 40))
    expired = item(3, status="expired", enqueued=at(10, 0), closed=at(10, 5))
    assert visits(waiting) == [Visit(SALES, at(10, 0), WAITING, None)]
    assert visits(waiting)[0].wait_seconds is None
    assert visits(left) == [Visit(SALES, at(10, 0), ABANDONED, at(10, 0, 40))]
    assert visits(expired) == [Visit(SALES, at(10, 0), EXPIRED, at(10, 5))]


def test_an_overflowed_item_counts_as_offered_in_each_queue_and_moved_out_of_all_but_the_last() -> (
    None
):
    # Item 1 left Sales after 25 s, past Sales' 20 s: it can no longer be answered in time
    # there, so Sales' service level counts it (0 in time out of 1). Item 2 left Sales after
    # 15 s, within the time: not counted in Sales' service level. Both spent 10:00:25 or
    # 10:00:15 .. 10:00:50 in Support, under Support's 30 s for item 1 (25 s) and 35 s for
    # item 2 (past 30 s: counted against Support). Both were answered in Experts after 10 s
    # (within 60 s).
    result = count([overflowed_twice(1), overflowed_twice(2, left_sales_after=15)])
    queues = result.queues[FIRST]
    assert figures(queues[(SALES, "chat")]) == {"offered": 2, "moved_out": 2, "sl_counted": 1}
    assert queues[(SALES, "chat")].service_level == 0.0
    assert figures(queues[(SUPPORT, "chat")]) == {"offered": 2, "moved_out": 2, "sl_counted": 1}
    # Both answered after 10 s: ASA 10 s, service level 2/2. Handle time 10:01 → 10:05 = 240 s
    # each, in the queue that answered them.
    assert figures(queues[(EXPERTS, "chat")]) == {
        "offered": 2,
        "handled": 2,
        "answered_in_sl": 2,
        "sl_counted": 2,
        "wait_seconds": 20.0,
        "handle_ended": 2,
        "handle_seconds": 480.0,
    }
    assert queues[(EXPERTS, "chat")].average_speed_of_answer == 10.0
    assert queues[(EXPERTS, "chat")].average_handle_time == 240.0
    assert queues[(EXPERTS, "chat")].service_level == 1.0
    assert result.agents[FIRST][ANN] == AgentCounters(
        handled=2, handle_ended=2, handle_seconds=480.0
    )
    # Per queue over all channels: the same, one channel here.
    totals = Totals()
    totals.add_tally(result)
    assert totals.per_queue()[SALES].moved_out == 2


def test_service_level_excludes_short_abandons_and_counts_late_ones() -> None:
    # Sales, 20 s: 4 offered at 10:01:00. Answered at 10 s and 35 s → 1 in time; one abandon
    # at 5 s (short, excluded) and one at 40 s (counted) → service level 1 / 3.
    # ASA = (10 + 35) / 2 = 22.5 s.
    entered = at(10, 1)
    result = count(
        [
            item(1, enqueued=entered, accepted=at(10, 1, 10), agent=ANN),
            item(2, enqueued=entered, accepted=at(10, 1, 35), agent=BOB),
            item(3, status="abandoned", enqueued=entered, closed=at(10, 1, 5)),
            item(4, status="abandoned", enqueued=entered, closed=at(10, 1, 40)),
        ]
    )
    sales = result.queues[FIRST][(SALES, "chat")]
    assert figures(sales) == {
        "offered": 4,
        "handled": 2,
        "answered_in_sl": 1,
        "sl_counted": 3,
        "abandoned": 2,
        "wait_seconds": 45.0,
    }
    assert sales.service_level == pytest.approx(1 / 3)
    assert sales.average_speed_of_answer == 22.5
    # Still being worked: no handle time yet.
    assert sales.average_handle_time is None
    assert result.agents[FIRST][ANN].handled == 1
    assert result.agents[FIRST][BOB].handled == 1


def test_the_service_level_time_itself_is_still_within_it() -> None:
    # Answered at exactly 20 s: in time. Abandoned at exactly 20 s: a short abandon. → 1 / 1.
    entered = at(10, 2)
    result = count(
        [
            item(1, enqueued=entered, accepted=at(10, 2, 20), agent=ANN),
            item(2, status="abandoned", enqueued=entered, closed=at(10, 2, 20)),
        ]
    )
    sales = result.queues[FIRST][(SALES, "chat")]
    assert (sales.answered_in_sl, sales.sl_counted, sales.abandoned) == (1, 1, 1)


def test_an_expired_item_counts_against_the_service_level_when_it_ends() -> None:
    # Entered 10:10, ended by the maximum wait at 10:20: offered in the first interval,
    # expired (and counted out of time) in the second. Nothing else: service level 0 / 1.
    result = count([item(1, status="expired", enqueued=at(10, 10), closed=at(10, 20))])
    assert figures(result.queues[FIRST][(SALES, "chat")]) == {"offered": 1}
    assert figures(result.queues[SECOND][(SALES, "chat")]) == {"expired": 1, "sl_counted": 1}
    assert result.queues[SECOND][(SALES, "chat")].service_level == 0.0
    assert result.queues[FIRST][(SALES, "chat")].service_level is None


def test_a_waiting_item_is_offered_and_nothing_else() -> None:
    result = count([item(1, status="queued", enqueued=at(10, 10))])
    assert figures(result.queues[FIRST][(SALES, "chat")]) == {"offered": 1}


# --- handle time ----------------------------------------------------------------------------


def test_handle_time_includes_wrap_up_and_counts_when_the_work_ended() -> None:
    # Email 1: answered 10:10:00, closed 10:14:00, wrap-up until 10:16:00 → 360 s, ended in
    # the second interval although answered (and closed) in the first.
    # Email 2: answered 10:20:00, closed 10:25:00, no wrap-up → 300 s, second interval.
    # Second interval: AHT (360 + 300) / 2 = 330 s. Email 3 is still being worked.
    emails = [
        item(
            1,
            channel="email",
            enqueued=at(10, 9),
            accepted=at(10, 10),
            closed=at(10, 14),
            wrap_up_until=at(10, 16),
            agent=ANN,
        ),
        item(
            2,
            channel="email",
            enqueued=at(10, 19, 50),
            accepted=at(10, 20),
            closed=at(10, 25),
            agent=ANN,
        ),
        item(3, channel="email", status="assigned", enqueued=at(10, 26), accepted=at(10, 27)),
    ]
    result = count(emails)
    first = result.queues[FIRST][(SALES, "email")]
    second = result.queues[SECOND][(SALES, "email")]
    # First interval: email 1 offered and answered after 60 s (past 20 s).
    assert figures(first) == {"offered": 1, "handled": 1, "sl_counted": 1, "wait_seconds": 60.0}
    # Second: emails 2 and 3 offered, answered after 10 s and 60 s; two handle times ended.
    assert figures(second) == {
        "offered": 2,
        "handled": 2,
        "answered_in_sl": 1,
        "sl_counted": 2,
        "wait_seconds": 70.0,
        "handle_ended": 2,
        "handle_seconds": 660.0,
    }
    assert second.average_handle_time == 330.0
    assert first.average_handle_time is None
    assert result.agents[FIRST][ANN] == AgentCounters(handled=1)
    assert result.agents[SECOND][ANN] == AgentCounters(
        handled=1, handle_ended=2, handle_seconds=660.0
    )


def test_a_wrap_up_that_ends_after_the_intervals_counts_no_handle_time_in_them() -> None:
    late = item(
        1,
        enqueued=at(10, 20),
        accepted=at(10, 20, 5),
        closed=at(10, 29),
        wrap_up_until=at(10, 31),
        agent=ANN,
    )
    assert late.work_ended_at == at(10, 31)
    second = count([late]).queues[SECOND][(SALES, "chat")]
    assert (second.handled, second.handle_ended, second.handle_seconds) == (1, 0, 0.0)


# --- agents' offers and bot resolutions -----------------------------------------------------


def test_offers_count_as_accepted_declined_or_missed_when_answered() -> None:
    offers = [
        OfferFacts(ANN, "accepted", at(10, 1)),
        OfferFacts(ANN, "declined", at(10, 2)),
        OfferFacts(ANN, "timed_out", at(10, 16)),
        # Withdrawn by the system, never answered: neither counts.
        OfferFacts(ANN, "cancelled", at(10, 3)),
        OfferFacts(ANN, "pending", None),
        OfferFacts(BOB, "timed_out", at(10, 4)),
    ]
    result = count(offers=offers)
    assert result.agents[FIRST][ANN] == AgentCounters(accepted=1, declined=1)
    assert result.agents[SECOND][ANN] == AgentCounters(missed=1)
    assert result.agents[FIRST][BOB] == AgentCounters(missed=1)


def test_events_outside_the_intervals_are_ignored() -> None:
    # Entered at 09:59:50 and answered at 10:00:05 (15 s, in time): handled in the first
    # interval, but offered before it. Entered at 10:29:50 and answered at 10:30:10: offered
    # in the second interval, answered after it (the end is excluded).
    items = [
        item(1, enqueued=at(9, 59, 50), accepted=at(10, 0, 5), agent=ANN),
        item(2, enqueued=at(10, 29, 50), accepted=at(10, 30, 10), agent=ANN),
        # Entirely before: counted nowhere.
        item(3, status="abandoned", enqueued=at(9, 50), closed=at(9, 55)),
    ]
    offers = [
        OfferFacts(ANN, "declined", at(9, 59, 59)),
        OfferFacts(ANN, "declined", at(10, 0)),
        OfferFacts(ANN, "declined", at(10, 30)),
    ]
    bots = [
        BotResolution("chat", at(9, 59)),
        BotResolution("chat", at(10, 29, 59)),
        BotResolution("chat", at(10, 30)),
    ]
    result = count(items, offers, bots)
    assert figures(result.queues[FIRST][(SALES, "chat")]) == {
        "handled": 1,
        "answered_in_sl": 1,
        "sl_counted": 1,
        "wait_seconds": 15.0,
    }
    assert figures(result.queues[SECOND][(SALES, "chat")]) == {"offered": 1}
    assert result.agents[FIRST][ANN] == AgentCounters(handled=1, declined=1)
    assert ANN not in result.agents[SECOND]
    assert {begin: dict(per) for begin, per in result.bot_resolved.items()} == {SECOND: {"chat": 1}}
    assert set(result.queues) == {FIRST, SECOND}


# --- intervals ------------------------------------------------------------------------------


def test_intervals_split_time_on_their_boundaries() -> None:
    # 10:00–10:40 in quarters: the last interval, 10:30–10:40, is short.
    intervals = Intervals(at(10, 0), at(10, 40), QUARTER)
    assert list(intervals) == [
        (at(10, 0), at(10, 15)),
        (at(10, 15), at(10, 30)),
        (at(10, 30), at(10, 40)),
    ]
    # Exactly one interval: nothing (not even 0 s) for the next one.
    assert list(intervals.split(at(10, 0), at(10, 15))) == [(at(10, 0), 900.0)]
    # 10:14 → 10:31: 60 s, a whole quarter, 60 s.
    assert list(intervals.split(at(10, 14), at(10, 31))) == [
        (at(10, 0), 60.0),
        (at(10, 15), 900.0),
        (at(10, 30), 60.0),
    ]
    # Clipped to 10:00–10:40: 900 + 900 + 600 s.
    assert list(intervals.split(at(9, 50), at(10, 50))) == [
        (at(10, 0), 900.0),
        (at(10, 15), 900.0),
        (at(10, 30), 600.0),
    ]
    assert list(intervals.split(at(10, 15), at(10, 15))) == []
    assert list(intervals.split(at(10, 40), at(11, 0))) == []
    assert list(intervals.split(at(9, 0), at(10, 0))) == []
    # An event belongs to the interval it falls in; the start is in, the end is out.
    assert intervals.bucket(at(10, 0)) == at(10, 0)
    assert intervals.bucket(at(10, 14, 59)) == at(10, 0)
    assert intervals.bucket(at(10, 15)) == at(10, 15)
    assert intervals.bucket(at(10, 39, 59)) == at(10, 30)
    assert intervals.bucket(at(10, 40)) is None
    assert intervals.bucket(at(9, 59, 59)) is None
    assert intervals.bucket(None) is None


def test_intervals_need_a_positive_step() -> None:
    with pytest.raises(ValueError, match="positive"):
        Intervals(at(10, 0), at(10, 30), timedelta(0))


# --- time in status and occupancy -----------------------------------------------------------


def test_status_spans_start_from_the_status_at_the_start_and_follow_the_changes() -> None:
    # Ann: Available from before 10:00, Break at 10:20, signed out at 10:25.
    # Bob: signed out at 10:00, Available at 10:05 (and a change after the end, ignored).
    spans = status_spans(
        [
            (ANN, BREAK, at(10, 20)),
            (ANN, SIGNED_OUT, at(10, 25)),
            (BOB, AVAILABLE, at(10, 5)),
            (BOB, BREAK, at(10, 30)),
        ],
        {ANN: AVAILABLE, BOB: SIGNED_OUT},
        start=at(10, 0),
        end=at(10, 30),
    )
    assert sorted(spans, key=lambda span: (span.agent_id, span.start)) == [
        StatusSpan(ANN, AVAILABLE, at(10, 0), at(10, 20)),
        StatusSpan(ANN, BREAK, at(10, 20), at(10, 25)),
        StatusSpan(ANN, SIGNED_OUT, at(10, 25), at(10, 30)),
        StatusSpan(BOB, SIGNED_OUT, at(10, 0), at(10, 5)),
        StatusSpan(BOB, AVAILABLE, at(10, 5), at(10, 30)),
    ]


def test_an_agent_with_no_status_at_the_start_is_signed_out_until_their_first_change() -> None:
    # Bob has no status at 10:00 (none given): Offline, taking no work, until Available at
    # 10:10.
    assert Presence("Offline", open_for_work=False) == SIGNED_OUT
    spans = status_spans([(BOB, AVAILABLE, at(10, 10))], {}, start=at(10, 0), end=at(10, 30))
    assert sorted(spans, key=lambda span: span.start) == [
        StatusSpan(BOB, SIGNED_OUT, at(10, 0), at(10, 10)),
        StatusSpan(BOB, AVAILABLE, at(10, 10), at(10, 30)),
    ]


def test_time_in_status_and_occupancy_count_concurrent_chats_once() -> None:
    # Ann: Available 10:00–10:20, Break 10:20–10:25, signed out 10:25–10:30.
    spans = [
        StatusSpan(ANN, AVAILABLE, at(10, 0), at(10, 20)),
        StatusSpan(ANN, BREAK, at(10, 20), at(10, 25)),
        StatusSpan(ANN, SIGNED_OUT, at(10, 25), at(10, 30)),
    ]
    # Chat 1: 10:02–10:10. Chat 2: 10:05–10:08 + wrap-up to 10:12. Together 10:02–10:12 =
    # 600 s, not 480 + 420 = 900 s. Email 3 (Support): 10:14–10:17, 60 s in the first
    # interval and 120 s in the second.
    items = [
        item(1, enqueued=at(10, 1), accepted=at(10, 2), closed=at(10, 10), agent=ANN),
        item(
            2,
            enqueued=at(10, 4),
            accepted=at(10, 5),
            closed=at(10, 8),
            wrap_up_until=at(10, 12),
            agent=ANN,
        ),
        item(
            3,
            queue=SUPPORT,
            channel="email",
            enqueued=at(10, 13),
            accepted=at(10, 14),
            closed=at(10, 17),
            agent=ANN,
        ),
        # Never answered: holds nothing.
        item(4, status="abandoned", enqueued=at(10, 3), closed=at(10, 4)),
    ]
    use = time_use(spans, items, intervals=half_hour(), now=at(10, 30))
    # Time in status keeps every status, whether it takes work or not.
    assert {begin: dict(per[ANN]) for begin, per in use.in_status.items()} == {
        FIRST: {"Available": 900.0},
        SECOND: {"Available": 300.0, "Break": 300.0, "Offline": 300.0},
    }
    # Open for work: Available only, 10:00–10:15 = 900 s, then 10:15–10:20 = 300 s.
    assert use.open_for_work[FIRST][ANN] == 900.0
    assert use.open_for_work[SECOND][ANN] == 300.0
    # Staffed: open for work 10:00–10:20 or holding work (10:02–10:12, 10:14–10:17, all
    # inside it) = 10:00–10:20: 900 s, then 300 s. The break and the time signed out are not.
    assert use.staffed[FIRST][ANN] == 900.0
    assert use.staffed[SECOND][ANN] == 300.0
    # Busy: first interval 600 s (chats) + 60 s (email) = 660 s of 900 s; second: 120 s of
    # 300 s → 0.4.
    assert use.busy[FIRST][ANN] == 660.0
    assert use.busy[SECOND][ANN] == 120.0
    assert use.busy[SECOND][ANN] / use.staffed[SECOND][ANN] == 0.4
    assert dict(use.busy_by_channel[FIRST]) == {"chat": 600.0, "email": 60.0}
    assert dict(use.busy_by_queue[FIRST]) == {SALES: 600.0, SUPPORT: 60.0}
    assert dict(use.busy_by_queue[SECOND]) == {SUPPORT: 120.0}


def test_a_break_is_staffed_only_while_work_is_still_held_during_it() -> None:
    # Ann: Available 10:00–10:10, then Break 10:10–10:30. Bob: on Break all half hour.
    spans = [
        StatusSpan(ANN, AVAILABLE, at(10, 0), at(10, 10)),
        StatusSpan(ANN, BREAK, at(10, 10), at(10, 30)),
        StatusSpan(BOB, BREAK, at(10, 0), at(10, 30)),
    ]
    # Ann goes on her break still holding two chats: chat 1 10:04–10:12 + wrap-up to 10:14,
    # chat 2 10:08–10:17.
    items = [
        item(
            1,
            enqueued=at(10, 3),
            accepted=at(10, 4),
            closed=at(10, 12),
            wrap_up_until=at(10, 14),
            agent=ANN,
        ),
        item(2, enqueued=at(10, 7), accepted=at(10, 8), closed=at(10, 17), agent=ANN),
    ]
    use = time_use(spans, items, intervals=half_hour(), now=at(10, 30))
    assert {begin: dict(per[ANN]) for begin, per in use.in_status.items()} == {
        FIRST: {"Available": 600.0, "Break": 300.0},
        SECOND: {"Break": 900.0},
    }
    # Open for work: 10:00–10:10 = 600 s, nothing after.
    assert use.open_for_work[FIRST][ANN] == 600.0
    assert use.open_for_work[SECOND].get(ANN, 0.0) == 0.0
    # Busy: 10:04–10:14 ∪ 10:08–10:17 = 10:04–10:17: 10:04–10:15 = 660 s, 10:15–10:17 = 120 s.
    assert use.busy[FIRST][ANN] == 660.0
    assert use.busy[SECOND][ANN] == 120.0
    # Staffed: 10:00–10:10 (open) ∪ 10:04–10:17 (holding work) = 10:00–10:17, counted once
    # (not 600 + 780 = 1380 s): 900 s, then 10:15–10:17 = 120 s. Of the 1200 s break,
    # 10:10–10:17 (420 s) is staffed, 10:17–10:30 (780 s) is not.
    assert use.staffed[FIRST][ANN] == 900.0
    assert use.staffed[SECOND][ANN] == 120.0
    # Occupancy 660 / 900 = 0.7333, then 120 / 120 = 1; over the half hour
    # (660 + 120) / (900 + 120) = 780 / 1020 = 0.7647 (with the break staffed it would be
    # 780 / 1800 = 0.4333).
    assert use.busy[FIRST][ANN] / use.staffed[FIRST][ANN] == pytest.approx(0.7333, abs=5e-5)
    assert use.busy[SECOND][ANN] / use.staffed[SECOND][ANN] == 1.0
    busy = sum(per[ANN] for per in use.busy.values())
    staffed = sum(per[ANN] for per in use.staffed.values())
    assert (busy, staffed) == (780.0, 1020.0)
    assert busy / staffed == pytest.approx(0.7647, abs=5e-5)
    # Bob held nothing on his break: in Break 900 s each interval, never staffed.
    assert {begin: dict(per[BOB]) for begin, per in use.in_status.items()} == {
        FIRST: {"Break": 900.0},
        SECOND: {"Break": 900.0},
    }
    assert [use.staffed[begin].get(BOB, 0.0) for begin in (FIRST, SECOND)] == [0.0, 0.0]
    assert [use.open_for_work[begin].get(BOB, 0.0) for begin in (FIRST, SECOND)] == [0.0, 0.0]
    assert [use.busy[begin].get(BOB, 0.0) for begin in (FIRST, SECOND)] == [0.0, 0.0]


def test_work_still_held_counts_up_to_now() -> None:
    # Chat answered at 10:20, still open at 10:26 (now): 360 s. Email closed at 10:22 with
    # wrap-up until 10:40, still wrapping up at 10:26: held 10:21–10:26 = 300 s. Union:
    # 10:20–10:26 = 360 s; nothing after now.
    items = [
        item(1, status="assigned", enqueued=at(10, 19), accepted=at(10, 20), agent=ANN),
        item(
            2,
            channel="email",
            enqueued=at(10, 20),
            accepted=at(10, 21),
            closed=at(10, 22),
            wrap_up_until=at(10, 40),
            agent=ANN,
        ),
    ]
    use = time_use([], items, intervals=half_hour(), now=at(10, 26))
    assert use.busy[SECOND][ANN] == 360.0
    assert dict(use.busy_by_channel[SECOND]) == {"chat": 360.0, "email": 300.0}


# --- rollups --------------------------------------------------------------------------------


def test_totals_from_rollup_json_equal_totals_from_the_tally() -> None:
    items = [
        overflowed_twice(1),
        item(2, status="abandoned", enqueued=at(10, 1), closed=at(10, 1, 40)),
        item(3, status="expired", channel="email", enqueued=at(10, 10), closed=at(10, 20)),
        item(
            4,
            queue=SUPPORT,
            enqueued=at(10, 9),
            accepted=at(10, 10),
            closed=at(10, 14),
            wrap_up_until=at(10, 16),
            agent=BOB,
        ),
    ]
    offers = [OfferFacts(BOB, "declined", at(10, 5)), OfferFacts(ANN, "timed_out", at(10, 20))]
    bots = [BotResolution("chat", at(10, 3)), BotResolution("sms", at(10, 25))]
    result = count(items, offers, bots)
    from_json, from_tally = Totals(), Totals()
    for begin, _end in half_hour():
        from_json.add_json(tally_to_json(result, begin))
    from_tally.add_tally(result)

    def plain(totals: Totals) -> dict:
        return {
            "queues": {key: asdict(value) for key, value in totals.queues.items()},
            "agents": {key: asdict(value) for key, value in totals.agents.items()},
            "bot_resolved": dict(totals.bot_resolved),
        }

    assert plain(from_json) == plain(from_tally)
    # And the sums are what the items say: Bob's handle time 10:10 → 10:16 = 360 s.
    assert from_json.agents[BOB] == AgentCounters(
        handled=1, handle_ended=1, handle_seconds=360.0, declined=1
    )
    assert from_json.queues[(SALES, "email")].expired == 1
    assert dict(from_json.bot_resolved) == {"chat": 1, "sms": 1}
