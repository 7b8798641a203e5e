"""Reports and today's totals (``supervisor.history``) over work driven through the real
routing services at fixed times on 2026-11-20, against figures worked out by hand.

No test lets a transaction commit, so no round runs on its own: every round, time-out, overflow
and presence change happens when, and at the time, the test says.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from contactcenter.crm.models import Case, Customer, Interaction
from routing.models import (
    Agent,
    IntakeRule,
    PresenceStatus,
    Queue,
    RoutingConfig,
    ServiceChannel,
    WorkItem,
    WorkItemMove,
)
from routing.services.departures import customer_left
from routing.services.offers import accept_offer, decline_offer, expire_offers
from routing.services.presence import set_presence
from routing.services.queue_limits import apply_queue_limits
from routing.services.queueing import enqueue
from routing.services.rounds import run_round
from routing.services.work import close_work
from supervisor import history, metrics
from supervisor.history import Period
from supervisor.models import IntervalRollup
from tests.factories import chat_queue, decline_reason, disposition, make_agent, make_queue, status

pytestmark = pytest.mark.django_db

QUARTER = timedelta(minutes=15)
DAY = timezone.make_aware(datetime(2026, 11, 20))  # noqa: DTZ001 (made aware here)


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return DAY + timedelta(hours=hour, minutes=minute, seconds=second)


FIRST, SECOND = at(10, 0), at(10, 15)
HALF_HOUR = Period(at(10, 0), at(10, 30), QUARTER)


def contact(channel: str, entered: datetime, *, name: str = "Customer") -> WorkItem:
    """A contact on ``channel`` enqueued at ``entered`` as an inbound adapter does."""
    customer = Customer.objects.create(name=name)
    case = Case.objects.create(customer=customer, subject=channel)
    interaction = Interaction.objects.create(case=case, channel=channel)
    return enqueue(interaction, now=entered)


def offered_to(agent: Agent, now: datetime) -> int:
    """Run a round at ``now``; it must make exactly one offer, to ``agent``."""
    [offer] = run_round(now=now)
    assert offer.agent_id == agent.pk
    return offer.id


def close(agent: Agent, item: WorkItem, now: datetime) -> None:
    close_work(agent=agent, work_item_id=item.pk, disposition_id=disposition(), now=now)


def set_wrap_up(queue: Queue, seconds: int) -> None:
    RoutingConfig.objects.filter(pk=queue.routing_config_id).update(wrap_up_seconds=seconds)


def rows(report: dict[str, Any], part: str, key: str) -> dict[tuple[datetime, str], dict]:
    return {(row["start"], row[key]): row for row in report[part]}


def plain(totals: metrics.Totals) -> dict[str, Any]:
    return {
        "queues": {key: asdict(value) for key, value in totals.queues.items()},
        "agents": {key: asdict(value) for key, value in totals.agents.items()},
        "bot_resolved": dict(totals.bot_resolved),
    }


# --- a half hour on the floor ---------------------------------------------------------------


def busy_half_hour() -> tuple[Agent, Agent]:
    """Ann (Web chat and Email) and Bob (Web chat) from 10:00 to 10:30.

    Web chat: service level 20 s, push time-out 30 s, wrap-up 60 s, a missed offer moves the
    agent to "Missed offer". Email: 20 s, no wrap-up. Messaging (SMS): nobody, maximum wait
    300 s.

    10:00:00 Ann Available.
    10:01:00 chat 1 enters; offered to Ann, accepted at 10:01:10 (10 s).
    10:02:00 chat 2 enters; offered to Ann, declined at 10:02:05.
    10:02:30 Bob Available; chat 2 offered to Bob, who misses it (times out at 10:03:00 and
             is moved to "Missed offer").
    10:03:10 chat 2's customer leaves (waited 70 s).
    10:04:00 chat 3 enters; its customer leaves at 10:04:05 (5 s).
    10:05:00 Bob Available again.
    10:10:00 chat 4 enters; offered to Bob (more room than Ann), accepted at 10:10:25 (25 s).
    10:11:00 an SMS enters Messaging, where nobody works.
    10:12:00 email 1 enters; offered to Ann, accepted at 10:12:30 (30 s), while she has chat 1.
    10:13:00 Ann closes chat 1; wrap-up until 10:14:00.
    10:16:00 Ann closes email 1.
    10:17:30 the SMS has waited past 300 s: it ends (expired).
    10:20:00 Bob closes chat 4; wrap-up until 10:21:00. A bot conversation on chat is settled
             as resolved when its customer leaves. Ann goes on Break.
    10:25:00 Ann signs out.
    """
    web_chat = chat_queue()
    set_wrap_up(web_chat, 60)
    Queue.objects.filter(name="Messaging").update(max_wait_seconds=300)
    ann = make_agent("ann", queues=[web_chat, Queue.objects.get(name="Email")])
    bob = make_agent("bob", queues=[web_chat])
    available = status("Available").pk

    set_presence(agent=ann, status_id=available, now=at(10, 0))
    chat1 = contact("chat", at(10, 1))
    accept_offer(agent=ann, offer_id=offered_to(ann, at(10, 1)), now=at(10, 1, 10))
    chat2 = contact("chat", at(10, 2))
    decline_offer(
        agent=ann,
        offer_id=offered_to(ann, at(10, 2)),
        reason_id=decline_reason().pk,
        now=at(10, 2, 5),
    )
    assert run_round(now=at(10, 2, 5)) == []
    set_presence(agent=bob, status_id=available, now=at(10, 2, 30))
    offered_to(bob, at(10, 2, 30))
    assert expire_offers(now=at(10, 3)) == 1
    bob.refresh_from_db()
    assert bob.status == status("Missed offer")
    customer_left(interaction_id=chat2.interaction_id, now=at(10, 3, 10))
    chat3 = contact("chat", at(10, 4))
    customer_left(interaction_id=chat3.interaction_id, now=at(10, 4, 5))
    set_presence(agent=bob, status_id=available, now=at(10, 5))
    chat4 = contact("chat", at(10, 10))
    accept_offer(agent=bob, offer_id=offered_to(bob, at(10, 10)), now=at(10, 10, 25))
    sms = contact("sms", at(10, 11))
    email1 = contact("email", at(10, 12))
    accept_offer(agent=ann, offer_id=offered_to(ann, at(10, 12)), now=at(10, 12, 30))
    close(ann, chat1, at(10, 13))
    close(ann, email1, at(10, 16))
    assert apply_queue_limits(now=at(10, 17, 30)) == (0, 1)
    close(bob, chat4, at(10, 20))
    bot_chat = Interaction.objects.create(
        case=Case.objects.create(customer=Customer.objects.create(name="Self-served")),
        channel="chat",
        bot_status=Interaction.BotStatus.ACTIVE,
        bot_answers=1,
    )
    customer_left(interaction_id=bot_chat.pk, now=at(10, 20))
    set_presence(agent=ann, status_id=status("Break").pk, now=at(10, 20))
    set_presence(agent=ann, status_id=None, now=at(10, 25))

    statuses = {
        item.pk: item.status
        for item in WorkItem.objects.filter(pk__in=[chat1.pk, chat2.pk, chat3.pk, chat4.pk])
    }
    assert statuses == {
        chat1.pk: "closed",
        chat2.pk: "abandoned",
        chat3.pk: "abandoned",
        chat4.pk: "closed",
    }
    assert WorkItem.objects.get(pk=sms.pk).status == "expired"
    return ann, bob


QUEUE_FIGURES = (
    "offered",
    "handled",
    "abandoned",
    "expired",
    "moved_out",
    "answered_in_sl",
    "sl_counted",
    "average_speed_of_answer",
    "average_handle_time",
    "service_level",
    "occupancy",
)


def figures(*values: Any) -> dict[str, Any]:
    return dict(zip(QUEUE_FIGURES, values, strict=True))


def queue_figures(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in QUEUE_FIGURES}


def test_report_counts_each_queue_per_interval_when_each_event_happened() -> None:
    busy_half_hour()
    report = history.report(HALF_HOUR, now=at(11, 0))
    assert (report["start"], report["end"], report["step_seconds"]) == (at(10, 0), at(10, 30), 900)
    by_queue = rows(report, "by_queue", "queue")
    assert sorted(by_queue) == [
        (start, name)
        for start in (FIRST, SECOND)
        for name in ("Email", "Messaging", "Voice", "Web chat")
    ]
    # Web chat, 10:00–10:15: chats 1–4 entered. Answered: chat 1 after 10 s (in time) and
    # chat 4 after 25 s → ASA (10 + 25) / 2 = 17.5 s. Abandoned: chat 2 after 70 s (counts
    # against the service level) and chat 3 after 5 s (a short abandon, excluded) → service
    # level 1 / 3. Chat 1's work ended at 10:14:00 with wrap-up: 10:01:10 → 10:14:00 = 770 s.
    # Occupancy: busy = Ann held chat 1 10:01:10 → 10:14:00 = 770 s, Bob chat 4 10:10:25 →
    # 10:15 = 275 s: 1045 s. Both held Web chat work in the interval, so the staffed time is
    # theirs. Ann: Available (open for work) all 900 s, her work inside it. Bob: open for work
    # 10:02:30–10:03 (30 s) and 10:05–10:15 (600 s), not while offline before 10:02:30 nor in
    # "Missed offer" 10:03–10:05; his chat 4 is inside it: 630 s. 1045 / (900 + 630) =
    # 1045 / 1530 = 0.68301 → 0.683.
    assert queue_figures(by_queue[(FIRST, "Web chat")]) == (
        figures(4, 2, 2, 0, 0, 1, 3, 17.5, 770.0, 0.3333, 0.683)
    )
    # 10:15–10:30: nothing entered or answered; chat 4's work ended at 10:21:00 (wrap-up
    # included): 10:10:25 → 10:21:00 = 635 s. Busy: Bob held it 10:15 → 10:21 = 360 s. Only
    # Bob held Web chat work in this interval (Ann's chat 1 ended at 10:14:00, her email is
    # another queue's), so the staffed time is his alone: Available all 900 s → 360 / 900 =
    # 0.4. Ann's 300 s staffed (Available 10:15–10:20) is not counted: she held no chat.
    assert queue_figures(by_queue[(SECOND, "Web chat")]) == figures(
        0, 0, 0, 0, 0, 0, 0, None, 635.0, None, 0.4
    )
    assert [by_queue[(start, "Web chat")]["staffed_seconds"] for start in (FIRST, SECOND)] == [
        1530.0,
        900.0,
    ]
    # Email: entered 10:12, answered after 30 s (late) → service level 0 / 1, ASA 30 s; it
    # ended at 10:16 → 10:12:30 → 10:16:00 = 210 s in the second interval. Ann alone held it:
    # 10:12:30 → 10:15 = 150 s of her 900 s staffed → 0.1667; then 10:15 → 10:16 = 60 s of
    # her 300 s staffed (Available 10:15–10:20, the email inside it) → 0.2.
    assert queue_figures(by_queue[(FIRST, "Email")]) == figures(
        1, 1, 0, 0, 0, 0, 1, 30.0, None, 0.0, 0.1667
    )
    assert queue_figures(by_queue[(SECOND, "Email")]) == figures(
        0, 0, 0, 0, 0, 0, 0, None, 210.0, None, 0.2
    )
    # Messaging: the SMS entered at 10:11 and expired at 10:17:30 → counted out of time.
    # Nobody held its work: staffed 0, no occupancy.
    assert queue_figures(by_queue[(FIRST, "Messaging")]) == figures(
        1, 0, 0, 0, 0, 0, 0, None, None, None, None
    )
    assert queue_figures(by_queue[(SECOND, "Messaging")]) == figures(
        0, 0, 0, 1, 0, 0, 1, None, None, 0.0, None
    )
    assert [by_queue[(start, "Messaging")]["staffed_seconds"] for start in (FIRST, SECOND)] == [
        0,
        0,
    ]
    assert by_queue[(FIRST, "Voice")]["offered"] == 0
    assert by_queue[(FIRST, "Web chat")]["service_level_goal"] == 0.8


def test_report_counts_each_channel_per_interval_with_the_bot_resolutions() -> None:
    busy_half_hour()
    report = history.report(HALF_HOUR, now=at(11, 0))
    by_channel = rows(report, "by_channel", "channel")
    assert sorted(by_channel) == [
        (start, channel) for start in (FIRST, SECOND) for channel in ("chat", "email", "sms")
    ]
    # One queue per channel here, so the same counts as the queues, and the same occupancy:
    # out of the staffed time of those who held the channel's work in the interval. Chat:
    # Ann and Bob in 10:00–10:15, 1045 / (900 + 630) = 1045 / 1530 = 0.683; Bob alone in
    # 10:15–10:30, 360 / 900 = 0.4.
    assert queue_figures(by_channel[(FIRST, "chat")]) == figures(
        4, 2, 2, 0, 0, 1, 3, 17.5, 770.0, 0.3333, 0.683
    )
    assert queue_figures(by_channel[(SECOND, "chat")]) == figures(
        0, 0, 0, 0, 0, 0, 0, None, 635.0, None, 0.4
    )
    # Email: Ann alone held it, 150 s of her 900 s staffed → 0.1667, then 60 s of her 300 s
    # (Available 10:15–10:20) → 0.2; Bob's staffed time is not the email channel's.
    assert queue_figures(by_channel[(FIRST, "email")]) == figures(
        1, 1, 0, 0, 0, 0, 1, 30.0, None, 0.0, 0.1667
    )
    assert queue_figures(by_channel[(SECOND, "email")]) == figures(
        0, 0, 0, 0, 0, 0, 0, None, 210.0, None, 0.2
    )
    assert [by_channel[(start, "chat")]["staffed_seconds"] for start in (FIRST, SECOND)] == [
        1530.0,
        900.0,
    ]
    assert [by_channel[(start, "email")]["staffed_seconds"] for start in (FIRST, SECOND)] == [
        900.0,
        300.0,
    ]
    # SMS: nobody held any, though Ann and Bob were staffed: staffed 0, no occupancy.
    assert queue_figures(by_channel[(SECOND, "sms")]) == figures(
        0, 0, 0, 1, 0, 0, 1, None, None, 0.0, None
    )
    assert by_channel[(SECOND, "sms")]["staffed_seconds"] == 0
    # The bot settled one chat at 10:20.
    assert [by_channel[(start, "chat")]["bot_resolved"] for start in (FIRST, SECOND)] == [0, 1]
    assert by_channel[(SECOND, "email")]["bot_resolved"] == 0


def test_report_gives_each_agents_offers_handling_time_in_status_and_occupancy() -> None:
    busy_half_hour()
    agents = {row["agent"]: row for row in history.report(HALF_HOUR, now=at(11, 0))["agents"]}
    assert sorted(agents) == ["ann", "bob"]
    # Ann: Available 10:00–10:20 (1200 s), Break 10:20–10:25 (300 s), offline 10:25–10:30
    # (300 s): open for work 1200 s (Available only). She accepted chat 1 and email 1 and
    # declined chat 2. Handle times 770 s and 210 s → AHT 490 s. She held chat 1
    # (10:01:10–10:14:00) and email 1 (10:12:30–10:16:00) at once for a while: busy
    # 10:01:10–10:16:00 = 890 s, counted once. All of it while Available, so staffed = open
    # for work = 1200 s (her break is not staffed) → 890 / 1200 = 0.7417.
    assert agents["ann"] == {
        **agents["ann"],
        "team": "",
        "seconds_in_status": {"Available": 1200, "Break": 300, "Offline": 300},
        "open_for_work_seconds": 1200,
        "staffed_seconds": 1200,
        "handled": 2,
        "average_handle_time": 490.0,
        "accepted": 2,
        "declined": 1,
        "missed": 0,
        "occupancy": 0.7417,
    }
    # Bob: offline 10:00–10:02:30 (150 s), Available 10:02:30–10:03 (30 s), "Missed offer"
    # 10:03–10:05 (120 s, takes no work), Available 10:05–10:30 (1500 s): 1530 s Available,
    # open for work 1530 s. He missed chat 2 and took chat 4: 10:10:25 → 10:21:00 = 635 s,
    # while Available: staffed 1530 s → 635 / 1530 = 0.415.
    assert agents["bob"] == {
        **agents["bob"],
        "seconds_in_status": {"Available": 1530, "Missed offer": 120, "Offline": 150},
        "open_for_work_seconds": 1530,
        "staffed_seconds": 1530,
        "handled": 1,
        "average_handle_time": 635.0,
        "accepted": 1,
        "declined": 0,
        "missed": 1,
        "occupancy": 0.415,
    }
    assert "signed_in_seconds" not in agents["ann"]


def test_todays_totals_add_up_the_day_so_far() -> None:
    ann, bob = busy_half_hour()
    totals = history.today_totals(at(10, 30))
    web_chat = totals.per_queue()[chat_queue().pk]
    # The two Web chat intervals of the report together: 4 offered, 2 handled, 2 abandoned,
    # service level 1 / 3, ASA 17.5 s, AHT (770 + 635) / 2 = 702.5 s.
    assert (web_chat.offered, web_chat.handled, web_chat.abandoned) == (4, 2, 2)
    assert (web_chat.answered_in_sl, web_chat.sl_counted) == (1, 3)
    assert web_chat.average_speed_of_answer == 17.5
    assert web_chat.average_handle_time == 702.5
    sms = totals.queues[(Queue.objects.get(name="Messaging").pk, "sms")]
    assert (sms.offered, sms.expired, sms.sl_counted) == (1, 1, 1)
    assert totals.agents[ann.pk] == metrics.AgentCounters(
        handled=2, handle_ended=2, handle_seconds=980.0, accepted=2, declined=1
    )
    assert totals.agents[bob.pk] == metrics.AgentCounters(
        handled=1, handle_ended=1, handle_seconds=635.0, accepted=1, missed=1
    )
    assert dict(totals.bot_resolved) == {"chat": 1}


# --- overflow -------------------------------------------------------------------------------


def test_an_overflowed_item_is_offered_in_each_queue_and_counted_late_only_where_it_was() -> None:
    """Sales (service level 20 s) overflows to Support after 30 s; Support (30 s) overflows to
    Experts after 20 s; Experts' service level is 60 s."""
    experts = make_queue("Experts")
    support = make_queue("Support")
    sales = make_queue("Sales")
    Queue.objects.filter(pk=experts.pk).update(service_level_seconds=60)
    Queue.objects.filter(pk=support.pk).update(
        service_level_seconds=30, overflow_queue=experts, overflow_after_seconds=20
    )
    Queue.objects.filter(pk=sales.pk).update(
        service_level_seconds=20, overflow_queue=support, overflow_after_seconds=30
    )
    IntakeRule.objects.create(name="Everything to Sales", queue=sales, position=1)
    ann = make_agent("ann", queues=[experts])

    first = contact("chat", at(10, 0))
    second = contact("chat", at(10, 0, 10))
    assert (first.queue, second.queue) == (sales, sales)
    # 10:00:31: the first has waited 31 s in Sales (past 30 s): to Support.
    assert apply_queue_limits(now=at(10, 0, 31)) == (1, 0)
    # 10:00:52: the second has waited 42 s in Sales: to Support; the first has waited 21 s in
    # Support (past 20 s): to Experts.
    assert apply_queue_limits(now=at(10, 0, 52)) == (2, 0)
    assert list(
        WorkItemMove.objects.order_by("moved_at", "work_item_id").values_list(
            "work_item_id", "from_queue__name", "to_queue__name", "moved_at"
        )
    ) == [
        (first.pk, "Sales", "Support", at(10, 0, 31)),
        (first.pk, "Support", "Experts", at(10, 0, 52)),
        (second.pk, "Sales", "Support", at(10, 0, 52)),
    ]
    # 10:01:00 Ann signs in for Experts and is offered the first; the second's customer
    # leaves Support at 10:01:05 (13 s there); Ann accepts the first at 10:01:20 (28 s in
    # Experts) and closes it at 10:03:00.
    set_presence(agent=ann, status_id=status("Available").pk, now=at(10, 1))
    offer_id = offered_to(ann, at(10, 1))
    customer_left(interaction_id=second.interaction_id, now=at(10, 1, 5))
    accept_offer(agent=ann, offer_id=offer_id, now=at(10, 1, 20))
    close(ann, first, at(10, 3))

    by_queue = rows(history.report(HALF_HOUR, now=at(11, 0)), "by_queue", "queue")
    # Sales: both entered and moved on, after 31 s and 42 s, both past its 20 s: 0 / 2.
    assert queue_figures(by_queue[(FIRST, "Sales")]) == figures(
        2, 0, 0, 0, 2, 0, 2, None, None, 0.0, None
    )
    # Support: both entered; the first moved on after 21 s (within 30 s: not counted), the
    # second's customer left after 13 s (a short abandon: not counted). No service level.
    assert queue_figures(by_queue[(FIRST, "Support")]) == figures(
        2, 0, 1, 0, 1, 0, 0, None, None, None, None
    )
    # Experts: the first entered at 10:00:52 and was answered after 28 s (within 60 s):
    # service level 1 / 1, ASA 28 s, AHT 10:01:20 → 10:03:00 = 100 s. Ann, its only member,
    # held it 100 s of the 840 s she was staffed (Available from 10:01) → 0.119.
    assert queue_figures(by_queue[(FIRST, "Experts")]) == figures(
        1, 1, 0, 0, 0, 1, 1, 28.0, 100.0, 1.0, 0.119
    )
    # Today's totals say the same.
    totals = history.today_totals(at(10, 30)).per_queue()
    assert (totals[sales.pk].offered, totals[sales.pk].moved_out) == (2, 2)
    assert (totals[sales.pk].answered_in_sl, totals[sales.pk].sl_counted) == (0, 2)
    assert (totals[support.pk].offered, totals[support.pk].moved_out) == (2, 1)
    assert (totals[support.pk].abandoned, totals[support.pk].sl_counted) == (1, 0)
    assert (totals[experts.pk].handled, totals[experts.pk].service_level) == (1, 1.0)


