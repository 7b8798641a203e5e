"""Moving between channels without losing context: a chat escalated to a call, a call coming
in while a chat is open, an email followed by a chat."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from contactcenter.crm import inbound
from contactcenter.crm.models import ContactPoint, Interaction, Message
from contactcenter.crm.web_chat import start_web_chat
from contactcenter.kernel.errors import Conflict, InvalidInput
from routing.models import Queue, WorkItem
from routing.selectors.payloads import work_item_payloads, work_items_with_context
from routing.services import conversations
from routing.services.conversations import post_customer_message
from routing.services.offers import accept_offer
from routing.services.rounds import run_round
from routing.services.work import close_work, escalate_to_call
from tests.factories import disposition, make_agent, text_message
from tests.providers import http_provider

pytestmark = pytest.mark.django_db

ACCOUNT = "AC" + "1" * 32
TOKEN = "twilio-auth-token"


@pytest.fixture
def twilio_settings(settings):
    settings.TWILIO_ACCOUNT_SID = ACCOUNT
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_CALLER_ID = "+18005550199"
    settings.PUBLIC_BASE_URL = "https://cc.example.com"
    return settings


def all_queues() -> list[Queue]:
    return list(Queue.objects.all())


def chat_taken_by(agent, committed, *, body: str = "My router keeps dropping") -> WorkItem:
    with committed():
        chat = start_web_chat(name="Ana Lima", email="ana@example.com", verified=True)
        post_customer_message(interaction_id=chat.pk, body=body)
    with committed():
        run_round()
    item = WorkItem.objects.get(interaction=chat)
    with committed():
        accept_offer(agent=item.agent, offer_id=item.offers.get().pk)
    item.refresh_from_db()
    assert item.agent == agent
    return item


def payload_of(item: WorkItem) -> dict:
    return work_item_payloads([work_items_with_context().get(pk=item.pk)])[0]


def test_an_agent_escalates_a_chat_to_a_call_that_comes_back_to_them(
    twilio_settings, committed
) -> None:
    ada = make_agent("ada", first_name="Ada", capacity=4, available=True, queues=all_queues())
    chat_item = chat_taken_by(ada, committed)
    # Another agent is free for calls the whole time: the call still waits for Ada.
    make_agent("bob", first_name="Bob", capacity=4, available=True, queues=all_queues())
    call_sid = "CA" + "e" * 32
    with http_provider((201, {"sid": call_sid, "status": "queued"})) as twilio_api:
        twilio_settings.TWILIO_API_BASE_URL = twilio_api.url
        with committed():
            call = escalate_to_call(agent=ada, work_item_id=chat_item.pk, phone="+1 415 555 0100")
    placed = twilio_api.requests[0]
    assert placed.path == f"/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
    form = placed.form()
    assert (form["To"], form["From"]) == (["+14155550100"], ["+18005550199"])
    assert f"<Enqueue>interaction-{call.pk}</Enqueue>" in form["Twiml"][0]
    assert form["StatusCallback"] == ["https://cc.example.com/hooks/twilio/voice/status/"]

    call.refresh_from_db()
    assert (call.channel, call.direction, call.case) == (
        "voice",
        "outbound",
        chat_item.interaction.case,
    )
    assert call.external_id == f"twilio:{call_sid}"
    voice_item = WorkItem.objects.get(interaction=call)
    assert voice_item.preferred_agent == ada
    assert ContactPoint.objects.get(kind="phone").customer == chat_item.interaction.case.customer
    notes = chat_item.interaction.messages.filter(sender=Message.Sender.SYSTEM)
    assert notes.last().body == "Ada is calling the customer at +14155550100."

    # While Ada still holds the chat the call waits for her, not for Bob.
    with committed():
        run_round()
    voice_item.refresh_from_db()
    assert voice_item.status == WorkItem.Status.QUEUED
    with committed():
        close_work(agent=ada, work_item_id=chat_item.pk, disposition_id=disposition())
    with committed():
        run_round()
    voice_item.refresh_from_db()
    assert (voice_item.status, voice_item.agent) == (WorkItem.Status.OFFERED, ada)

    with http_provider((200, {"sid": call_sid})) as twilio_api:
        twilio_settings.TWILIO_API_BASE_URL = twilio_api.url
        with committed():
            accept_offer(agent=ada, offer_id=voice_item.offers.get().pk)
    assert f"<Client>agent-{ada.pk}</Client>" in twilio_api.requests[0].form()["Twiml"][0]
    # The call's console panel carries the chat that came before it.
    earlier = payload_of(voice_item)["earlier"]
    assert [conversation["channel"] for conversation in earlier] == ["chat"]
    assert earlier[0]["messages"][0]["body"] == "My router keeps dropping"


def test_escalating_needs_a_number_of_this_customer(twilio_settings, committed) -> None:
    ada = make_agent("ada", capacity=4, available=True, queues=all_queues())
    chat_item = chat_taken_by(ada, committed)
    with pytest.raises(InvalidInput) as missing:
        escalate_to_call(agent=ada, work_item_id=chat_item.pk)
    assert missing.value.field == "phone"
    with pytest.raises(InvalidInput):
        escalate_to_call(agent=ada, work_item_id=chat_item.pk, phone="not a number")
    other = conversations.receive(text_message("Hi", sid="SMother", sender="+14155550111"))
    assert other.message.interaction.case.customer != chat_item.interaction.case.customer
    with pytest.raises(Conflict):
        escalate_to_call(agent=ada, work_item_id=chat_item.pk, phone="+14155550111")
    assert not Interaction.objects.filter(channel="voice").exists()


def test_a_call_the_provider_refuses_is_reported_on_the_chat(twilio_settings, committed) -> None:
    ada = make_agent("ada", capacity=4, available=True, queues=all_queues())
    chat_item = chat_taken_by(ada, committed)
    refusal = {"code": 21215, "message": "Geo permission not enabled", "status": 400}
    with http_provider((400, refusal)) as twilio_api:
        twilio_settings.TWILIO_API_BASE_URL = twilio_api.url
        with committed():
            call = escalate_to_call(agent=ada, work_item_id=chat_item.pk, phone="+4930123456")
    call.refresh_from_db()
    assert call.status == "closed"
    assert not WorkItem.objects.filter(interaction=call).exists()
    last = chat_item.interaction.messages.last()
    assert last.body.startswith("The call could not be placed")
    assert "Geo permission" in last.body


def test_a_customer_who_calls_while_chatting_reaches_the_same_agent_with_the_chat(
    client, twilio_settings, committed
) -> None:
    ada = make_agent("ada", first_name="Ada", capacity=4, available=True, queues=all_queues())
    chat_item = chat_taken_by(ada, committed)
    customer = chat_item.interaction.case.customer
    ContactPoint.objects.create(customer=customer, kind="phone", value="+14155550100")
    form = {"CallSid": "CA" + "f" * 32, "From": "+14155550100", "To": "+18005550199"}
    signature = RequestValidator(TOKEN).compute_signature(
        "https://cc.example.com/hooks/twilio/voice/", form
    )
    with committed():
        client.post("/hooks/twilio/voice/", form, HTTP_X_TWILIO_SIGNATURE=signature)
    call_item = WorkItem.objects.get(interaction__channel="voice")
    assert call_item.interaction.case == chat_item.interaction.case
    assert call_item.preferred_agent == ada
    earlier = payload_of(call_item)["earlier"]
    assert earlier[0]["messages"][0]["body"] == "My router keeps dropping"


def test_a_chat_after_an_email_shows_the_email_and_prefers_its_agent(committed, settings) -> None:
    from routing.models import RoutingConfig

    RoutingConfig.objects.filter(name="Web chat").update(preferred_agent_seconds=60)
    ada = make_agent("ada", first_name="Ada", capacity=4, available=True, queues=all_queues())
    with committed():
        conversations.receive(
            inbound.InboundMessage(
                channel="email",
                address_kind=ContactPoint.Kind.EMAIL,
                address="ana@example.com",
                body="Invoice 42 is wrong",
                provider_message_id="email:<inv@mail>",
                business_address="support@shop.example",
                subject="Invoice",
            )
        )
    with committed():
        run_round()
    email_item = WorkItem.objects.get()
    with committed():
        accept_offer(agent=ada, offer_id=email_item.offers.get().pk)
    with committed():
        chat = start_web_chat(name="Ana", email="ana@example.com", verified=True)
        post_customer_message(interaction_id=chat.pk, body="About my email")
    chat_item = WorkItem.objects.get(interaction=chat)
    assert chat_item.interaction.case == email_item.interaction.case
    assert chat_item.preferred_agent == ada
    earlier = payload_of(chat_item)["earlier"]
    assert [(c["channel"], c["messages"][0]["body"]) for c in earlier] == [
        ("email", "Invoice 42 is wrong")
    ]


def test_placing_and_connecting_a_call_twice_rings_once(twilio_settings, committed) -> None:
    from channels_app import tasks

    ada = make_agent("ada", first_name="Ada", capacity=4, available=True, queues=all_queues())
    chat_item = chat_taken_by(ada, committed)
    call_sid = "CA" + "9" * 32
    with http_provider((201, {"sid": call_sid, "status": "queued"})) as twilio_api:
        twilio_settings.TWILIO_API_BASE_URL = twilio_api.url
        with committed():
            call = escalate_to_call(agent=ada, work_item_id=chat_item.pk, phone="+4930123456")
        # A redelivered task finds the call placed already.
        tasks.place_call.delay(call.pk, ada.pk, chat_item.interaction_id)
    assert len(twilio_api.requests) == 1
    with committed():
        close_work(agent=ada, work_item_id=chat_item.pk, disposition_id=disposition())
    with committed():
        run_round()
    voice_item = WorkItem.objects.get(interaction=call)
    with http_provider((200, {"sid": call_sid})) as twilio_api:
        twilio_settings.TWILIO_API_BASE_URL = twilio_api.url
        with committed():
            accept_offer(agent=ada, offer_id=voice_item.offers.get().pk)
        tasks.connect_call.delay(call.pk, ada.pk)
        # Someone who does not hold the call cannot have it put through to them.
        tasks.connect_call.delay(call.pk, ada.pk + 1)
    assert len(twilio_api.requests) == 1


def test_a_call_cannot_be_placed_when_twilio_is_not_set_up(twilio_settings, committed) -> None:
    ada = make_agent("ada", capacity=4, available=True, queues=all_queues())
    chat_item = chat_taken_by(ada, committed)
    twilio_settings.TWILIO_AUTH_TOKEN = ""
    with committed():
        call = escalate_to_call(agent=ada, work_item_id=chat_item.pk, phone="+4930123456")
    call.refresh_from_db()
    assert call.status == "closed"
    assert chat_item.interaction.messages.last().body == (
        "The call could not be placed: Twilio is not set up on this deployment."
    )
