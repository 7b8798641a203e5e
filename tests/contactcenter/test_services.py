from __future__ import annotations

import pytest

from contactcenter.crm.interactions import close_interaction
from contactcenter.crm.models import Case, ContactPoint, Customer, Interaction, Message
from contactcenter.crm.web_chat import start_web_chat
from contactcenter.kernel.errors import Conflict, InvalidInput, NotFound
from routing.models import WorkItem
from routing.services.conversations import post_customer_message

pytestmark = pytest.mark.django_db


def test_the_same_email_in_any_case_resolves_to_one_customer() -> None:
    first = start_web_chat(name="Maria Garcia", email="Maria@Example.com", verified=True)
    second = start_web_chat(name="M. Garcia", email=" maria@example.com ", verified=True)
    assert Customer.objects.count() == 1
    assert ContactPoint.objects.get().value == "maria@example.com"
    assert first.case.customer == second.case.customer
    assert second.case.customer.name == "Maria Garcia"


def test_a_new_chat_continues_the_customers_open_case() -> None:
    first = start_web_chat(name="Maria", email="maria@example.com", verified=True)
    second = start_web_chat(name="Maria", email="maria@example.com", verified=True)
    assert first.case == second.case
    assert Case.objects.count() == 1
    assert Interaction.objects.count() == 2


def test_an_unverified_visitor_is_never_joined_to_the_customer_who_owns_the_email() -> None:
    owner = start_web_chat(name="Maria Garcia", email="maria@example.com", verified=True)
    owner.case.customer.tier = "gold"
    owner.case.customer.save()
    visitor = start_web_chat(name="Someone", email="maria@example.com")
    assert visitor.case.customer != owner.case.customer
    assert visitor.case != owner.case
    assert (visitor.contact_point, visitor.claimed_email) == (None, "maria@example.com")
    assert visitor.case.customer.name == "Someone"
    assert visitor.case.customer.tier == ""
    assert ContactPoint.objects.get().customer == owner.case.customer


def test_a_closed_case_is_not_reopened_by_a_new_chat() -> None:
    first = start_web_chat(name="Maria", email="maria@example.com", verified=True)
    Case.objects.filter(pk=first.case_id).update(status="closed", closed_at=first.started_at)
    second = start_web_chat(name="Maria", email="maria@example.com", verified=True)
    assert second.case != first.case


def test_only_the_first_customer_message_enqueues_work() -> None:
    interaction = start_web_chat(name="Maria", email="maria@example.com")
    post_customer_message(interaction_id=interaction.pk, body="Hello")
    post_customer_message(interaction_id=interaction.pk, body="Anyone?")
    assert WorkItem.objects.filter(interaction=interaction).count() == 1
    assert list(interaction.messages.values_list("body", flat=True)) == ["Hello", "Anyone?"]


@pytest.mark.parametrize(
    ("name", "email", "field"),
    [("", "a@example.com", "name"), ("A" * 121, "a@example.com", "name"), ("Ann", "nope", "email")],
)
def test_bad_chat_start_names_the_field_and_stores_nothing(name, email, field) -> None:
    with pytest.raises(InvalidInput) as error:
        start_web_chat(name=name, email=email)
    assert error.value.field == field
    assert Customer.objects.count() == 0


def test_messages_to_a_closed_or_unknown_conversation_are_refused() -> None:
    interaction = start_web_chat(name="Maria", email="maria@example.com")
    close_interaction(interaction)
    with pytest.raises(Conflict):
        post_customer_message(interaction_id=interaction.pk, body="Hello?")
    with pytest.raises(NotFound):
        post_customer_message(interaction_id=424242, body="Hello?")
    assert Message.objects.count() == 0