# --- up to now ------------------------------------------------------------------------------


def test_a_report_up_to_now_counts_a_wrap_up_once_it_has_ended() -> None:
    # Ann Available from 10:00; a chat entered 10:01, answered 10:01:10, closed 10:13 with a
    # five-minute wrap-up: her work on it ends at 10:18:00.
    set_wrap_up(chat_queue(), 300)
    ann = make_agent("ann")
    set_presence(agent=ann, status_id=status("Available").pk, now=at(10, 0))
    chat = contact("chat", at(10, 1))
    accept_offer(agent=ann, offer_id=offered_to(ann, at(10, 1)), now=at(10, 1, 10))
    close(ann, chat, at(10, 13))

    # At 10:14 she is still wrapping up: no handle time yet, in the report as in today's
    # totals. Busy 10:01:10 → 10:14:00 = 770 s; open for work (Available) 10:00 → 10:14 =
    # 840 s, the chat inside it: staffed 840 s → 770 / 840 = 0.9167.
    early = history.report(HALF_HOUR, now=at(10, 14))
    by_queue = rows(early, "by_queue", "queue")
    assert [by_queue[(start, "Web chat")]["average_handle_time"] for start in (FIRST, SECOND)] == [
        None,
        None,
    ]
    assert by_queue[(FIRST, "Web chat")]["handled"] == 1
    assert history.today_totals(at(10, 14)).per_queue()[chat_queue().pk].handle_ended == 0
    [agent] = early["agents"]
    assert (agent["open_for_work_seconds"], agent["staffed_seconds"]) == (840, 840)
    assert agent["average_handle_time"] is None
    assert agent["occupancy"] == 0.9167

    # At 10:30 it has ended, at 10:18: 10:01:10 → 10:18:00 = 1010 s, in the second interval.
    # Busy 1010 s of 1800 s staffed (Available all half hour) → 0.5611.
    late = history.report(HALF_HOUR, now=at(10, 30))
    by_queue = rows(late, "by_queue", "queue")
    assert by_queue[(SECOND, "Web chat")]["average_handle_time"] == 1010.0
    [agent] = late["agents"]
    assert (agent["open_for_work_seconds"], agent["staffed_seconds"]) == (1800, 1800)
    assert agent["average_handle_time"] == 1010.0
    assert agent["occupancy"] == 0.5611
    assert history.today_totals(at(10, 30)).per_queue()[chat_queue().pk].handle_seconds == 1010.0


