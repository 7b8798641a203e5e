"""Email in through the SMTP listener (a real smtplib client) and the raw-message webhook,
and replies out through an SMTP server started by the test, threaded by their headers."""

from __future__ import annotations

import email
import email.policy
import smtplib
from email.message import EmailMessage

import pytest
from django.core.files.storage import default_storage

from channels_app import smtp
from channels_app.providers.email import html_to_text
from contactcenter.crm.models import Attachment, Customer, Interaction, Message
from routing.models import WorkItem
from routing.services.offers import accept_offer
from routing.services.rounds import run_round
from routing.services.work import send_agent_message
from tests.factories import make_agent
from tests.providers import free_port, smtp_server

TOKEN = "inbound-mail-token"


@pytest.fixture
def mail_settings(settings, tmp_path):
    settings.INBOUND_EMAIL_TOKEN = TOKEN
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.INBOUND_EMAIL_DOMAINS = ["shop.example"]
    return settings


def customer_mail(
    body: str = "My parcel never arrived.",
    *,
    message_id: str = "<first@customer.example>",
    html: str | None = None,
    attachment: bytes | None = None,
    **headers: str,
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = headers.pop("From", "Ana Lima <Ana.Lima@Customer.example>")
    mail["To"] = headers.pop("To", "support@shop.example")
    mail["Subject"] = headers.pop("Subject", "Missing parcel")
    mail["Message-ID"] = message_id
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(body)
    if html is not None:
        mail.add_alternative(html, subtype="html")
    if attachment is not None:
        mail.add_attachment(attachment, maintype="image", subtype="png", filename="receipt.png")
    return mail


def post_raw(client, raw: bytes, *, token: str = TOKEN):
    return client.post(
        "/hooks/email/", raw, content_type="message/rfc822", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


@pytest.mark.django_db
def test_a_raw_email_becomes_a_conversation_with_its_attachment(client, mail_settings) -> None:
    raw = customer_mail(attachment=b"\x89PNG fake image bytes").as_bytes()
    response = post_raw(client, raw)
    assert response.status_code == 201
    message = Message.objects.get()
    assert message.body == "My parcel never arrived."
    assert message.provider_message_id == "email:<first@customer.example>"
    interaction = message.interaction
    assert (interaction.channel, interaction.subject) == ("email", "Missing parcel")
    assert interaction.business_address == "support@shop.example"
    assert interaction.case.customer.name == "Ana Lima"
    assert interaction.contact_point.value == "ana.lima@customer.example"
    stored = Attachment.objects.get()
    assert (stored.filename, stored.content_type, stored.size) == ("receipt.png", "image/png", 21)
    with default_storage.open(stored.file.name) as saved:
        assert saved.read() == b"\x89PNG fake image bytes"
    assert WorkItem.objects.get().status == WorkItem.Status.QUEUED
    again = post_raw(client, raw)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert Message.objects.count() == 1 and Attachment.objects.count() == 1


@pytest.mark.django_db
def test_html_only_email_is_read_as_text(client, mail_settings) -> None:
    mail = EmailMessage()
    mail["From"] = "ana@customer.example"
    mail["To"] = "support@shop.example"
    mail["Subject"] = "Hi"
    mail.set_content(
        "<html><head><style>p{}</style></head><body><p>Order <b>#123</b> is late.</p>"
        '<ul><li>Item one</li></ul><p>See <a href="https://track.example/1">tracking</a></p>'
        "<script>alert(1)</script></body></html>",
        subtype="html",
    )
    assert post_raw(client, mail.as_bytes()).status_code == 201
    assert Message.objects.get().body == (
        "Order #123 is late.\n\n- Item one\n\nSee tracking (https://track.example/1)"
    )


def test_html_to_text_keeps_paragraphs_and_drops_scripts() -> None:
    assert html_to_text("<p>One</p><p>Two<br>Three</p><script>x()</script>") == (
        "One\n\nTwo\nThree"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"", "message"),
        (b"Subject: no sender\r\n\r\nHello", "From"),
        (b"From: nobody\r\nSubject: x\r\n\r\nHello", "From"),
        (b'From: a@customer.example\r\nTo: "\r\nSubject: x\r\n\r\nHello', "message"),
    ],
)
def test_malformed_emails_get_400_naming_the_problem(
    client, mail_settings, raw: bytes, field: str
) -> None:
    response = post_raw(client, raw)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_an_oversized_attachment_gets_400_and_stores_nothing(client, mail_settings) -> None:
    mail_settings.EMAIL_ATTACHMENT_MAX_BYTES = 10
    response = post_raw(client, customer_mail(attachment=b"x" * 11).as_bytes())
    assert response.status_code == 400
    assert response.json()["field"] == "attachments"
    assert not Message.objects.exists() and not Customer.objects.exists()


@pytest.mark.django_db
def test_the_email_webhook_needs_its_token(client, mail_settings) -> None:
    raw = customer_mail().as_bytes()
    assert post_raw(client, raw, token="guess").status_code == 403
    mail_settings.INBOUND_EMAIL_TOKEN = ""
    assert post_raw(client, raw).status_code == 404
    assert not Message.objects.exists()


@pytest.fixture
def smtp_listener(mail_settings, transactional_db, reference_data):
    port = free_port()
    listener = smtp.controller(host="127.0.0.1", port=port)
    listener.start()
    try:
        yield port
    finally:
        listener.stop()


def test_the_smtp_listener_stores_mail_sent_by_a_real_client(smtp_listener) -> None:
    with smtplib.SMTP("127.0.0.1", smtp_listener, timeout=10) as client:
        client.send_message(customer_mail())
    message = Message.objects.get()
    assert message.body == "My parcel never arrived."
    assert message.interaction.business_address == "support@shop.example"


