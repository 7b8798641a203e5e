"""Each provider's webhook with its real wire format: signed the way the provider signs,
posted over HTTP to the app, and the replies checked at a local stand-in of the provider."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from twilio.request_validator import RequestValidator

from contactcenter.crm.messages import append_message
from contactcenter.crm.models import Customer, Interaction, Message
from contactcenter.crm.web_chat import start_web_chat
from routing.models import WorkItem
from routing.services.offers import accept_offer
from routing.services.rounds import run_round
from routing.services.work import send_agent_message
from tests.factories import make_agent
from tests.providers import http_provider

pytestmark = pytest.mark.django_db

TWILIO_TOKEN = "twilio-auth-token"
TWILIO_URL = "https://cc.example.com/hooks/twilio/messaging/"
META_SECRET = "meta-app-secret"


@pytest.fixture
def twilio_settings(settings):
    settings.TWILIO_ACCOUNT_SID = "AC" + "1" * 32
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.PUBLIC_BASE_URL = "https://cc.example.com"
    return settings


@pytest.fixture
def meta_settings(settings):
    settings.META_APP_SECRET = META_SECRET
    settings.META_VERIFY_TOKEN = "verify-me"
    settings.META_PAGE_ACCESS_TOKEN = "page-token"
    return settings


def twilio_form(body: str = "Where is my order?", **fields: str) -> dict[str, str]:
    return {
        "MessageSid": fields.pop("MessageSid", "SM" + "a" * 32),
        "AccountSid": "AC" + "1" * 32,
        "From": "+14155550100",
        "To": "+14155559999",
        "Body": body,
        "NumMedia": "0",
        **fields,
    }


def post_twilio(client, form: dict[str, str], *, signature: str | None = None):
    if signature is None:
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(TWILIO_URL, form)
    return client.post("/hooks/twilio/messaging/", form, HTTP_X_TWILIO_SIGNATURE=signature)


def test_a_signed_sms_becomes_a_queued_conversation(client, twilio_settings) -> None:
    response = post_twilio(client, twilio_form())
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert b"<Response>" in response.content
    message = Message.objects.get()
    assert message.body == "Where is my order?"
    assert message.provider_message_id == "twilio:SM" + "a" * 32
    assert message.interaction.channel == "sms"
    assert WorkItem.objects.get().status == WorkItem.Status.QUEUED


def test_a_twilio_retry_stores_nothing_twice(client, twilio_settings) -> None:
    assert post_twilio(client, twilio_form()).status_code == 200
    assert post_twilio(client, twilio_form()).status_code == 200
    assert Message.objects.count() == 1


def test_whatsapp_media_arrives_as_links_on_a_messaging_conversation(
    client, twilio_settings
) -> None:
    form = twilio_form(
        "Photo of the damage",
        From="whatsapp:+14155550100",
        To="whatsapp:+14155559999",
        NumMedia="1",
        MediaUrl0="https://api.twilio.com/media/ME1",
        ProfileName="Ana Lima",
    )
    assert post_twilio(client, form).status_code == 200
    message = Message.objects.get()
    assert message.interaction.channel == "messaging"
    assert message.body == "Photo of the damage\n[attachment] https://api.twilio.com/media/ME1"
    assert message.interaction.case.customer.name == "Ana Lima"


@pytest.mark.parametrize("signature", ["", "bm90IHRoZSBzaWduYXR1cmU="])
def test_unsigned_or_badly_signed_twilio_requests_get_403_and_store_nothing(
    client, twilio_settings, signature: str
) -> None:
    form = twilio_form()
    if signature == "":
        response = client.post("/hooks/twilio/messaging/", form)
    else:
        response = post_twilio(client, form, signature=signature)
    assert response.status_code == 403
    assert not Message.objects.exists()
    assert not Customer.objects.exists()


def test_a_signature_for_other_parameters_is_refused(client, twilio_settings) -> None:
    signed = twilio_form("Original text")
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(TWILIO_URL, signed)
    response = post_twilio(client, twilio_form("Tampered text"), signature=signature)
    assert response.status_code == 403
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"From": ""}, "From"),
        ({"MessageSid": ""}, "MessageSid"),
        ({"From": "not-a-number"}, "from"),
        ({"Body": ""}, "body"),
        ({"Body": "x" * 5000}, "body"),
        ({"NumMedia": "many"}, "NumMedia"),
    ],
)
def test_malformed_twilio_messages_get_400_naming_the_field(
    client, twilio_settings, change: dict, field: str
) -> None:
    response = post_twilio(client, {**twilio_form(), **change})
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert not Message.objects.exists()


def test_twilio_webhooks_are_404_until_twilio_is_set_up(client, settings) -> None:
    settings.TWILIO_AUTH_TOKEN = ""
    assert client.post("/hooks/twilio/messaging/", twilio_form()).status_code == 404


def accepted_sms_conversation(client, committed, **form: str) -> tuple:
    agent = make_agent(capacity=4, available=True, queues=[])
    with committed():
        post_twilio(client, twilio_form("Hi", **form))
    item = WorkItem.objects.get()
    agent.queues.add(item.queue)
    with committed():
        run_round()
    offer = item.offers.get()
    with committed():
        accept_offer(agent=offer.agent, offer_id=offer.pk)
    item.refresh_from_db()
    return offer.agent, item


def test_an_agents_reply_goes_out_through_twilio_from_the_number_written_to(
    client, twilio_settings, committed
) -> None:
    agent, item = accepted_sms_conversation(client, committed)
    with http_provider((201, {"sid": "SM" + "b" * 32, "status": "queued"})) as twilio_api:
        twilio_settings.TWILIO_API_BASE_URL = twilio_api.url
        with committed():
            reply = send_agent_message(agent=agent, work_item_id=item.pk, body="It ships today.")
    request = twilio_api.requests[0]
    assert request.path == f"/2010-04-01/Accounts/{'AC' + '1' * 32}/Messages.json"
    assert request.form() == {
        "To": ["+14155550100"],
        "From": ["+14155559999"],
        "Body": ["It ships today."],
    }
    assert request.headers["authorization"].startswith("Basic ")
    reply.refresh_from_db()
    assert reply.delivery == Message.Delivery.SENT
    assert reply.provider_message_id == "twilio:SM" + "b" * 32


def test_a_whatsapp_reply_goes_out_on_whatsapp(client, twilio_settings, committed) -> None:
    agent, item = accepted_sms_conversation(
        client, committed, From="whatsapp:+14155550100", To="whatsapp:+14155238886"
    )
    with http_provider((201, {"sid": "SMwa", "status": "queued"})) as twilio_api:
        twilio_settings.TWILIO_API_BASE_URL = twilio_api.url
        with committed():
            send_agent_message(agent=agent, work_item_id=item.pk, body="Hola!")
    form = twilio_api.requests[0].form()
    assert (form["To"], form["From"]) == (["whatsapp:+14155550100"], ["whatsapp:+14155238886"])


def test_a_reply_twilio_refuses_is_marked_failed_with_the_reason(
    client, twilio_settings, committed
) -> None:
    agent, item = accepted_sms_conversation(client, committed)
    refusal = {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}
    with http_provider((400, refusal)) as twilio_api:
        twilio_settings.TWILIO_API_BASE_URL = twilio_api.url
        with committed():
            reply = send_agent_message(agent=agent, work_item_id=item.pk, body="Hello?")
    assert len(twilio_api.requests) == 1
    reply.refresh_from_db()
    assert reply.delivery == Message.Delivery.FAILED
    assert "unsubscribed recipient" in reply.delivery_error


def test_a_reply_is_retried_while_twilio_is_failing_and_sent_once_it_recovers(
    client, twilio_settings, committed
) -> None:
    agent, item = accepted_sms_conversation(client, committed)
    answers = [(503, {"message": "down"}), (500, {"message": "down"}), (201, {"sid": "SMok"})]
    with http_provider(*answers) as twilio_api:
        twilio_settings.TWILIO_API_BASE_URL = twilio_api.url
        with committed():
            reply = send_agent_message(agent=agent, work_item_id=item.pk, body="Back!")
    assert len(twilio_api.requests) == 3
    reply.refresh_from_db()
    assert reply.delivery == Message.Delivery.SENT
    assert reply.provider_message_id == "twilio:SMok"


def test_a_reply_is_given_up_on_after_the_configured_retries(
    client, twilio_settings, committed
) -> None:
    agent, item = accepted_sms_conversation(client, committed)
    with http_provider((503, {"message": "down"})) as twilio_api:
        twilio_settings.TWILIO_API_BASE_URL = twilio_api.url
        with committed():
            reply = send_agent_message(agent=agent, work_item_id=item.pk, body="Hi?")
    from django.conf import settings

    assert len(twilio_api.requests) == settings.DELIVERY_MAX_RETRIES + 1
    reply.refresh_from_db()
    assert reply.delivery == Message.Delivery.FAILED
    assert reply.delivery_error.startswith("Gave up after retries")


# --- Meta ----------------------------------------------------------------------------------


def meta_event(mid: str = "m_1", text: str = "Hello from Messenger", **message) -> dict:
    return {
        "sender": {"id": "6000001"},
        "recipient": {"id": "PAGE1"},
        "timestamp": 1764400000000,
        "message": {"mid": mid, "text": text, **message},
    }


def post_meta(client, payload: dict | bytes, *, secret: str = META_SECRET, signed: bool = True):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {}
    if signed:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers["HTTP_X_HUB_SIGNATURE_256"] = f"sha256={digest}"
    return client.post("/hooks/meta/", body, content_type="application/json", **headers)


def test_meta_verifies_the_webhook_with_the_challenge_handshake(client, meta_settings) -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": "verify-me",
        "hub.challenge": "1158201444",
    }
    response = client.get("/hooks/meta/", params)
    assert response.status_code == 200
    assert response.content == b"1158201444"
    wrong = client.get("/hooks/meta/", {**params, "hub.verify_token": "guess"})
    assert wrong.status_code == 403


def test_a_signed_meta_delivery_stores_each_message_once(client, meta_settings) -> None:
    payload = {
        "object": "page",
        "entry": [
            {
                "id": "PAGE1",
                "time": 1764400000000,
                "messaging": [
                    meta_event("m_1", "First"),
                    meta_event("m_2", "Second"),
                    # Our own reply echoed back, and a read receipt: not customer messages.
                    {**meta_event("m_3", "Our reply"), "message": {"mid": "m_3", "is_echo": True}},
                    {"sender": {"id": "6000001"}, "recipient": {"id": "PAGE1"}, "read": {}},
                ],
            }
        ],
    }
    response = post_meta(client, payload)
    assert response.status_code == 200
    assert response.json() == {"received": 2}
    assert post_meta(client, payload).status_code == 200
    bodies = list(Message.objects.values_list("body", flat=True))
    assert bodies == ["First", "Second"]
    interaction = Interaction.objects.get()
    assert interaction.channel == "social"
    assert interaction.contact_point.value == "messenger:6000001"
    assert interaction.business_address == "messenger:PAGE1"


@pytest.mark.parametrize("secret", ["wrong-secret", None])
def test_meta_deliveries_without_a_valid_signature_get_403(client, meta_settings, secret) -> None:
    payload = {"object": "page", "entry": [{"messaging": [meta_event()]}]}
    if secret is None:
        response = post_meta(client, payload, signed=False)
    else:
        response = post_meta(client, payload, secret=secret)
    assert response.status_code == 403
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b"{not json", "body"),
        ({"object": "whatsapp_business_account", "entry": []}, "object"),
        ({"object": "page", "entry": {}}, "entry"),
        (
            {"object": "page", "entry": [{"messaging": [{"message": {"mid": "m"}}]}]},
            "entry[0].messaging[0].sender.id",
        ),
        (
            {"object": "page", "entry": [{"messaging": [meta_event(text=7)]}]},
            "entry[0].messaging[0].message.text",
        ),
        ({"object": ["page"], "entry": []}, "object"),
        (
            {
                "object": "page",
                "entry": [{"messaging": [meta_event(text="", attachments=[{"payload": "x"}])]}],
            },
            "body",
        ),
    ],
)
def test_malformed_meta_deliveries_get_400_naming_the_field(
    client, meta_settings, payload, field: str
) -> None:
    response = post_meta(client, payload)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert not Message.objects.exists()


def test_a_meta_delivery_with_one_bad_message_stores_none_of_them(client, meta_settings) -> None:
    payload = {
        "object": "page",
        "entry": [{"messaging": [meta_event("m_1", "Fine"), meta_event("m_2", "bad \x00")]}],
    }
    response = post_meta(client, payload)
    assert response.status_code == 400
    assert not Message.objects.exists()


def test_an_agents_reply_goes_out_through_the_send_api(client, meta_settings, committed) -> None:
    agent = make_agent(capacity=4, available=True)
    with committed():
        post_meta(client, {"object": "instagram", "entry": [{"messaging": [meta_event()]}]})
    item = WorkItem.objects.get()
    agent.queues.add(item.queue)
    with committed():
        run_round()
    offer = item.offers.get()
    with committed():
        accept_offer(agent=agent, offer_id=offer.pk)
    with http_provider((200, {"recipient_id": "6000001", "message_id": "m_out"})) as graph:
        meta_settings.META_GRAPH_BASE_URL = graph.url + "/v21.0"
        with committed():
            reply = send_agent_message(agent=agent, work_item_id=item.pk, body="Hi!")
    request = graph.requests[0]
    assert request.path == "/v21.0/me/messages"
    assert request.query == {"access_token": ["page-token"]}
    assert request.json() == {
        "recipient": {"id": "6000001"},
        "messaging_type": "RESPONSE",
        "message": {"text": "Hi!"},
    }
    reply.refresh_from_db()
    assert (reply.delivery, reply.provider_message_id) == ("sent", "meta:m_out")


def test_web_chat_replies_are_not_sent_through_a_provider(committed) -> None:
    interaction = start_web_chat(name="Ana", email="ana@example.com")
    message = append_message(interaction, sender=Message.Sender.AGENT, body="Hi")
    assert message.delivery == Message.Delivery.NONE


def test_a_reply_on_a_channel_not_set_up_fails_with_the_reason(
    client, twilio_settings, committed
) -> None:
    agent, item = accepted_sms_conversation(client, committed)
    twilio_settings.TWILIO_AUTH_TOKEN = ""
    with committed():
        reply = send_agent_message(agent=agent, work_item_id=item.pk, body="Hello")
    reply.refresh_from_db()
    assert reply.delivery == Message.Delivery.FAILED
    assert reply.delivery_error == "Twilio is not set up on this deployment."


def test_a_reply_whose_task_was_lost_is_sent_by_the_periodic_redelivery(
    client, twilio_settings, committed
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from channels_app import tasks

    agent, item = accepted_sms_conversation(client, committed)
    # Stored, but its task never reached a worker (no commit callbacks ran).
    reply = send_agent_message(agent=agent, work_item_id=item.pk, body="Late reply")
    Message.objects.filter(pk=reply.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    with http_provider((201, {"sid": "SMlate"})) as twilio_api:
        twilio_settings.TWILIO_API_BASE_URL = twilio_api.url
        tasks.redeliver_stale.delay()
    reply.refresh_from_db()
    assert (reply.delivery, reply.provider_message_id) == ("sent", "twilio:SMlate")
    assert len(twilio_api.requests) == 1


# --- what every adapter refuses -----------------------------------------------------------


def test_an_oversized_webhook_body_gets_400_and_stores_nothing(
    client, meta_settings, settings
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    payload = {"object": "page", "entry": [{"messaging": [meta_event(text="x" * 20_000)]}]}
    assert post_meta(client, payload).status_code == 400
    assert not Message.objects.exists()


def test_unknown_channels_and_channels_not_set_up_are_404(client, settings) -> None:
    settings.META_APP_SECRET = ""
    assert client.post("/hooks/telegram/", {"x": "1"}).status_code == 404
    assert client.get("/hooks/meta/", {"hub.mode": "subscribe"}).status_code == 404
    assert post_meta(client, {"object": "page", "entry": []}).status_code == 404
    assert not Message.objects.exists()
