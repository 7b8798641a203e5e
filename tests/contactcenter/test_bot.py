from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from contactcenter.crm import bot
from contactcenter.crm.models import BotIntent, Interaction, Message, Order
from contactcenter.crm.web_chat import start_web_chat
from routing import intake
from routing.models import IntakeRule, IntakeRuleSkill, Queue, ServiceChannel, Skill, WorkItem
from routing.services import conversations
from routing.services.conversations import post_customer_message, settle_idle_bot_conversations
from routing.services.departures import customer_left
from tests.factories import make_supervisor, make_user, text_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def bot_on(db) -> None:
    ServiceChannel.objects.filter(kind__in=["chat", "sms"]).update(self_service=True)
    intake.rules_changed()
    BotIntent.objects.create(
        name="Opening hours",
        examples="When are you open?\nWhat are your opening hours?\nare you open on sunday",
        answer="We are open Monday to Saturday, 8:00 to 20:00.",
        position=1,
    )
    BotIntent.objects.create(
        name="Order status",
        examples="Where is my order?\nWhat is the status of my order\ntrack my order",
        action=BotIntent.Action.ORDER_STATUS,
        answer="Order {number} is {status}; {carrier} tracking number {tracking_number}.",
        position=2,
    )
    BotIntent.objects.create(
        name="Refund",
        examples="I want a refund\nrefund my money\nI want my money back",
        action=BotIntent.Action.HANDOFF,
        answer="A refund needs one of our agents; I am passing you on.",
        position=3,
    )
    BotIntent.objects.create(
        name="Human",
        examples="talk to a person\nI want an agent\nspeak to a human",
        action=BotIntent.Action.HANDOFF,
        position=4,
    )
    BotIntent.objects.create(
        name="Thanks",
        examples="thanks that's all\nthank you bye",
        action=BotIntent.Action.END,
        answer="Glad I could help. Goodbye!",
        position=5,
    )


def chat_with(body: str, *, email: str = "ana@example.com") -> Interaction:
    interaction = start_web_chat(name="Ana", email=email)
    post_customer_message(interaction_id=interaction.pk, body=body)
    interaction.refresh_from_db()
    return interaction


def said(interaction: Interaction) -> list[tuple[str, str]]:
    return list(interaction.messages.values_list("sender", "body"))


def test_matching_picks_the_closest_example_and_ignores_filler_words() -> None:
    intents = [("Hours", ["When are you open?"]), ("Order", ["Where is my order?"])]
    assert bot.match_intent("hi, when are you open", intents, threshold=0.5).intent == "Hours"
    assert bot.match_intent("where is my order 12345?", intents, threshold=0.5).intent == "Order"
    assert bot.match_intent("the weather is nice", intents, threshold=0.5) is None
    assert bot.match_intent("hello there", intents, threshold=0.5) is None


def test_the_bot_answers_a_known_question_and_nothing_is_routed(bot_on) -> None:
    interaction = chat_with("What are your opening hours?")
    assert said(interaction)[-1] == ("bot", "We are open Monday to Saturday, 8:00 to 20:00.")
    assert interaction.bot_status == "active"
    assert interaction.bot_intent == "Opening hours"
    assert not WorkItem.objects.exists()


def test_the_bot_looks_up_the_customers_own_order(bot_on) -> None:
    interaction = chat_with("Where is my order?")
    assert said(interaction)[-1] == ("bot", bot.ASK_ORDER_NUMBER)
    Order.objects.create(
        number="A-10023",
        customer=interaction.case.customer,
        status=Order.Status.SHIPPED,
        placed_at=timezone.now() - timedelta(days=2),
        carrier="DHL",
        tracking_number="JD0123",
        total=Decimal("59.90"),
    )
    post_customer_message(interaction_id=interaction.pk, body="it is a-10023")
    assert said(interaction)[-1] == (
        "bot",
        "Order A-10023 is shipped; DHL tracking number JD0123.",
    )
    assert not WorkItem.objects.exists()


def test_someone_elses_order_is_not_shown_and_goes_to_an_agent(bot_on) -> None:
    owner = chat_with("hello", email="owner@example.com")
    Order.objects.create(
        number="77777",
        customer=owner.case.customer,
        placed_at=timezone.now(),
        total=Decimal("10"),
    )
    interaction = chat_with("where is my order 77777")
    assert said(interaction)[-1] == ("bot", bot.ORDER_NOT_FOUND.format(number="77777"))
    assert WorkItem.objects.get(interaction=interaction).status == WorkItem.Status.QUEUED


def test_two_misunderstandings_hand_off_with_the_transcript(bot_on) -> None:
    interaction = chat_with("My blender makes a funny noise")
    assert said(interaction)[-1] == ("bot", bot.NOT_UNDERSTOOD)
    assert not WorkItem.objects.exists()
    post_customer_message(interaction_id=interaction.pk, body="It rattles when it spins")
    interaction.refresh_from_db()
    assert interaction.bot_status == "handed_off"
    item = WorkItem.objects.get()
    assert item.interaction == interaction
    # The agent's work item carries the whole conversation with the bot.
    assert [sender for sender, _ in said(interaction)] == [
        "customer",
        "bot",
        "customer",
        "bot",
    ]