def test_time_in_a_status_deleted_since_keeps_its_name_but_is_not_open_for_work() -> None:
    # Ann: "Chat only" (a status that takes web chats) from 09:50, Available from 10:20.
    chat_only = PresenceStatus.objects.create(name="Chat only", position=5)
    chat_only.channels.set(ServiceChannel.objects.filter(kind="chat"))
    ann = make_agent("ann")
    set_presence(agent=ann, status_id=chat_only.pk, now=at(9, 50))
    set_presence(agent=ann, status_id=status("Available").pk, now=at(10, 20))
    # While the status exists, its time is open for work: 10:00–10:20 (1200 s) + Available
    # 10:20–10:30 (600 s) = 1800 s.
    [existing] = history.report(HALF_HOUR, now=at(11, 0))["agents"]
    assert existing["seconds_in_status"] == {"Available": 600, "Chat only": 1200}
    assert (existing["open_for_work_seconds"], existing["staffed_seconds"]) == (1800, 1800)

    # Once deleted, which channels it took is unknown: its time is no longer open for work,
    # but the history keeps its name. Whether the report starts after the change to it
    # (10:00) or before (09:45), only Available 10:20–10:30 is open for work and staffed
    # (600 s; she held no work).
    chat_only.delete()
    [from_ten] = history.report(HALF_HOUR, now=at(11, 0))["agents"]
    # 10:00–10:20 "Chat only" (1200 s), 10:20–10:30 Available (600 s).
    assert from_ten["seconds_in_status"] == {"Available": 600, "Chat only": 1200}
    assert (from_ten["open_for_work_seconds"], from_ten["staffed_seconds"]) == (600, 600)
    assert from_ten["occupancy"] == 0.0
    [from_before] = history.report(Period(at(9, 45), at(10, 30), QUARTER), now=at(11, 0))["agents"]
    # 09:45–09:50 offline (300 s), "Chat only" 09:50–10:20 (1800 s), Available 10:20–10:30
    # (600 s).
    assert from_before["seconds_in_status"] == {"Available": 600, "Chat only": 1800, "Offline": 300}
    assert (from_before["open_for_work_seconds"], from_before["staffed_seconds"]) == (600, 600)
    assert from_before["occupancy"] == 0.0


