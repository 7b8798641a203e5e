"""The routing semantics that admins configure, end to end through the services and a round:
intake rules, skills and widening, routing models, capacity, channel limits and blocks,
wrap-up, missed offers, status history, decline reasons, overflow, maximum wait, preferred
agents and coalesced triggers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from contactcenter.crm.models import Case, Customer, Interaction, Message
from contactcenter.kernel.errors import InvalidInput
from routing.models import (
    AgentChannelLimit,
    AgentStatusChange,
    DeclineReason,
    IntakeRule,
    IntakeRuleSkill,
    Offer,
    PresenceStatus,
    Queue,
    RoutingConfig,
    ServiceChannel,
    WorkItem,
)
from routing.reference import MISSED_STATUS
from routing.selectors import snapshot
from routing.services.offers import accept_offer, decline_offer, expire_offers
from routing.services.presence import set_presence
from routing.services.queueing import enqueue
from routing.services.rounds import run_requested_round, run_round
from routing.services.sweep import run_sweep
from routing.services.triggers import ROUND_PENDING_KEY, ROUNDS_STARTED_KEY, rounds_started
from routing.services.work import close_work
from tests.factories import (
    chat_queue,
    decline_reason,
    disposition,
    make_agent,
    make_queue,
    make_user,
    skill,
    start_chat,
    status,
    work_item_of,
)

pytestmark = pytest.mark.django_db


def pending_offers(agent) -> list[Offer]:
    return list(Offer.objects.filter(agent=agent, outcome=Offer.Outcome.PENDING))


def make_rule(name: str, *, queue: Queue, position: int = 10, skills=(), **conditions):
    rule = IntakeRule.objects.create(name=name, queue=queue, position=position, **conditions)
    for skill_name, level, drop_after in skills:
        IntakeRuleSkill.objects.create(
            rule=rule, skill=skill(skill_name), min_level=level, drop_after_seconds=drop_after
        )
    return rule


def start_contact(channel: str, *, name: str = "Caller", tier: str = "", language: str = ""):
    """A contact on any channel, enqueued as an inbound adapter does."""
    customer = Customer.objects.create(name=name, tier=tier, language=language)
    case = Case.objects.create(customer=customer, subject=channel)
    interaction = Interaction.objects.create(case=case, channel=channel)
    return enqueue(interaction)


def configure(queue: Queue, **fields) -> RoutingConfig:
    RoutingConfig.objects.filter(pk=queue.routing_config_id).update(**fields)
    queue.routing_config.refresh_from_db()
    return queue.routing_config


# --- intake -----------------------------------------------------------------------------------


def test_intake_rules_choose_queue_skills_and_priority_first_match_wins(committed) -> None:
    billing = make_queue("Billing")
    vip = make_queue("VIP")
    make_rule(
        "Refunds",
        queue=billing,
        position=20,
        keywords="refund, money back",
        priority=3,
        skills=[("Billing", 5, None)],
    )
    make_rule("Gold customers", queue=vip, position=10, customer_tier="gold", priority=7)
    make_rule("Never", queue=vip, position=5, keywords="refund", is_active=False)

    with committed():
        refund = start_chat(body="I want my MONEY back please")
    item = work_item_of(refund)
    assert (item.queue, item.priority, item.intake_rule.name) == (billing, 3, "Refunds")
    assert [(s.skill.name, s.min_level) for s in item.skills.all()] == [("Billing", 5)]

    with committed():
        plain = start_chat(body="Refunded? rebill? no whole word here")
    assert work_item_of(plain).queue == chat_queue()
    assert work_item_of(plain).intake_rule.is_default

    gold = Customer.objects.create(name="Goldie", tier="Gold")
    with committed():
        interaction = Interaction.objects.create(
            case=Case.objects.create(customer=gold), channel="chat"
        )
        Message.objects.create(interaction=interaction, sender="customer", body="refund")
        enqueue(interaction)
    # Both rules match; the one with the lower position wins.
    assert (work_item_of(interaction).queue, work_item_of(interaction).priority) == (vip, 7)


def test_intake_rule_on_channel_language_and_intent() -> None:
    voice = ServiceChannel.objects.get(kind="voice")
    german = make_queue("German voice")
    refunds = make_queue("Refunds")
    make_rule("German callers", queue=german, channel=voice, customer_language="de")
    make_rule("Bot: refunds", queue=refunds, intent="refund")
    assert start_contact("voice", language="DE").queue == german
    chat = start_chat(body="hi")
    # Chat in German does not match a voice-only rule.
    assert work_item_of(chat).queue == chat_queue()
    interaction = Interaction.objects.create(
        case=Case.objects.create(customer=Customer.objects.create(name="Bot user")),
        channel="messaging",
    )
    ServiceChannel.objects.filter(kind="messaging").update(default_queue=chat_queue())
    assert enqueue(interaction, intent="refund").queue == refunds


def test_default_rule_is_always_there_last_and_without_conditions(admin_client) -> None:
    default = IntakeRule.objects.get(is_default=True)
    page = admin_client.get(f"/admin/routing/intakerule/{default.pk}/delete/")
    assert page.status_code == 403
    make_rule("First", queue=chat_queue(), position=1000)
    assert list(IntakeRule.objects.values_list("name", flat=True)) == ["First", default.name]
    default.keywords = "anything"
    with pytest.raises(Exception, match="no conditions"):
        default.full_clean()


def test_admin_tests_rules_against_a_sample_contact(admin_client) -> None:
    billing = make_queue("Billing")
    make_rule("Refunds", queue=billing, keywords="refund", skills=[("Billing", 4, 60)])
    page = admin_client.get("/admin/routing/intakerule/")
    assert b"Test against a sample contact" in page.content
    response = admin_client.post(
        "/admin/routing/intakerule/test/",
        {"channel": "chat", "first_message": "Where is my refund?", "customer_tier": ""},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="winning-rule">Refunds<' in html
    assert 'id="chosen-queue">Billing<' in html
    assert "Billing ≥ 4 (dropped after 60 s)" in html
    other = admin_client.post(
        "/admin/routing/intakerule/test/", {"channel": "chat", "first_message": "hello"}
    )
    assert 'id="winning-rule">Everything else<' in other.content.decode()
    bad = admin_client.post("/admin/routing/intakerule/test/", {"channel": "pigeon"})
    assert bad.status_code == 200
    assert "Select a valid choice" in bad.content.decode()


# --- skills -----------------------------------------------------------------------------------


def test_required_skill_level_decides_who_gets_it_and_optional_needs_widen(committed) -> None:
    make_rule(
        "Spanish",
        queue=chat_queue(),
        keywords="hola",
        skills=[("Spanish", 5, None), ("Billing", 3, 30)],
    )
    novice = make_agent("novice", available=True, skills={"Spanish": 3, "Billing": 9})
    fluent = make_agent("fluent", capacity=2, available=True, skills={"Spanish": 7})
    expert = make_agent("expert", capacity=2, skills={"Spanish": 6, "Billing": 4})
    with committed():
        chat = start_chat(body="Hola, necesito ayuda")
    # Fluent lacks the optional Billing need while it counts; the novice lacks Spanish 5.
    assert work_item_of(chat).status == WorkItem.Status.QUEUED
    with committed():
        run_sweep(now=timezone.now() + timedelta(seconds=31))
    assert work_item_of(chat).agent == fluent
    assert not pending_offers(novice) and not pending_offers(expert)


def test_best_skill_match_model_picks_the_highest_summed_level(committed) -> None:
    configure(chat_queue(), routing_model="best_skill_match")
    make_rule("Spanish", queue=chat_queue(), keywords="hola", skills=[("Spanish", 1, None)])
    make_agent("good", capacity=6, available=True, skills={"Spanish": 5})
    best = make_agent("best", capacity=2, available=True, skills={"Spanish": 9})
    with committed():
        chat = start_chat(body="hola")
    assert work_item_of(chat).agent == best
    offer = pending_offers(best)[0]
    assert offer.routing_model == "best_skill_match"
    assert offer.routing_key[0] == -9


def test_round_robin_takes_turns_by_last_offer(committed) -> None:
    configure(chat_queue(), routing_model="round_robin")
    first = make_agent("first", available=True)
    second = make_agent("second", available=True)
    with committed():
        a = start_chat("A")
    with committed():
        b = start_chat("B")
    with committed():
        c = start_chat("C")
    owners = [work_item_of(i).agent for i in (a, b, c)]
    assert owners[0] != owners[1] and owners[2] == owners[0]
    assert {owners[0], owners[1]} == {first, second}


# --- capacity ---------------------------------------------------------------------------------


def test_capacity_percent_takes_a_share_of_each_agents_capacity(committed) -> None:
    configure(chat_queue(), capacity_percent=100)
    agent = make_agent(capacity=5, available=True)
    with committed():
        first = start_chat("First")
        second = start_chat("Second")
    assert work_item_of(first).units == 5
    assert work_item_of(second).status == WorkItem.Status.QUEUED
    assert len(pending_offers(agent)) == 1


def test_channel_limit_from_the_channel_and_the_agents_own(committed) -> None:
    ServiceChannel.objects.filter(kind="chat").update(max_items_per_agent=1)
    limited = make_agent("limited", capacity=10, available=True)
    with committed():
        for n in range(3):
            start_chat(f"Customer {n}")
    assert len(pending_offers(limited)) == 1
    AgentChannelLimit.objects.create(
        agent=limited, channel=ServiceChannel.objects.get(kind="chat"), max_items=2
    )
    with committed():
        run_round()
    assert len(pending_offers(limited)) == 2


def test_a_call_blocks_chats_but_chats_do_not_block_email(committed) -> None:
    voice = ServiceChannel.objects.get(kind="voice")
    chat = ServiceChannel.objects.get(kind="chat")
    email = ServiceChannel.objects.get(kind="email")
    voice.blocks.add(chat)
    for channel in (voice, email):
        channel.default_queue = chat_queue()
        channel.save()
    agent = make_agent(capacity=10, available=True)
    with committed():
        call = start_contact("voice")
    call.refresh_from_db()
    assert call.agent == agent
    with committed():
        waiting_chat = start_chat()
        mail = start_contact("email")
    assert work_item_of(waiting_chat).status == WorkItem.Status.QUEUED
    mail.refresh_from_db()
    assert mail.agent == agent


def test_wrap_up_holds_capacity_until_it_ends(committed) -> None:
    configure(chat_queue(), wrap_up_seconds=60)
    agent = make_agent(capacity=2, available=True)
    with committed():
        first = start_chat("First")
    with committed():
        accept_offer(agent=agent, offer_id=pending_offers(agent)[0].pk)
    with committed():
        second = start_chat("Second")
    closed_at = timezone.now()
    with committed():
        close_work(
            agent=agent,
            work_item_id=work_item_of(first).pk,
            now=closed_at,
            disposition_id=disposition(),
        )
    assert work_item_of(first).wrap_up_until == closed_at + timedelta(seconds=60)
    assert work_item_of(second).status == WorkItem.Status.QUEUED
    with committed():
        run_sweep(now=closed_at + timedelta(seconds=61))
    assert work_item_of(second).agent == agent


# --- presence ---------------------------------------------------------------------------------


def test_a_missed_offer_moves_the_agent_to_the_missed_status_and_is_recorded(committed) -> None:
    agent = make_agent(available=True)
    with committed():
        chat = start_chat()
    offer = pending_offers(agent)[0]
    with committed():
        expire_offers(now=offer.expires_at)
    agent.refresh_from_db()
    assert agent.status.name == MISSED_STATUS
    assert work_item_of(chat).status == WorkItem.Status.QUEUED
    change = AgentStatusChange.objects.filter(agent=agent).first()
    assert (change.from_name, change.to_name, change.cause, change.changed_by) == (
        "Available",
        MISSED_STATUS,
        AgentStatusChange.Cause.MISSED_OFFER,
        None,
    )
    assert Offer.objects.get(pk=offer.pk).outcome == Offer.Outcome.TIMED_OUT


def test_status_history_records_who_changed_what(committed) -> None:
    agent = make_agent()
    supervisor = make_user("boss")
    with committed():
        set_presence(agent=agent, status_id=status("Available").pk, changed_by=agent.user)
        set_presence(
            agent=agent,
            status_id=status("Break").pk,
            cause=AgentStatusChange.Cause.SUPERVISOR,
            changed_by=supervisor,
        )
        set_presence(agent=agent, status_id=status("Break").pk)
    history = list(AgentStatusChange.objects.filter(agent=agent).order_by("id"))
    assert [(c.from_name, c.to_name, c.cause, c.changed_by) for c in history] == [
        ("Offline", "Available", "agent", agent.user),
        ("Available", "Break", "supervisor", supervisor),
    ]


# --- offers -----------------------------------------------------------------------------------


def test_decline_needs_a_reason_from_the_configured_list(committed) -> None:
    agent = make_agent(available=True)
    with committed():
        start_chat()
    offer = pending_offers(agent)[0]
    with pytest.raises(InvalidInput) as missing:
        decline_offer(agent=agent, offer_id=offer.pk)
    assert missing.value.field == "reason_id"
    retired = DeclineReason.objects.create(name="Retired", is_active=False)
    for bad in (retired.pk, 999999):
        with pytest.raises(InvalidInput) as unknown:
            decline_offer(agent=agent, offer_id=offer.pk, reason_id=bad)
        assert unknown.value.field == "reason_id"
    assert Offer.objects.get(pk=offer.pk).outcome == Offer.Outcome.PENDING
    with committed():
        decline_offer(agent=agent, offer_id=offer.pk, reason_id=decline_reason("Not my area").pk)
    assert Offer.objects.get(pk=offer.pk).decline_reason.name == "Not my area"


def test_without_configured_reasons_a_decline_needs_none(committed) -> None:
    DeclineReason.objects.update(is_active=False)
    agent = make_agent(available=True)
    with committed():
        start_chat()
    with committed():
        decline_offer(agent=agent, offer_id=pending_offers(agent)[0].pk)
    assert Offer.objects.get(agent=agent).outcome == Offer.Outcome.DECLINED


# --- queues -----------------------------------------------------------------------------------


def test_overflow_moves_items_after_the_wait_keeping_their_age(committed) -> None:
    backup = make_queue("Backup")
    main = chat_queue()
    main.overflow_queue = backup
    main.overflow_after_seconds = 30
    main.save()
    helper = make_agent("helper", available=True, queues=[backup])
    with committed():
        chat = start_chat()
    item = work_item_of(chat)
    assert item.status == WorkItem.Status.QUEUED
    with committed():
        run_sweep(now=item.enqueued_at + timedelta(seconds=29))
    assert work_item_of(chat).queue == main
    with committed():
        run_sweep(now=item.enqueued_at + timedelta(seconds=31))
    moved = work_item_of(chat)
    assert (moved.queue, moved.overflowed_from, moved.agent) == (backup, main, helper)
    assert moved.enqueued_at == item.enqueued_at


def test_maximum_wait_ends_the_contact_and_tells_the_customer(committed) -> None:
    main = chat_queue()
    main.max_wait_seconds = 120
    main.max_wait_message = "Nobody is free, sorry. We will email you."
    main.save()
    with committed():
        chat = start_chat()
    item = work_item_of(chat)
    with committed():
        run_sweep(now=item.enqueued_at + timedelta(seconds=121))
    item.refresh_from_db()
    chat.refresh_from_db()
    assert item.status == WorkItem.Status.EXPIRED
    assert chat.status == Interaction.Status.CLOSED
    assert chat.messages.last().body == "Nobody is free, sorry. We will email you."


def test_maximum_wait_can_raise_the_priority_instead(committed) -> None:
    main = chat_queue()
    main.max_wait_seconds = 60
    main.max_wait_action = Queue.MaxWaitAction.RAISE_PRIORITY
    main.max_wait_priority = 50
    main.save()
    with committed():
        older = start_chat("Older")
    later = timezone.now() + timedelta(seconds=61)
    with committed():
        run_sweep(now=later)
    assert work_item_of(older).priority == 50
    assert work_item_of(older).status == WorkItem.Status.QUEUED


def test_overflow_settings_are_validated_in_admin(admin_client) -> None:
    main = chat_queue()
    backup = make_queue("Backup")
    backup.overflow_queue = main
    backup.overflow_after_seconds = 10
    backup.save()
    response = admin_client.post(
        f"/admin/routing/queue/{main.pk}/change/",
        {
            "name": main.name,
            "routing_config": main.routing_config_id,
            "overflow_queue": backup.pk,
            "overflow_after_seconds": 10,
            "max_wait_action": "close",
            "max_wait_priority": 100,
        },
    )
    assert response.status_code == 200
    assert "leads back to this queue" in response.content.decode()


# --- preferred agent --------------------------------------------------------------------------


def test_returning_customer_waits_for_their_last_agent_then_goes_to_anyone(committed) -> None:
    configure(chat_queue(), preferred_agent_seconds=45)
    known = make_agent("known", capacity=2, available=True)
    with committed():
        first = start_chat("Returning", email="back@example.com")
    with committed():
        accept_offer(agent=known, offer_id=pending_offers(known)[0].pk)
    other = make_agent("other", available=True)
    with committed():
        again = start_chat("Returning", email="back@example.com")
    item = work_item_of(again)
    assert item.preferred_agent == known
    # The known agent is full with the first chat: the item waits for them, not for "other".
    assert item.status == WorkItem.Status.QUEUED
    with committed():
        close_work(agent=known, work_item_id=work_item_of(first).pk, disposition_id=disposition())
    assert work_item_of(again).agent == known
    assert pending_offers(known)[0].routing_model == "preferred_agent"
    assert not pending_offers(other)


def test_preference_expires_and_anyone_may_take_it(committed) -> None:
    configure(chat_queue(), preferred_agent_seconds=45)
    known = make_agent("known", capacity=2, available=True)
    with committed():
        start_chat("Returning", email="back@example.com")
    with committed():
        accept_offer(agent=known, offer_id=pending_offers(known)[0].pk)
    other = make_agent("other", available=True)
    with committed():
        again = start_chat("Returning", email="back@example.com")
    with committed():
        run_sweep(now=work_item_of(again).enqueued_at + timedelta(seconds=46))
    assert work_item_of(again).agent == other


# --- triggers ---------------------------------------------------------------------------------


def test_a_pending_round_absorbs_further_triggers(committed) -> None:
    agent = make_agent(capacity=100, available=True)
    cache.set(ROUND_PENDING_KEY, 1, timeout=60)
    try:
        with committed():
            chats = [start_chat(f"Burst {n}") for n in range(20)]
        # A round is already on its way: the enqueues did not start 20 more.
        assert not pending_offers(agent)
        started = rounds_started()
        offers = run_requested_round()
    finally:
        cache.delete(ROUND_PENDING_KEY)
    assert len(offers) == 20
    assert {work_item_of(chat).agent for chat in chats} == {agent}
    assert cache.get(ROUNDS_STARTED_KEY) == started + 1
    assert cache.get(ROUND_PENDING_KEY) is None


def test_missed_status_accepts_no_work() -> None:
    assert not PresenceStatus.objects.get(name=MISSED_STATUS).channels.exists()


def test_one_transaction_of_many_enqueues_runs_one_round(committed) -> None:
    agent = make_agent(capacity=100, available=True)
    started = cache.get(ROUNDS_STARTED_KEY, 0)
    with committed():
        for n in range(30):
            start_chat(f"Batch {n}")
    assert cache.get(ROUNDS_STARTED_KEY) == started + 1
    assert len(pending_offers(agent)) == 30


def test_arrivals_while_every_agent_is_full_run_no_round(committed) -> None:
    agent = make_agent(capacity=2, available=True)
    with committed():
        start_chat("Fills the agent")
    started = cache.get(ROUNDS_STARTED_KEY, 0)
    for n in range(5):
        with committed():
            start_chat(f"Waits {n}")
    assert cache.get(ROUNDS_STARTED_KEY, 0) == started
    # Freed capacity brings the round that serves the line.
    with committed():
        decline_offer(
            agent=agent, offer_id=pending_offers(agent)[0].pk, reason_id=decline_reason().pk
        )
    assert cache.get(ROUNDS_STARTED_KEY) == started + 1
    assert len(pending_offers(agent)) == 1


def test_a_request_already_served_by_a_newer_round_runs_no_round(committed) -> None:
    agent = make_agent(capacity=100, available=True)
    with committed():
        start_chat("Served")
    started = rounds_started()
    # The flag is gone: a round started since the request and had its work in its snapshot.
    assert run_requested_round() is None
    assert rounds_started() == started
    assert len(pending_offers(agent)) == 1


def test_items_no_free_agent_can_take_do_not_starve_those_behind(committed, monkeypatch) -> None:

    monkeypatch.setattr(snapshot, "ROUND_ITEM_MINIMUM", 2)
    monkeypatch.setattr(snapshot, "ROUND_ITEMS_PER_FREE_UNIT", 1)
    vip = make_queue("VIP", routing_priority=1)
    make_rule("VIP in German", queue=vip, keywords="vip", skills=[("German", 1, None)])
    english = make_agent("english", capacity=2, queues=[vip, chat_queue()])
    with committed():
        for n in range(3):
            start_chat(f"VIP {n}", body="vip please")
        general = start_chat("General", body="hello")
    with committed():
        set_presence(agent=english, status_id=status("Available").pk)
    # The first window holds only German VIP chats; the round reads on and serves the rest.
    assert work_item_of(general).agent == english


def test_answering_an_expired_offer_does_not_count_as_missing_it(committed) -> None:
    agent = make_agent(available=True)
    with committed():
        start_chat()
    offer = pending_offers(agent)[0]
    with pytest.raises(Exception, match="expired"), committed():
        accept_offer(agent=agent, offer_id=offer.pk, now=offer.expires_at)
    agent.refresh_from_db()
    assert agent.status.name == "Available"
    assert Offer.objects.get(pk=offer.pk).outcome == Offer.Outcome.TIMED_OUT


def test_a_missed_offer_does_not_override_a_status_change_made_meanwhile(committed) -> None:
    agent = make_agent(available=True)
    with committed():
        start_chat()
    offer = pending_offers(agent)[0]
    with committed():
        set_presence(agent=agent, status_id=status("Break").pk)
        # The time-out decided to move them from Available; they are on a break now.
        set_presence(
            agent=agent,
            status_id=PresenceStatus.objects.get(name=MISSED_STATUS).pk,
            cause=AgentStatusChange.Cause.MISSED_OFFER,
            only_from_status_id=status("Available").pk,
        )
    agent.refresh_from_db()
    assert agent.status.name == "Break"
    assert Offer.objects.get(pk=offer.pk).outcome == Offer.Outcome.CANCELLED


def test_a_changed_routing_configuration_applies_to_the_next_arrival(committed) -> None:
    with committed():
        start_chat("Before")  # the intake rules are now kept by this process
    configure(chat_queue(), units_per_item=3, preferred_agent_seconds=30)
    with committed():
        after = start_chat("After")
    assert work_item_of(after).units == 3
