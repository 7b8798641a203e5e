from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from contactcenter.crm import addresses, inbound
from contactcenter.crm.models import Case, ContactPoint, Customer, Interaction, Message
from contactcenter.kernel.errors import InvalidInput
from routing.models import WorkItem
from routing.services import conversations

pytestmark = pytest.mark.django_db


def sms(body: str = "Hello", *, sid: str = "SM1", sender: str = "+14155550100", **fields):
    return inbound.InboundMessage(
        channel=fields.pop("channel", "sms"),
        address_kind=ContactPoint.Kind.PHONE,
        address=sender,
        body=body,
        provider_message_id=f"twilio:{sid}",
        business_address=fields.pop("business_address", "+14155559999"),
        **fields,
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+1 (415) 555-0100", "+14155550100"),
        ("415-555-0100", "+14155550100"),
        ("whatsapp:+4930 1234567", "+49301234567"),
        ("tel:+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_numbers_are_stored_in_e164(raw: str, expected: str) -> None:
    assert addresses.normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["", "call me", "+1 2", "+99999999999999999999"])
def test_impossible_phone_numbers_are_refused_naming_the_field(raw: str) -> None:
    with pytest.raises(InvalidInput) as error:
        addresses.normalize_phone(raw, field="From")
    assert error.value.field == "From"


def test_platform_ids_are_scoped_by_platform() -> None:
    assert addresses.normalize_platform_id("messenger", " 12345 ") == "messenger:12345"
    with pytest.raises(InvalidInput):
        addresses.normalize_platform_id("Messenger!", "12345")
    with pytest.raises(InvalidInput):
        addresses.normalize_platform_id("messenger", "12 345")


def test_a_new_number_creates_a_customer_a_case_and_a_queued_work_item() -> None:
    received = conversations.receive(sms("My order is late"))
    assert received.created
    interaction = received.message.interaction
    assert interaction.channel == "sms"
    assert interaction.contact_point.value == "+14155550100"
    assert interaction.business_address == "+14155559999"
    assert interaction.case.customer.name == "+14155550100"
    assert WorkItem.objects.get(interaction=interaction).status == WorkItem.Status.QUEUED


def test_a_provider_retry_stores_the_message_once() -> None:
    first = conversations.receive(sms("Hello", sid="SMdup"))
    again = conversations.receive(sms("Hello", sid="SMdup"))
    assert not again.created
    assert again.message == first.message
    assert Message.objects.count() == 1
    assert WorkItem.objects.count() == 1


def test_further_messages_continue_the_open_conversation() -> None:
    first = conversations.receive(sms("Hello", sid="SM1"))
    second = conversations.receive(sms("Are you there?", sid="SM2"))
    assert second.message.interaction == first.message.interaction
    assert WorkItem.objects.count() == 1


def test_the_same_number_on_whatsapp_is_the_same_customer_in_another_conversation() -> None:
    texted = conversations.receive(sms("Hi by SMS", sid="SM1"))
    whatsapp = conversations.receive(
        sms(
            "Hi on WhatsApp",
            sid="SM2",
            sender="whatsapp:+14155550100",
            channel="messaging",
            business_address="whatsapp:+14155559999",
        )
    )
    assert Customer.objects.count() == 1
    assert whatsapp.message.interaction != texted.message.interaction
    assert whatsapp.message.interaction.case == texted.message.interaction.case


def test_a_new_contact_after_the_threading_window_opens_a_new_case(settings) -> None:
    settings.CASE_THREADING_HOURS = 24
    first = conversations.receive(sms("Hello", sid="SM1"))
    Interaction.objects.filter(pk=first.message.interaction_id).update(status="closed")
    later = timezone.now() + timedelta(hours=25)
    Interaction.objects.filter(pk=first.message.interaction_id).update(
        started_at=timezone.now() - timedelta(hours=25)
    )
    second = conversations.receive(sms("Back again", sid="SM2"), now=later)
    assert second.message.interaction.case != first.message.interaction.case
    assert Case.objects.filter(status="open").count() == 2


def test_a_new_contact_within_the_window_joins_the_open_case(settings) -> None:
    settings.CASE_THREADING_HOURS = 24
    first = conversations.receive(sms("Hello", sid="SM1"))
    Interaction.objects.filter(pk=first.message.interaction_id).update(status="closed")
    second = conversations.receive(sms("One more thing", sid="SM2"))
    assert second.message.interaction != first.message.interaction
    assert second.message.interaction.case == first.message.interaction.case


def test_an_email_reply_threads_by_its_headers_even_from_a_closed_case() -> None:
    def mail(body: str, message_id: str, replies_to: tuple[str, ...] = ()):
        return inbound.InboundMessage(
            channel="email",
            address_kind=ContactPoint.Kind.EMAIL,
            address="Ana@Example.com",
            body=body,
            provider_message_id=f"email:{message_id}",
            business_address="support@shop.example",
            subject="Refund",
            replies_to=replies_to,
        )

    first = conversations.receive(mail("I want a refund", "<a@mail>"))
    case = first.message.interaction.case
    Interaction.objects.filter(pk=first.message.interaction_id).update(status="closed")
    Case.objects.filter(pk=case.pk).update(status="closed", closed_at=timezone.now())
    reply = conversations.receive(mail("Still waiting", "<b@mail>", replies_to=("email:<a@mail>",)))
    assert reply.message.interaction.case == case
    case.refresh_from_db()
    assert case.status == "open"
    assert reply.message.interaction.subject == "Refund"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"body": "  "}, "body"),
        ({"body": "x" * 4001}, "body"),
        ({"body": "bad \x00 byte"}, "body"),
        ({"address": "not a number"}, "from"),
        ({"provider_message_id": ""}, "message_id"),
        ({"channel": "fax"}, "channel"),
    ],
)
def test_bad_inbound_messages_store_nothing(change: dict, field: str) -> None:
    message = sms()
    message = inbound.InboundMessage(**{**message.__dict__, **change})
    with pytest.raises(InvalidInput) as error:
        conversations.receive(message)
    assert error.value.field == field
    assert not Customer.objects.exists()
    assert not Message.objects.exists()