def test_time_in_the_reference_offline_status_is_not_staffed_unless_work_is_held() -> None:
    """The reference data's "Offline" is a real status an agent can pick, with no channels:
    like signing out, it takes no work."""
    offline = status("Offline")
    assert not offline.channels.exists()
    ann = make_agent("ann")
    web_chat = chat_queue()
    # 10:00 Available; 10:01 a chat enters, offered to Ann, accepted at 10:01:10. 10:05 she
    # picks "Offline" still holding it and closes it at 10:08 (no wrap-up). 10:20 Available
    # again; 10:25 she signs out (no status).
    set_presence(agent=ann, status_id=status("Available").pk, now=at(10, 0))
    chat = contact("chat", at(10, 1))
    accept_offer(agent=ann, offer_id=offered_to(ann, at(10, 1)), now=at(10, 1, 10))
    set_presence(agent=ann, status_id=offline.pk, now=at(10, 5))
    close(ann, chat, at(10, 8))
    set_presence(agent=ann, status_id=status("Available").pk, now=at(10, 20))
    set_presence(agent=ann, status_id=None, now=at(10, 25))

    report = history.report(HALF_HOUR, now=at(11, 0))
    [agent] = report["agents"]
    # Available 10:00–10:05 and 10:20–10:25: 600 s. "Offline" (the status) 10:05–10:20 and
    # signed out 10:25–10:30 share the name: 900 + 300 = 1200 s.
    assert agent["seconds_in_status"] == {"Available": 600, "Offline": 1200}
    # Open for work: Available only, 600 s. Staffed: 10:00–10:05 ∪ 10:01:10–10:08:00 (the
    # chat, held into "Offline") = 10:00–10:08 (480 s), plus 10:20–10:25 (300 s) = 780 s; the
    # 10:08–10:20 in "Offline" is not. Busy 10:01:10 → 10:08:00 = 410 s → 410 / 780 = 0.5256.
    assert (agent["open_for_work_seconds"], agent["staffed_seconds"]) == (600, 780)
    assert agent["occupancy"] == 0.5256
    by_queue = rows(report, "by_queue", "queue")
    # Web chat: in 10:00–10:15 Ann held its work, 410 s busy of her 480 s staffed → 0.8542.
    # In 10:15–10:30 nobody held its work: her 300 s Available (10:20–10:25) is not the
    # queue's, so staffed 0 and no occupancy.
    first, second = by_queue[(FIRST, web_chat.name)], by_queue[(SECOND, web_chat.name)]
    assert (first["busy_seconds"], first["staffed_seconds"], first["occupancy"]) == (
        410.0,
        480.0,
        0.8542,
    )
    assert (second["busy_seconds"], second["staffed_seconds"], second["occupancy"]) == (
        0.0,
        0,
        None,
    )