def test_the_smtp_listener_refuses_other_domains_and_unreadable_mail(smtp_listener) -> None:
    with smtplib.SMTP("127.0.0.1", smtp_listener, timeout=10) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.send_message(customer_mail(To="someone@elsewhere.example"))
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail("x@customer.example", ["support@shop.example"], b"Subject: x\r\n\r\nhi")
    assert refused.value.smtp_code == 550
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_an_agents_reply_threads_onto_the_customers_email_and_their_answer_comes_back(
    client, mail_settings, committed
) -> None:
    agent = make_agent(capacity=4, available=True)
    with committed():
        post_raw(client, customer_mail().as_bytes())
    item = WorkItem.objects.get()
    agent.queues.add(item.queue)
    with committed():
        run_round()
    with committed():
        accept_offer(agent=agent, offer_id=item.offers.get().pk)
    with smtp_server() as relay:
        mail_settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        mail_settings.EMAIL_HOST, mail_settings.EMAIL_PORT = "127.0.0.1", relay.port
        with committed():
            reply = send_agent_message(
                agent=agent, work_item_id=item.pk, body="A new parcel is on its way."
            )
    envelope = relay.messages[0]
    assert envelope.mail_from == "support@shop.example"
    assert envelope.rcpt_tos == ["ana.lima@customer.example"]
    sent = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert sent["Subject"] == "Re: Missing parcel"
    assert sent["In-Reply-To"] == "<first@customer.example>"
    assert sent["References"] == "<first@customer.example>"
    content = sent.get_content().replace("\r\n", "\n")
    assert content.startswith("A new parcel is on its way.\n\nOn ")
    assert "Ana Lima wrote:\n> My parcel never arrived." in content
    reply.refresh_from_db()
    assert reply.delivery == Message.Delivery.SENT
    assert reply.provider_message_id == f"email:{sent['Message-ID']}"

    # The customer answers from another mail program, with a new subject: the headers thread it.
    answer = customer_mail(
        "Thanks!",
        message_id="<second@customer.example>",
        Subject="thanks",
        In_Reply_To=sent["Message-ID"],
        References=f"<first@customer.example> {sent['Message-ID']}",
    )
    assert post_raw(client, answer.as_bytes()).status_code == 201
    assert Interaction.objects.count() == 1
    thread = Message.objects.filter(interaction=item.interaction).exclude(sender="system")
    assert [message.body for message in thread] == [
        "My parcel never arrived.",
        "A new parcel is on its way.",
        "Thanks!",
    ]


@pytest.mark.django_db
def test_an_email_over_the_size_limit_gets_400(client, mail_settings) -> None:
    mail_settings.EMAIL_MAX_BYTES = 2048
    response = post_raw(client, customer_mail("x" * 5000).as_bytes())
    assert response.status_code == 400
    assert response.json()["field"] == "message"
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_replies_never_come_from_a_mailbox_outside_our_domains(client, mail_settings) -> None:
    mail_settings.EMAIL_REPLY_FROM = "help@shop.example"
    raw = customer_mail(To="ceo@bank.example").as_bytes()
    assert post_raw(client, raw).status_code == 201
    assert Interaction.objects.get().business_address == "help@shop.example"


@pytest.mark.django_db
def test_attachments_reach_the_agent_and_only_staff_can_download_them(
    client, mail_settings
) -> None:
    from contactcenter.crm.selectors import customer_transcript, message_payload
    from tests.factories import make_agent, make_user

    assert (
        post_raw(client, customer_mail(attachment=b"\x89PNG bytes").as_bytes()).status_code == 201
    )
    message = customer_transcript(Message.objects.get().interaction_id)[0]
    [attachment] = message_payload(message)["attachments"]
    assert (attachment["filename"], attachment["size"]) == ("receipt.png", 10)
    client.force_login(make_user())
    assert client.get(attachment["url"]).status_code == 403
    client.force_login(make_agent().user)
    download = client.get(attachment["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"\x89PNG bytes"
    assert download["Content-Disposition"].startswith('attachment; filename="receipt.png"')
    assert download["X-Content-Type-Options"] == "nosniff"
    assert client.get("/api/attachments/999999/").status_code == 404


@pytest.mark.django_db
def test_an_agent_sends_a_file_with_an_email_reply(client, mail_settings, committed) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    agent = make_agent(capacity=4, available=True)
    with committed():
        post_raw(client, customer_mail().as_bytes())
    item = WorkItem.objects.get()
    agent.queues.add(item.queue)
    with committed():
        run_round()
    with committed():
        accept_offer(agent=agent, offer_id=item.offers.get().pk)
    client.force_login(agent.user)
    url = f"/api/work-items/{item.pk}/replies/"
    with smtp_server() as relay:
        mail_settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        mail_settings.EMAIL_HOST, mail_settings.EMAIL_PORT = "127.0.0.1", relay.port
        with committed():
            response = client.post(
                url,
                {
                    "body": "The label is attached.",
                    "files": SimpleUploadedFile("label.pdf", b"%PDF-1.4 label", "application/pdf"),
                },
            )
    assert response.status_code == 201
    sent = email.message_from_bytes(relay.messages[0].original_content, policy=email.policy.default)
    [attached] = list(sent.iter_attachments())
    assert (attached.get_filename(), attached.get_content()) == ("label.pdf", b"%PDF-1.4 label")
    assert client.post(url, {"body": ""}).status_code == 400
    assert client.post("/api/work-items/999999/replies/", {"body": "x"}).status_code == 404
