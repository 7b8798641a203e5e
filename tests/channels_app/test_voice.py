"""Calls in Twilio's Voice webhook format: ring in, hold, connect to the accepting agent,
status callbacks, and a hang-up while waiting."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from contactcenter.crm.models import Interaction
from routing.models import WorkItem
from routing.services.offers import accept_offer
from routing.services.rounds import run_round
from routing.services.work import close_work
from tests.factories import disposition, make_agent
from tests.providers import http_provider

pytestmark = pytest.mark.django_db

TOKEN = "twilio-auth-token"
ACCOUNT = "AC" + "1" * 32
CALL = "CA" + "c" * 32


@pytest.fixture
def twilio_settings(settings):
    settings.TWILIO_ACCOUNT_SID = ACCOUNT
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.PUBLIC_BASE_URL = "https://cc.example.com"
    return settings


def post_signed(client, path: str, form: dict[str, str]):
    signature = RequestValidator(TOKEN).compute_signature(f"https://cc.example.com{path}", form)
    return client.post(path, form, HTTP_X_TWILIO_SIGNATURE=signature)


def ring(client, **fields: str):
    form = {
        "CallSid": CALL,
        "AccountSid": ACCOUNT,
        "From": "+14155550100",
        "To": "+18005550199",
        "CallStatus": "ringing",
        "Direction": "inbound",
        **fields,
    }
    return post_signed(client, "/hooks/twilio/voice/", form)


def status(client, call_status: str, duration: str = ""):
    form = {"CallSid": CALL, "AccountSid": ACCOUNT, "CallStatus": call_status}
    if duration:
        form["CallDuration"] = duration
    return post_signed(client, "/hooks/twilio/voice/status/", form)


def test_an_incoming_call_is_queued_as_voice_work_and_the_caller_holds(
    client, twilio_settings
) -> None:
    response = ring(client)
    assert response.status_code == 200
    interaction = Interaction.objects.get()
    twiml = response.content.decode()
    assert "<Say>Thank you for calling." in twiml
    assert f"<Enqueue>interaction-{interaction.pk}</Enqueue>" in twiml
    assert interaction.channel == "voice"
    assert interaction.external_id == f"twilio:{CALL}"
    item = WorkItem.objects.get()
    assert item.queue.name == "Voice"
    # Twilio retries a webhook it got no answer to: still one call.
    assert ring(client).status_code == 200
    assert Interaction.objects.count() == 1 and WorkItem.objects.count() == 1


def test_accepting_a_call_rings_the_agents_browser_phone(
    client, twilio_settings, committed
) -> None:
    agent = make_agent(capacity=6, available=True, queues=[])
    with committed():
        ring(client)
    item = WorkItem.objects.get()
    agent.queues.add(item.queue)
    with committed():
        run_round()
    with http_provider((200, {"sid": CALL, "status": "in-progress"})) as twilio_api:
        twilio_settings.TWILIO_API_BASE_URL = twilio_api.url
        with committed():
            accept_offer(agent=agent, offer_id=item.offers.get().pk)
    request = twilio_api.requests[0]
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{CALL}.json"
    twiml = request.form()["Twiml"][0]
    assert f"<Dial><Client>agent-{agent.pk}</Client></Dial>" in twiml
    # The call takes the whole agent: nothing else is offered while it lasts.
    item.refresh_from_db()
    assert item.status == WorkItem.Status.ASSIGNED


def test_a_call_that_cannot_be_connected_is_noted_for_the_agent(
    client, twilio_settings, committed
) -> None:
    agent = make_agent(capacity=6, available=True, queues=[])
    with committed():
        ring(client)
    item = WorkItem.objects.get()
    agent.queues.add(item.queue)
    with committed():
        run_round()
    with http_provider((404, {"message": "The requested resource was not found"})) as api:
        twilio_settings.TWILIO_API_BASE_URL = api.url
        with committed():
            accept_offer(agent=agent, offer_id=item.offers.get().pk)
    assert item.interaction.messages.last().body.startswith("The call could not be connected")


def test_a_caller_who_hangs_up_while_waiting_abandons_the_work(client, twilio_settings) -> None:
    ring(client)
    assert status(client, "in-progress").status_code == 200
    assert Interaction.objects.get().call_status == "in-progress"
    assert status(client, "completed", "42").status_code == 200
    item = WorkItem.objects.get()
    assert item.status == WorkItem.Status.ABANDONED
    interaction = item.interaction
    interaction.refresh_from_db()
    assert interaction.status == "closed"
    assert interaction.duration_seconds == 42
    assert interaction.messages.last().body == "The call ended (completed, 0:42)."
    assert interaction.call_status == "completed"
    # A repeated or late callback changes nothing.
    assert status(client, "completed", "42").status_code == 200
    assert status(client, "ringing").status_code == 200
    interaction.refresh_from_db()
    assert interaction.call_status == "completed"
    assert interaction.messages.count() == 2


def test_a_call_that_ends_while_talking_leaves_the_agent_to_wrap_up(
    client, twilio_settings, committed
) -> None:
    agent = make_agent(capacity=6, available=True, queues=[])
    with committed():
        ring(client)
    item = WorkItem.objects.get()
    agent.queues.add(item.queue)
    with committed():
        run_round()
    with http_provider((200, {"sid": CALL})) as api:
        twilio_settings.TWILIO_API_BASE_URL = api.url
        with committed():
            accept_offer(agent=agent, offer_id=item.offers.get().pk)
    with committed():
        assert status(client, "completed", "185").status_code == 200
    item.refresh_from_db()
    assert item.status == WorkItem.Status.ASSIGNED
    assert item.interaction.messages.last().body == "The call ended (completed, 3:05)."
    with committed():
        close_work(agent=agent, work_item_id=item.pk, disposition_id=disposition())
    item.refresh_from_db()
    assert item.status == WorkItem.Status.CLOSED


@pytest.mark.parametrize(
    ("form", "field", "code"),
    [
        ({"CallSid": CALL, "CallStatus": "exploded"}, "CallStatus", 400),
        ({"CallSid": CALL, "CallStatus": "completed", "CallDuration": "long"}, "CallDuration", 400),
        ({"CallStatus": "completed"}, "CallSid", 400),
        ({"CallSid": "CAunknown", "CallStatus": "completed"}, "CallSid", 404),
    ],
)
def test_bad_status_callbacks_get_a_clear_error(
    client, twilio_settings, form: dict, field: str, code: int
) -> None:
    ring(client)
    response = post_signed(client, "/hooks/twilio/voice/status/", form)
    assert response.status_code == code
    assert response.json()["field"] == field
    assert WorkItem.objects.get().status == WorkItem.Status.QUEUED


def test_unsigned_calls_get_403(client, twilio_settings) -> None:
    response = client.post("/hooks/twilio/voice/", {"CallSid": CALL, "From": "+14155550100"})
    assert response.status_code == 403
    assert not Interaction.objects.exists()


def test_an_agents_browser_phone_token_names_their_client_identity(client, twilio_settings):
    import base64
    import hashlib
    import hmac
    import json

    agent = make_agent(capacity=2)
    client.force_login(agent.user)
    assert client.get("/api/voice/token/").status_code == 404
    twilio_settings.TWILIO_API_KEY_SID = "SK" + "2" * 32
    twilio_settings.TWILIO_API_KEY_SECRET = "api-key-secret-of-at-least-32-bytes!"
    body = client.get("/api/voice/token/").json()
    assert body["identity"] == f"agent-{agent.pk}"
    header, payload, signature = body["token"].split(".")

    def decoded(part: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))

    expected = hmac.new(
        b"api-key-secret-of-at-least-32-bytes!", f"{header}.{payload}".encode(), hashlib.sha256
    )
    assert base64.urlsafe_b64encode(expected.digest()).rstrip(b"=").decode() == signature
    grants = decoded(payload)["grants"]
    assert grants["identity"] == f"agent-{agent.pk}"
    assert grants["voice"]["incoming"] == {"allow": True}
    from tests.factories import make_user

    client.force_login(make_user())
    assert client.get("/api/voice/token/").status_code == 403