def test_a_queues_occupancy_is_out_of_the_staffed_time_of_who_held_its_work() -> None:
    """Occupancy used to divide a queue's busy time by its current members' staffed time: an
    agent who held its work and left the queue since took their staffed time away, not their
    busy time, and a member who held nothing added theirs; it could pass 1."""
    web_chat = chat_queue()
    set_wrap_up(web_chat, 0)
    ann = make_agent("ann", queues=[web_chat])
    bob = make_agent("bob", queues=[web_chat])
    # 10:00 Ann Available. 10:10 a chat enters, offered to Ann, accepted at once; she closes
    # it at 10:40 (no wrap-up): 30 minutes held. 10:45 Bob Available; no work is left for
    # him. Then Ann is taken out of Web chat: Bob is its only member now.
    set_presence(agent=ann, status_id=status("Available").pk, now=at(10, 0))
    chat = contact("chat", at(10, 10))
    accept_offer(agent=ann, offer_id=offered_to(ann, at(10, 10)), now=at(10, 10))
    close(ann, chat, at(10, 40))
    set_presence(agent=bob, status_id=status("Available").pk, now=at(10, 45))
    web_chat.members.remove(ann)
    assert list(web_chat.members.all()) == [bob]

    hour = at(10, 0)
    report = history.report(Period(hour, at(11, 0), timedelta(hours=1)), now=at(12, 0))
    row = rows(report, "by_queue", "queue")[(hour, "Web chat")]
    # Busy: Ann 10:10 → 10:40 = 1800 s. Ann alone held Web chat work this hour, so the
    # staffed time is hers: Available 10:00 → 11:00 = 3600 s, the chat inside it →
    # 1800 / 3600 = 0.5. Bob's 900 s (Available 10:45 → 11:00) is left out: he held nothing.
    # (By the members, it was 1800 / 900 = 2.0; by everyone, 1800 / 4500 = 0.4.)
    assert (row["busy_seconds"], row["staffed_seconds"], row["occupancy"]) == (
        1800.0,
        3600.0,
        0.5,
    )
    assert row["occupancy"] <= 1
    # The chat channel likewise; and Ann's own occupancy is the same 1800 / 3600.
    chat_row = rows(report, "by_channel", "channel")[(hour, "chat")]
    assert (chat_row["staffed_seconds"], chat_row["occupancy"]) == (3600.0, 0.5)
    agents = {agent["agent"]: agent for agent in report["agents"]}
    assert (agents["ann"]["staffed_seconds"], agents["ann"]["occupancy"]) == (3600, 0.5)
    assert (agents["bob"]["staffed_seconds"], agents["bob"]["occupancy"]) == (900, 0.0)


