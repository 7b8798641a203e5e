from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from contactcenter.crm.models import Interaction, Message
from contactcenter.kernel.errors import Conflict, InvalidInput, NotFound
from routing.models import Offer, WorkItem
from routing.selectors import snapshot
from routing.services.departures import customer_left
from routing.services.offers import accept_offer, decline_offer
from routing.services.presence import (
    ABSENCE_CHECKED_KEY,
    absence_check_due,
    console_opened,
    consoles_alive,
    set_presence,
    sign_out_absent_agents,
)
from routing.services.rounds import run_round
from routing.services.sweep import run_sweep
from routing.services.work import close_work, send_agent_message
from tests.factories import (
    decline_reason,
    disposition,
    make_agent,
    make_queue,
    start_chat,
    status,
    work_item_of,
)
from tests.stack import free_port

pytestmark = pytest.mark.django_db


def pending_offer(agent) -> Offer:
    return Offer.objects.get(agent=agent, outcome=Offer.Outcome.PENDING)


def test_first_message_puts_the_chat_in_the_chat_queue_and_offers_it(committed) -> None:
    agent = make_agent(available=True)
    with committed():
        interaction = start_chat(body="Where is my order?")
    item = work_item_of(interaction)
    assert item.queue.name == "Web chat"
    assert item.status == WorkItem.Status.OFFERED
    assert item.agent == agent
    offer = pending_offer(agent)
    timeout = item.queue.routing_config.push_timeout_seconds
    assert offer.expires_at - offer.created_at == timedelta(seconds=timeout)


def test_offline_agents_and_non_members_are_not_offered_work(committed) -> None:
    make_agent(available=False)
    make_agent(available=True, queues=[make_queue("Elsewhere")])
    with committed():
        interaction = start_chat()
    assert work_item_of(interaction).status == WorkItem.Status.QUEUED


def test_going_available_triggers_a_round_that_offers_the_oldest_waiting_chat(committed) -> None:
    agent = make_agent(capacity=2)
    with committed():
        older = start_chat("First Customer")
        start_chat("Second Customer")
    with committed():
        set_presence(agent=agent, status_id=status("Available").pk)
    assert WorkItem.objects.get(agent=agent).interaction == older


def test_agent_is_never_offered_more_than_their_capacity(committed) -> None:
    agent = make_agent(capacity=4, available=True)
    with committed():
        for n in range(3):
            start_chat(f"Customer {n}")
    active = WorkItem.objects.filter(agent=agent, status__in=["offered", "assigned"])
    assert sum(item.units for item in active) == 4
    assert WorkItem.objects.filter(status=WorkItem.Status.QUEUED).count() == 1


def test_accepting_assigns_the_item_and_tells_the_customer_who_joined(committed) -> None:
    agent = make_agent(available=True, first_name="Ada")
    with committed():
        interaction = start_chat()
    with committed():
        item = accept_offer(agent=agent, offer_id=pending_offer(agent).pk)
    item.refresh_from_db()
    assert item.status == WorkItem.Status.ASSIGNED
    assert item.accepted_at is not None
    assert interaction.messages.last().body == "Ada joined the chat."


def test_declined_item_is_not_offered_again_to_the_same_agent(committed) -> None:
    first = make_agent(available=True)
    with committed():
        interaction = start_chat()
    with committed():
        decline_offer(
            agent=first,
            offer_id=pending_offer(first).pk,
            reason_id=decline_reason().pk,
            note="Wrong language",
        )
    item = work_item_of(interaction)
    assert item.status == WorkItem.Status.QUEUED
    declined = Offer.objects.get(agent=first)
    assert (declined.decline_reason, declined.decline_note) == (decline_reason(), "Wrong language")
    second = make_agent()
    with committed():
        set_presence(agent=second, status_id=status("Available").pk)
    item.refresh_from_db()
    assert item.agent == second
    assert item.enqueued_at == work_item_of(interaction).enqueued_at


