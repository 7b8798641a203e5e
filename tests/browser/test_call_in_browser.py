"""An agent moves a chat to a call in real Chromium: the call is placed through a local
stand-in of Twilio's API, comes back to the same agent, and the console shows the live call
with its timer and the chat that came before it."""

from __future__ import annotations

import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from twilio.request_validator import RequestValidator

from tests.browser.conftest import running_server
from tests.browser.test_chat_in_browser import VIEWPORT, log_in, start_visitor_chat
from tests.providers import HttpProvider, http_provider

pytestmark = pytest.mark.browser
CALL_SID = "CA" + "d" * 32


@pytest.fixture(scope="module")
def twilio_api() -> Iterator[HttpProvider]:
    with http_provider((201, {"sid": CALL_SID, "status": "queued"})) as provider:
        yield provider


@pytest.fixture(scope="module")
def voice_server_url(tmp_path_factory, seeded_database, twilio_api) -> Iterator[str]:
    with running_server(
        tmp_path_factory.mktemp("voice-server"),
        database=seeded_database,
        TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        TWILIO_AUTH_TOKEN="browser-test-token",
        TWILIO_API_BASE_URL=twilio_api.url,
        TWILIO_CALLER_ID="+18005550199",
        INBOUND_EMAIL_TOKEN="browser-mail-token",
        INBOUND_EMAIL_DOMAINS="shop.example",
    ) as url:
        yield url


def test_an_agent_moves_a_chat_to_a_call_and_takes_it(voice_server_url, browser, twilio_api):
    agent_context = browser.new_context(viewport=VIEWPORT)
    visitor_context = browser.new_context(viewport=VIEWPORT)
    try:
        agent = agent_context.new_page()
        log_in(agent, voice_server_url, "agent01", "agent-demo", "/console/")
        expect(agent.get_by_text("Connected", exact=True)).to_be_visible()
        agent.get_by_label("Presence").select_option(label="Available")
        visitor = visitor_context.new_page()
        start_visitor_chat(
            visitor,
            voice_server_url,
            "Carl Caller",
            "carl@example.com",
            "Can I talk to a person? The router setup is confusing",
        )
        offers = agent.get_by_role("region", name="Offers")
        offers.get_by_role("button", name="Accept").click()
        expect(agent.get_by_role("tab", name="Carl Caller")).to_be_visible()

        agent.get_by_label("Call the customer").fill("+1 415 555 0142")
        agent.get_by_role("button", name="Call customer").click()
        transcript = agent.get_by_role("log", name="Transcript")
        expect(transcript).to_contain_text("is calling the customer at +14155550142")
        placed = [r for r in twilio_api.requests if r.path.endswith("/Calls.json")]
        assert placed and placed[0].form()["To"] == ["+14155550142"]

        # The agent wraps up the chat; the call, held for them, is offered next.
        agent.get_by_label("Disposition").select_option(label="Resolved")
        agent.get_by_role("button", name="Close").click()
        expect(offers).to_contain_text("voice")
        offers.get_by_role("button", name="Accept").click()
        expect(agent.get_by_text("On a call with +14155550142")).to_be_visible()
        timer = agent.get_by_role("timer")
        expect(timer).to_have_text("0:01", timeout=5000)
        agent.get_by_text("Earlier in this case (1 conversation)").click()
        expect(agent.get_by_role("region", name="Earlier chat")).to_contain_text(
            "The router setup is confusing"
        )
        agent.get_by_text("Customer 360 (profile, cases, all channels)").click()
        history = agent.get_by_role("list", name="Timeline")
        expect(history.locator("li")).to_have_count(2)
        expect(history).to_contain_text("voice")
        expect(history).to_contain_text("The router setup is confusing")
        expect(agent.get_by_role("list", name="Cases")).to_contain_text("open")
        agent.get_by_label("Tier").fill("gold")
        agent.get_by_label("Notes").fill("Prefers a call back")
        agent.get_by_role("button", name="Save customer").click()
        expect(agent.get_by_text("Saved.")).to_be_visible()
        connected = [r for r in twilio_api.requests if f"/Calls/{CALL_SID}.json" in r.path]
        assert connected and "<Client>agent-" in connected[0].form()["Twiml"][0]
    finally:
        agent_context.close()
        visitor_context.close()