# --- rollups --------------------------------------------------------------------------------


def test_rollups_of_finished_intervals_give_the_same_totals_as_the_rows() -> None:
    busy_half_hour()
    # At 10:15:59 the 10:00–10:15 interval ended only 59 s ago: the day's quarters up to
    # 10:00 are written (40 of them), not that one.
    assert history.rollup_finished_intervals(now=at(10, 15, 59)) == 40
    assert not IntervalRollup.objects.filter(start=at(10, 0)).exists()
    # A minute after it ended, it is; a second call writes nothing new.
    assert history.rollup_finished_intervals(now=at(10, 16)) == 1
    assert history.rollup_finished_intervals(now=at(10, 16)) == 0
    assert IntervalRollup.objects.count() == 41
    ten = IntervalRollup.objects.get(start=at(10, 0))
    assert ten.end == at(10, 15)
    web_chat = ten.figures["queues"][f"{chat_queue().pk}|chat"]
    assert (web_chat["offered"], web_chat["handled"], web_chat["handle_seconds"]) == (4, 2, 770.0)

    # Today's totals at 10:20 (rollups to 10:15, then the rows) and at 10:31 (after rolling
    # up 10:15–10:30 too) equal those counted from the rows alone.
    with_rollups = plain(history.today_totals(at(10, 20)))
    assert history.rollup_finished_intervals(now=at(10, 31)) == 1
    with_all_rollups = plain(history.today_totals(at(10, 31)))
    IntervalRollup.objects.all().delete()
    assert with_rollups == plain(history.today_totals(at(10, 20)))
    assert with_all_rollups == plain(history.today_totals(at(10, 31)))
    # And those are the half hour's: at 10:20 chat 4's work (ending 10:21) is not counted.
    chat_key = (chat_queue().pk, "chat")
    assert with_rollups["queues"][chat_key]["handle_ended"] == 1
    assert with_all_rollups["queues"][chat_key]["handle_ended"] == 2


def test_a_gap_in_the_rollups_is_counted_from_the_rows() -> None:
    busy_half_hour()
    assert history.rollup_finished_intervals(now=at(10, 31)) == 42
    expected = plain(history.today_totals(at(10, 31)))
    IntervalRollup.objects.filter(start=at(10, 0)).delete()
    assert plain(history.today_totals(at(10, 31))) == expected