def test_push_time_out_returns_the_item_and_the_missed_agent_is_not_offered_it_again(
    committed,
) -> None:
    missed = make_agent(available=True)
    with committed():
        interaction = start_chat()
    offer = pending_offer(missed)
    with committed():
        assert run_sweep(now=offer.expires_at - timedelta(seconds=1)) == 0
        assert run_sweep(now=offer.expires_at) == 0
    offer.refresh_from_db()
    assert offer.outcome == Offer.Outcome.TIMED_OUT
    item = work_item_of(interaction)
    assert item.status == WorkItem.Status.QUEUED and item.agent is None
    other = make_agent(available=True)
    with committed():
        assert run_sweep() == 1
    assert work_item_of(interaction).agent == other


def test_accepting_after_the_time_out_is_refused_and_the_offer_times_out(committed) -> None:
    agent = make_agent(available=True)
    with committed():
        start_chat()
    offer = pending_offer(agent)
    with committed(), pytest.raises(Conflict, match="expired"):
        accept_offer(agent=agent, offer_id=offer.pk, now=offer.expires_at)
    offer.refresh_from_db()
    assert offer.outcome == Offer.Outcome.TIMED_OUT


def test_an_agent_cannot_accept_another_agents_offer(committed) -> None:
    owner = make_agent(available=True)
    intruder = make_agent(available=True)
    with committed():
        start_chat()
    offered_to = owner if Offer.objects.filter(agent=owner).exists() else intruder
    other = intruder if offered_to == owner else owner
    offer = pending_offer(offered_to)
    with pytest.raises(NotFound):
        accept_offer(agent=other, offer_id=offer.pk)
    offer.refresh_from_db()
    assert offer.outcome == Offer.Outcome.PENDING


def test_answered_offer_cannot_be_answered_again(committed) -> None:
    agent = make_agent(available=True)
    with committed():
        start_chat()
    offer = pending_offer(agent)
    with committed():
        accept_offer(agent=agent, offer_id=offer.pk)
    with pytest.raises(Conflict):
        decline_offer(agent=agent, offer_id=offer.pk, reason_id=decline_reason().pk)


def test_going_on_break_cancels_pending_offers_and_requeues_them(committed) -> None:
    agent = make_agent(available=True)
    with committed():
        interaction = start_chat()
    with committed():
        set_presence(agent=agent, status_id=status("Break").pk)
    assert Offer.objects.get(agent=agent).outcome == Offer.Outcome.CANCELLED
    assert work_item_of(interaction).status == WorkItem.Status.QUEUED


def test_closing_frees_capacity_and_the_next_chat_is_offered(committed) -> None:
    agent = make_agent(capacity=2, available=True)
    with committed():
        first = start_chat("First")
        second = start_chat("Second")
    with committed():
        accept_offer(agent=agent, offer_id=pending_offer(agent).pk)
    assert work_item_of(second).status == WorkItem.Status.QUEUED
    with committed():
        close_work(agent=agent, work_item_id=work_item_of(first).pk, disposition_id=disposition())
    first.refresh_from_db()
    assert first.status == Interaction.Status.CLOSED
    assert work_item_of(second).agent == agent
    agent.refresh_from_db()
    assert agent.last_work_ended_at is not None


def test_agent_replies_only_on_work_they_hold(committed) -> None:
    agent = make_agent(available=True)
    stranger = make_agent()
    with committed():
        interaction = start_chat()
    with committed():
        item = accept_offer(agent=agent, offer_id=pending_offer(agent).pk)
        send_agent_message(agent=agent, work_item_id=item.pk, body="Hi!")
    assert interaction.messages.filter(sender=Message.Sender.AGENT).get().body == "Hi!"
    with pytest.raises(NotFound):
        send_agent_message(agent=stranger, work_item_id=item.pk, body="Hi!")
    with pytest.raises(InvalidInput):
        send_agent_message(agent=agent, work_item_id=item.pk, body="   ")


def test_customer_leaving_while_waiting_abandons_the_item(committed) -> None:
    agent = make_agent(available=True)
    with committed():
        interaction = start_chat()
    with committed():
        customer_left(interaction_id=interaction.pk)
    assert work_item_of(interaction).status == WorkItem.Status.ABANDONED
    assert Offer.objects.get(agent=agent).outcome == Offer.Outcome.CANCELLED
    interaction.refresh_from_db()
    assert interaction.status == Interaction.Status.CLOSED


def test_unknown_presence_status_is_refused() -> None:
    agent = make_agent()
    with pytest.raises(NotFound) as error:
        set_presence(agent=agent, status_id=999_999)
    assert error.value.field == "status_id"