def test_a_handoff_intent_reaches_intake_rules_which_set_skills_and_priority(bot_on) -> None:
    refunds = Skill.objects.create(name="Refunds")
    queue = Queue.objects.get(name="Web chat")
    rule = IntakeRule.objects.create(name="Refunds", intent="Refund", queue=queue, priority=5)
    IntakeRuleSkill.objects.create(rule=rule, skill=refunds, min_level=4)
    interaction = chat_with("I want a refund please")
    assert said(interaction)[-1] == (
        "bot",
        "A refund needs one of our agents; I am passing you on.",
    )
    item = WorkItem.objects.get()
    assert (item.intake_rule, item.priority) == (rule, 5)
    assert list(item.skills.values_list("skill__name", "min_level")) == [("Refunds", 4)]
    # Later messages go to the agent, not the bot.
    post_customer_message(interaction_id=interaction.pk, body="Hello?")
    assert said(interaction)[-1] == ("customer", "Hello?")


def test_asking_for_a_person_hands_off_at_once(bot_on) -> None:
    interaction = chat_with("Can I speak to a human?")
    assert said(interaction)[-1] == ("bot", bot.HANDING_OFF)
    assert WorkItem.objects.get().interaction == interaction


def test_a_goodbye_ends_the_conversation_as_resolved_by_the_bot(bot_on) -> None:
    interaction = chat_with("When are you open?")
    post_customer_message(interaction_id=interaction.pk, body="Thank you, bye")
    interaction.refresh_from_db()
    assert (interaction.bot_status, interaction.status) == ("resolved", "closed")
    assert said(interaction)[-1] == ("bot", "Glad I could help. Goodbye!")


def test_a_customer_who_leaves_after_an_answer_counts_as_resolved(bot_on) -> None:
    helped = chat_with("When are you open?")
    customer_left(interaction_id=helped.pk)
    unhelped = chat_with("blah blah", email="b@example.com")
    customer_left(interaction_id=unhelped.pk)
    helped.refresh_from_db()
    unhelped.refresh_from_db()
    assert (helped.bot_status, helped.status) == ("resolved", "closed")
    assert (unhelped.bot_status, unhelped.status) == ("abandoned", "closed")


def test_the_bot_answers_text_messages_and_its_reply_is_sent_out(bot_on) -> None:
    received = conversations.receive(text_message("are you open on sunday?", sid="SM1"))
    reply = received.message.interaction.messages.last()
    assert (reply.sender, reply.delivery) == ("bot", Message.Delivery.PENDING)


def test_without_self_service_contacts_go_straight_to_the_queue(bot_on) -> None:
    ServiceChannel.objects.filter(kind="chat").update(self_service=False)
    intake.rules_changed()
    chat_with("When are you open?")
    assert WorkItem.objects.exists()
    assert not Message.objects.filter(sender="bot").exists()


def test_the_bot_report_counts_resolved_handed_off_and_abandoned(client, bot_on) -> None:
    helped = chat_with("When are you open?")
    customer_left(interaction_id=helped.pk)
    chat_with("I want an agent", email="c@example.com")
    chat_with("What are your opening hours?", email="d@example.com")
    client.force_login(make_supervisor())
    report = client.get("/api/reports/bot/?hours=1").json()
    assert report["handled"] == 3
    assert report["resolved_without_agent"] == 1
    assert report["handed_off"] == 1
    assert report["still_talking"] == 1
    assert report["resolution_rate"] == pytest.approx(0.333)
    assert client.get("/api/reports/bot/?hours=0").status_code == 400
    client.force_login(make_user())
    assert client.get("/api/reports/bot/").status_code == 403


def test_idle_bot_conversations_end_so_a_later_text_starts_afresh(bot_on) -> None:
    def text(body: str, sid: str) -> Interaction:
        return conversations.receive(text_message(body, sid=f"{sid}")).message.interaction

    answered = text("are you open on sunday?", "SM1")
    ignored = chat_with("blah blah", email="quiet@example.com")
    assert settle_idle_bot_conversations(now=timezone.now() + timedelta(minutes=10)) == 0
    later = timezone.now() + timedelta(minutes=31)
    assert settle_idle_bot_conversations(now=later) == 2
    answered.refresh_from_db()
    ignored.refresh_from_db()
    assert (answered.bot_status, answered.status) == ("resolved", "closed")
    assert (ignored.bot_status, ignored.status) == ("abandoned", "closed")
    again = text("What are your opening hours?", "SM2")
    assert again != answered
    assert (again.bot_misses, again.bot_answers) == (0, 1)