def post_signed_sms(server_url: str, body: str, sid: str) -> int:
    url = f"{server_url}/hooks/twilio/messaging/"
    form = {
        "MessageSid": sid,
        "From": "+14155550177",
        "To": "+18005550100",
        "Body": body,
        "NumMedia": "0",
    }
    signature = RequestValidator("browser-test-token").compute_signature(url, form)
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(form).encode(), headers={"X-Twilio-Signature": signature}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_an_sms_reply_shows_whether_twilio_delivered_it(voice_server_url, browser, twilio_api):
    context = browser.new_context(viewport=VIEWPORT)
    try:
        agent = context.new_page()
        log_in(agent, voice_server_url, "agent02", "agent-demo", "/console/")
        expect(agent.get_by_text("Connected", exact=True)).to_be_visible()
        agent.get_by_label("Presence").select_option(label="Available")
        assert post_signed_sms(voice_server_url, "Can I talk to a person?", "SM" + "1" * 32) == 200
        offers = agent.get_by_role("region", name="Offers")
        expect(offers).to_contain_text("sms")
        offers.get_by_role("button", name="Accept").click()
        transcript = agent.get_by_role("log", name="Transcript")
        expect(transcript).to_contain_text("Can I talk to a person?")

        twilio_api.answers = [(400, {"code": 21610, "message": "Unsubscribed recipient"})]
        agent.get_by_label("Reply").fill("Hello from the shop")
        expect(agent.locator("#reply-counter")).to_have_text("19 characters · 1 SMS")
        agent.get_by_role("button", name="Send").click()
        refused = transcript.get_by_role("alert")
        expect(refused).to_contain_text("Not delivered: Twilio refused the message")
        expect(refused).to_contain_text("Unsubscribed recipient")

        twilio_api.answers = [(201, {"sid": "SM" + "2" * 32, "status": "queued"})]
        agent.get_by_label("Reply").fill("Second try")
        agent.get_by_role("button", name="Send").click()
        expect(transcript).to_contain_text("Second try")
        expect(transcript.get_by_text("Sending…")).to_have_count(0)
        sent = [r for r in twilio_api.requests if r.path.endswith("/Messages.json")]
        assert sent[-1].form()["Body"] == ["Second try"]
        assert sent[-1].form()["To"] == ["+14155550177"]
    finally:
        context.close()


def test_an_email_reply_carries_a_file_and_the_customers_attachment_shows(
    voice_server_url, browser, tmp_path
) -> None:
    from email.message import EmailMessage

    mail = EmailMessage()
    mail["From"] = "Erin Email <erin@customer.example>"
    mail["To"] = "support@shop.example"
    mail["Subject"] = "Damaged box"
    mail["Message-ID"] = "<box-1@customer.example>"
    mail.set_content("Can I talk to a person? The box arrived crushed.")
    mail.add_attachment(b"\x89PNG photo", maintype="image", subtype="png", filename="box.png")
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    try:
        # The agents of the tests above are still available until the absence sweep sees
        # their closed consoles: a supervisor sets them offline, so the email can only be
        # offered to agent03, however fast this machine runs.
        supervisor = context.new_page()
        log_in(supervisor, voice_server_url, "supervisor", "supervisor-demo", "/supervisor/")
        for name in ("Ada Lovelace", "Grace Hopper"):
            status = supervisor.get_by_label(f"Status of {name}")
            if status.input_value() == "":
                continue  # Signed out by the sweep already.
            with supervisor.expect_response(
                lambda response: "/presence/" in response.url and response.ok
            ):
                status.select_option(label="Offline")
        agent = context.new_page()
        log_in(agent, voice_server_url, "agent03", "agent-demo", "/console/")
        expect(agent.get_by_text("Connected", exact=True)).to_be_visible()
        agent.get_by_label("Presence").select_option(label="Available")
        expect(agent.locator("#capacity")).to_contain_text("0/6")
        request = urllib.request.Request(
            f"{voice_server_url}/hooks/email/",
            data=mail.as_bytes(),
            headers={
                "Authorization": "Bearer browser-mail-token",
                "Content-Type": "message/rfc822",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
        offers = agent.get_by_role("region", name="Offers")
        expect(offers).to_contain_text("email")
        offers.get_by_role("button", name="Accept").click()
        expect(agent.get_by_text("Subject: Damaged box")).to_be_visible()
        transcript = agent.get_by_role("log", name="Transcript")
        with agent.expect_download() as download:
            transcript.get_by_role("link", name="box.png").click()
        saved = tmp_path / "box.png"
        download.value.save_as(saved)
        assert saved.read_bytes() == b"\x89PNG photo"

        label = tmp_path / "return-label.pdf"
        label.write_bytes(b"%PDF-1.4 return label")
        agent.get_by_label("Attach files").set_input_files(str(label))
        agent.get_by_label("Reply").fill("Here is a return label.")
        agent.get_by_role("button", name="Send").click()
        expect(transcript).to_contain_text("Here is a return label.")
        expect(transcript.get_by_role("link", name="return-label.pdf")).to_be_visible()
    finally:
        context.close()