def test_sweep_is_safe_to_run_twice(committed) -> None:
    make_agent(available=True)
    with committed():
        start_chat()
    now = timezone.now() + timedelta(hours=1)
    with committed():
        run_sweep(now=now)
        run_sweep(now=now)
    assert Offer.objects.filter(outcome=Offer.Outcome.TIMED_OUT).count() == 1


def test_offer_cancelled_by_a_break_is_offered_again_when_the_agent_returns(committed) -> None:
    agent = make_agent(available=True)
    with committed():
        interaction = start_chat()
    with committed():
        set_presence(agent=agent, status_id=status("Break").pk)
    with committed():
        set_presence(agent=agent, status_id=status("Available").pk)
    item = work_item_of(interaction)
    assert (item.status, item.agent) == (WorkItem.Status.OFFERED, agent)
    outcomes = list(
        Offer.objects.filter(agent=agent).order_by("id").values_list("outcome", flat=True)
    )
    assert outcomes == [Offer.Outcome.CANCELLED, Offer.Outcome.PENDING]


def test_a_long_line_nobody_serves_does_not_crowd_out_a_served_queue(
    committed, monkeypatch
) -> None:
    monkeypatch.setattr(snapshot, "ROUND_ITEM_LIMIT", 2)
    unserved = make_queue("Nobody here", routing_priority=1)
    with committed():
        for n in range(3):
            stranded = start_chat(f"Early {n}")
            WorkItem.objects.filter(interaction=stranded).update(queue=unserved)
        served = start_chat("Late Customer")
    agent = make_agent(available=True)
    with committed():
        run_round()
    assert work_item_of(served).agent == agent
    assert WorkItem.objects.filter(queue=unserved, status=WorkItem.Status.QUEUED).count() == 3


def test_agent_whose_console_stopped_reporting_is_set_offline_by_the_sweep(
    committed, settings
) -> None:
    settings.CONSOLE_GRACE_SECONDS = 10
    agent = make_agent(available=True)
    last_seen = timezone.now()
    console_opened(agent=agent, now=last_seen)
    consoles_alive([agent.pk], now=last_seen)
    with committed():
        interaction = start_chat()
    with committed():
        sign_out_absent_agents(now=last_seen + timedelta(seconds=9))
    agent.refresh_from_db()
    assert agent.status == status("Available")

    cache.delete(ABSENCE_CHECKED_KEY)  # no sweep of another test looked just before
    with committed():
        run_sweep(now=last_seen + timedelta(seconds=11))
    agent.refresh_from_db()
    assert agent.status is None
    assert Offer.objects.get(agent=agent).outcome == Offer.Outcome.CANCELLED
    assert work_item_of(interaction).status == WorkItem.Status.QUEUED


def test_a_console_that_keeps_reporting_in_keeps_the_agent_available(settings) -> None:
    settings.CONSOLE_GRACE_SECONDS = 30
    agent = make_agent(available=True)
    opened = timezone.now()
    console_opened(agent=agent, now=opened)
    consoles_alive([agent.pk], now=opened + timedelta(seconds=25))
    assert sign_out_absent_agents(now=opened + timedelta(seconds=40)) == 0
    agent.refresh_from_db()
    assert agent.status == status("Available")


def test_accepting_an_offer_whose_customer_left_meanwhile_ends_it(committed) -> None:
    agent = make_agent(available=True)
    with committed():
        interaction = start_chat()
    offer = pending_offer(agent)
    # The state a round racing the customer's departure leaves on PostgreSQL: the item is
    # abandoned while its new offer is still on its way to the agent.
    WorkItem.objects.filter(pk=offer.work_item_id).update(
        status=WorkItem.Status.ABANDONED, agent=None
    )
    with committed(), pytest.raises(Conflict, match="customer has left"):
        accept_offer(agent=agent, offer_id=offer.pk)
    offer.refresh_from_db()
    assert offer.outcome == Offer.Outcome.CANCELLED
    assert work_item_of(interaction).status == WorkItem.Status.ABANDONED
    assert not interaction.messages.filter(sender=Message.Sender.SYSTEM).exists()


