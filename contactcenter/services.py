"""CRM services: resolve the customer, thread onto a case, append messages."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

import routing.services as routing_services
from contactcenter import events
from contactcenter.errors import Conflict, InvalidInput, NotFound
from contactcenter.models import Case, ChannelKind, ContactPoint, Customer, Interaction, Message
from contactcenter.selectors import message_payload
from routing.selectors import current_assignment

MAX_NAME_LENGTH = 120
MAX_MESSAGE_LENGTH = 4000


def clean_text(value: str, *, field: str, max_length: int, label: str) -> str:
    """Stripped text that every database stores as written, or InvalidInput naming the field.

    PostgreSQL refuses NUL characters and UTF-8 cannot encode lone surrogates, both of which
    JSON lets a client send; they are refused here rather than failing at the database.
    """
    text = (value or "").strip()
    if "\x00" in text or any("\ud800" <= char <= "\udfff" for char in text):
        raise InvalidInput(f"{label} contains characters that cannot be stored.", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{label} is longer than {max_length} characters.", field=field)
    return text


def normalize_email(raw: str) -> str:
    email = clean_text(raw, field="email", max_length=254, label="Email").lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidInput("Enter a valid email address.", field="email") from exc
    return email


def resolve_customer_by_email(*, email: str, name: str) -> Customer:
    """The customer who owns this email address, created on first contact."""
    point = (
        ContactPoint.objects.select_related("customer")
        .filter(kind=ContactPoint.Kind.EMAIL, value=email)
        .first()
    )
    if point is not None:
        return point.customer
    customer = Customer.objects.create(name=name)
    ContactPoint.objects.create(customer=customer, kind=ContactPoint.Kind.EMAIL, value=email)
    return customer


def open_case_for(customer: Customer, *, subject: str) -> Case:
    """The customer's open case, so that a new contact continues it; a new case otherwise."""
    case = customer.cases.filter(status=Case.Status.OPEN).order_by("-created_at", "-id").first()
    return case or Case.objects.create(customer=customer, subject=subject)


def start_web_chat(*, name: str, email: str) -> Interaction:
    name = clean_text(name, field="name", max_length=MAX_NAME_LENGTH, label="Name")
    if not name:
        raise InvalidInput("Enter your name.", field="name")
    email = normalize_email(email)
    with transaction.atomic():
        customer = resolve_customer_by_email(email=email, name=name)
        case = open_case_for(customer, subject="Web chat")
        return Interaction.objects.create(case=case, channel=ChannelKind.CHAT)


def _validated_body(body: str) -> str:
    body = clean_text(body, field="body", max_length=MAX_MESSAGE_LENGTH, label="Message")
    if not body:
        raise InvalidInput("Write a message first.", field="body")
    return body


def post_customer_message(*, interaction_id: int, body: str) -> Message:
    """Store what the customer wrote; the first message of a contact puts it in a queue."""
    body = _validated_body(body)
    with transaction.atomic():
        interaction = (
            Interaction.objects.select_for_update(of=("self",))
            .select_related("case__customer")
            .filter(pk=interaction_id)
            .first()
        )
        if interaction is None:
            raise NotFound(f"No conversation {interaction_id}.", field="interaction_id")
        if interaction.status != Interaction.Status.OPEN:
            raise Conflict("This conversation is closed.")
        message = append_message(interaction, sender=Message.Sender.CUSTOMER, body=body)
        if not interaction.work_items.exists():
            routing_services.enqueue(interaction)
    return message


def append_message(
    interaction: Interaction,
    *,
    sender: str,
    body: str,
    author: AbstractBaseUser | None = None,
    work_item_id: int | None = None,
    agent_id: int | None = None,
) -> Message:
    """Store a message and push it to the customer and to the agent working the contact."""
    message = Message.objects.create(
        interaction=interaction, sender=sender, body=body, author=author
    )
    if agent_id is None:
        work_item_id, agent_id = current_assignment(interaction.pk)
    events.message_created(
        interaction_id=interaction.pk,
        payload=message_payload(message, work_item_id=work_item_id),
        agent_id=agent_id,
    )
    return message


def post_agent_message(
    *,
    interaction: Interaction,
    author: AbstractBaseUser,
    body: str,
    work_item_id: int,
    agent_id: int,
) -> Message:
    body = _validated_body(body)
    if interaction.status != Interaction.Status.OPEN:
        raise Conflict("This conversation is closed.")
    return append_message(
        interaction,
        sender=Message.Sender.AGENT,
        body=body,
        author=author,
        work_item_id=work_item_id,
        agent_id=agent_id,
    )


def close_interaction(interaction: Interaction, *, now: datetime | None = None) -> None:
    if interaction.status == Interaction.Status.CLOSED:
        return
    interaction.status = Interaction.Status.CLOSED
    interaction.ended_at = now or timezone.now()
    interaction.save(update_fields=["status", "ended_at"])
