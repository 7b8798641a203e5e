"""One way in for every channel: an inbound message becomes a customer, a case, a message.

Adapters in ``channels_app`` turn a provider's wire format into an ``InboundMessage`` and call
``receive`` (through routing, which decides what happens next). It resolves the customer from
the normalised contact point, threads the message onto the conversation it continues (an
email's headers first, then the open conversation on that channel and address, then the
customer's recently active open case), stores it, and hands it to the caller's ``then``. One
transaction per inbound event; a provider's retry of a message already stored changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.db.models.functions import Coalesce
from django.utils import timezone

from contactcenter.crm import addresses
from contactcenter.crm.files import InboundAttachment, discard_files, store_files
from contactcenter.crm.messages import append_message
from contactcenter.crm.models import Case, ChannelKind, ContactPoint, Customer, Interaction, Message
from contactcenter.kernel.errors import InvalidInput
from contactcenter.kernel.text import clean_text

MAX_NAME_LENGTH = 120
MAX_SUBJECT_LENGTH = 200
# Short-message channels carry at most a few thousand characters; an email body may be long.
MAX_BODY_LENGTH = {ChannelKind.EMAIL: 100_000}
DEFAULT_MAX_BODY_LENGTH = 4000


@dataclass(frozen=True)
class InboundMessage:
    channel: str
    address_kind: str
    address: str
    body: str
    provider_message_id: str
    platform: str = ""
    business_address: str = ""
    customer_name: str = ""
    subject: str = ""
    # Provider ids of earlier messages this one answers (an email's In-Reply-To, References).
    replies_to: tuple[str, ...] = ()
    attachments: tuple[InboundAttachment, ...] = ()
    # The provider's id of the whole contact (a call): each one is its own conversation.
    external_id: str = ""
    # A call's arrival is an event in the transcript, not words of the customer.
    sender: str = Message.Sender.CUSTOMER


@dataclass(frozen=True)
class Received:
    message: Message
    created: bool


# What the layer above does with a newly stored message, in the same transaction (routing
# answers it with the bot or puts its contact in a queue).
AfterStoring = Callable[[Interaction, Message], None]


def receive(
    inbound: InboundMessage, *, then: AfterStoring | None, now: datetime | None = None
) -> Received:
    """Store an inbound message on the conversation it belongs to, once, and call ``then``
    with it in the same transaction (not for a provider's retry of a stored message). ``then``
    must be said, even as None: a message stored without routing its contact waits for
    nobody (``routing.services.conversations.receive`` passes the routing).

    Raises InvalidInput naming the field for anything that cannot be stored as sent.
    """
    checked = validated(inbound)
    # A concurrent first contact from the same address, or the provider's retry racing the
    # original, loses on a unique constraint; the second attempt reads what the winner wrote.
    for attempt in range(2):
        try:
            return _receive_once(checked, then=then, now=now or timezone.now())
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def validated(inbound: InboundMessage) -> InboundMessage:
    """The message with its address normalised and its text checked, or InvalidInput."""
    if inbound.channel not in ChannelKind.values:
        raise InvalidInput(f"Unknown channel {inbound.channel!r}.", field="channel")
    address = addresses.normalize(
        inbound.address_kind, inbound.address, field="from", platform=inbound.platform
    )
    limit = MAX_BODY_LENGTH.get(inbound.channel, DEFAULT_MAX_BODY_LENGTH)
    body = clean_text(inbound.body, field="body", max_length=limit, label="Message")
    if not body:
        raise InvalidInput("The message has no text.", field="body")
    provider_id = clean_text(
        inbound.provider_message_id, field="message_id", max_length=200, label="Message id"
    )
    if not provider_id:
        raise InvalidInput("The provider's message id is missing.", field="message_id")
    return InboundMessage(
        channel=inbound.channel,
        address_kind=inbound.address_kind,
        address=address,
        body=body,
        provider_message_id=provider_id,
        platform=inbound.platform,
        business_address=clean_text(
            inbound.business_address, field="to", max_length=254, label="Recipient"
        ),
        customer_name=clean_text(
            inbound.customer_name, field="name", max_length=MAX_NAME_LENGTH, label="Name"
        ),
        subject=clean_text(
            inbound.subject, field="subject", max_length=MAX_SUBJECT_LENGTH, label="Subject"
        ),
        replies_to=tuple(ref for ref in inbound.replies_to if ref)[:50],
        attachments=tuple(
            InboundAttachment(
                filename=clean_text(
                    attachment.filename, field="attachments", max_length=255, label="File name"
                )
                or "attachment",
                content_type=attachment.content_type[:120],
                data=attachment.data,
            )
            for attachment in inbound.attachments
        ),
        external_id=inbound.external_id[:200],
        sender=inbound.sender,
    )


def _receive_once(inbound: InboundMessage, *, then: AfterStoring | None, now: datetime) -> Received:
    stored_files: list[str] = []
    try:
        return _store(inbound, then=then, now=now, stored_files=stored_files)
    except BaseException:
        discard_files(stored_files)
        raise


def _store(
    inbound: InboundMessage,
    *,
    then: AfterStoring | None,
    now: datetime,
    stored_files: list[str],
) -> Received:
    with transaction.atomic():
        stored = Message.objects.filter(provider_message_id=inbound.provider_message_id).first()
        if stored is not None:
            return Received(message=stored, created=False)
        point = resolve_contact_point(
            inbound.address_kind,
            inbound.address,
            name=inbound.customer_name or display_address(inbound.address_kind, inbound.address),
        )
        interaction = _continued_interaction(inbound, point) or _new_interaction(
            inbound, point, now=now
        )
        message = append_message(
            interaction,
            sender=inbound.sender,
            body=inbound.body,
            provider_message_id=inbound.provider_message_id,
            store_attachments=lambda message: store_files(
                message, inbound.attachments, stored_files
            ),
        )
        if then is not None:
            then(interaction, message)
        return Received(message=message, created=True)


def resolve_contact_point(kind: str, value: str, *, name: str) -> ContactPoint:
    """The contact point of a normalised address, with a new customer on first contact.

    Locked: two messages arriving at once from a known address then thread one after the
    other (the second finds the conversation the first opened); from a new address, the
    second loses on the unique constraint and ``receive`` tries again.
    """
    point = (
        ContactPoint.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(kind=kind, value=value)
        .first()
    )
    if point is not None:
        return point
    customer = Customer.objects.create(name=name)
    return ContactPoint.objects.create(customer=customer, kind=kind, value=value)


def display_address(kind: str, value: str) -> str:
    """How to call a customer we know only by address."""
    if kind == ContactPoint.Kind.PLATFORM:
        platform, _, user_id = value.partition(":")
        return f"{platform.title()} user {user_id[-6:]}"
    return value


def thread_case(customer: Customer, *, subject: str, now: datetime) -> Case:
    """The customer's open case if it saw activity within CASE_THREADING_HOURS, else a new one."""
    cutoff = now - timedelta(hours=settings.CASE_THREADING_HOURS)
    case = (
        customer.cases.filter(status=Case.Status.OPEN)
        .annotate(last_activity=Coalesce(Max("interactions__started_at"), "created_at"))
        .filter(last_activity__gte=cutoff)
        .order_by("-last_activity", "-id")
        .first()
    )
    return case or Case.objects.create(customer=customer, subject=subject)


def _continued_interaction(inbound: InboundMessage, point: ContactPoint) -> Interaction | None:
    if inbound.external_id:
        return (
            Interaction.objects.select_for_update(of=("self",))
            .filter(external_id=inbound.external_id)
            .first()
        )
    if inbound.replies_to:
        answered = (
            Message.objects.filter(provider_message_id__in=inbound.replies_to)
            .select_related("interaction__case")
            .order_by("-created_at", "-id")
            .first()
        )
        if answered is not None and answered.interaction.case.customer_id == point.customer_id:
            interaction = answered.interaction
            if interaction.status == Interaction.Status.OPEN:
                return interaction
            # An answer to a finished conversation reopens its case as a new contact.
            return _new_interaction(inbound, point, case=_reopened(interaction.case))
    return (
        Interaction.objects.select_for_update(of=("self",))
        .filter(
            contact_point=point,
            channel=inbound.channel,
            business_address=inbound.business_address,
            status=Interaction.Status.OPEN,
        )
        .order_by("-started_at", "-id")
        .first()
    )


def _reopened(case: Case) -> Case:
    if case.status == Case.Status.CLOSED:
        case.status = Case.Status.OPEN
        case.closed_at = None
        case.save(update_fields=["status", "closed_at"])
    return case


def _new_interaction(
    inbound: InboundMessage,
    point: ContactPoint,
    *,
    now: datetime | None = None,
    case: Case | None = None,
) -> Interaction:
    subject = inbound.subject or f"{ChannelKind(inbound.channel).label} contact"
    if case is None:
        case = thread_case(point.customer, subject=subject, now=now or timezone.now())
    return Interaction.objects.create(
        case=case,
        channel=inbound.channel,
        contact_point=point,
        business_address=inbound.business_address,
        subject=inbound.subject,
        external_id=inbound.external_id,
    )