def test_a_flushed_cache_gives_open_consoles_a_fresh_grace_instead_of_signing_them_out(
    settings,
) -> None:
    settings.CONSOLE_GRACE_SECONDS = 10
    agent = make_agent(available=True)
    opened = timezone.now()
    console_opened(agent=agent, now=opened)
    consoles_alive([agent.pk], now=opened)
    cache.clear()  # Redis restarted: it keeps nothing on disk here
    flushed_seen = opened + timedelta(minutes=5)
    assert sign_out_absent_agents(now=flushed_seen) == 0
    assert sign_out_absent_agents(now=flushed_seen + timedelta(seconds=9)) == 0
    agent.refresh_from_db()
    assert agent.status == status("Available")
    # The console really is gone: nobody reported it since the cache came back.
    assert sign_out_absent_agents(now=flushed_seen + timedelta(seconds=11)) == 1
    agent.refresh_from_db()
    assert agent.status is None


def test_a_console_reporting_again_after_a_flush_keeps_its_agent(settings) -> None:
    settings.CONSOLE_GRACE_SECONDS = 10
    agent = make_agent(available=True)
    opened = timezone.now()
    console_opened(agent=agent, now=opened)
    cache.clear()
    assert sign_out_absent_agents(now=opened + timedelta(minutes=5)) == 0
    consoles_alive([agent.pk], now=opened + timedelta(minutes=5, seconds=8))
    assert sign_out_absent_agents(now=opened + timedelta(minutes=5, seconds=15)) == 0
    agent.refresh_from_db()
    assert agent.status == status("Available")


def test_nobody_is_signed_out_while_the_cache_is_unreachable(settings, caplog) -> None:
    settings.CONSOLE_GRACE_SECONDS = 10
    agent = make_agent(available=True)
    console_opened(agent=agent, now=timezone.now() - timedelta(hours=1))
    # A real client against a port nobody listens on: Redis down.
    redis_down = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    with override_settings(CACHES=redis_down):
        assert sign_out_absent_agents() == 0
    assert "console liveness unreadable" in caplog.text
    agent.refresh_from_db()
    assert agent.status == status("Available")


def test_sweeps_look_for_absent_agents_once_per_heartbeat_period(settings) -> None:
    settings.CONSOLE_HEARTBEAT_SECONDS = 10
    cache.delete(ABSENCE_CHECKED_KEY)
    now = timezone.now()
    assert absence_check_due(now)
    assert not absence_check_due(now + timedelta(seconds=2))
    assert not absence_check_due(now + timedelta(seconds=9))
    assert absence_check_due(now + timedelta(seconds=10))
    assert absence_check_due(now - timedelta(minutes=1)), "a clock that went back looks again"


def test_agents_without_a_console_keep_the_presence_an_admin_gave_them() -> None:
    agent = make_agent(available=True)
    assert sign_out_absent_agents(now=timezone.now() + timedelta(days=1)) == 0
    agent.refresh_from_db()
    assert agent.status == status("Available")


@pytest.mark.parametrize("text", ["nul\x00inside", "lone \ud800 surrogate"])
def test_text_a_database_cannot_store_is_refused_with_the_field(committed, text) -> None:
    agent = make_agent(available=True)
    with committed():
        interaction = start_chat()
    offer = pending_offer(agent)
    with pytest.raises(InvalidInput) as error:
        decline_offer(agent=agent, offer_id=offer.pk, reason_id=decline_reason().pk, note=text)
    assert error.value.field == "note"
    with committed():
        item = accept_offer(agent=agent, offer_id=offer.pk)
    with pytest.raises(InvalidInput) as error:
        send_agent_message(agent=agent, work_item_id=item.pk, body=text)
    assert error.value.field == "body"
    assert not interaction.messages.filter(sender=Message.Sender.AGENT).exists()


def test_a_failing_push_does_not_stop_the_routing_round(committed, settings, caplog) -> None:
    # The channel layer is unreachable (a closed port): pushes fail after the commit, and
    # the round queued behind them must still run.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    agent = make_agent(available=True)
    with committed():
        interaction = start_chat()
    assert work_item_of(interaction).agent == agent
    # Pushes leave through the process's outbox, after the commit and without the sender
    # waiting: their failure is logged there.
    deadline = time.monotonic() + 10
    while "a push to the channel layer failed" not in caplog.text:
        assert time.monotonic() < deadline, caplog.text
        time.sleep(0.05)
