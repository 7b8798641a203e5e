"""CRM services: resolve the customer, thread onto a case, append messages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

import routing.services as routing_services
from contactcenter.crm import bot, events
from contactcenter.crm.addresses import normalize_email, normalize_phone
from contactcenter.crm.inbound import (
    InboundAttachment,
    discard_files,
    resolve_contact_point,
    store_files,
    thread_case,
)
from contactcenter.crm.models import (
    Attachment,
    ChannelKind,
    ContactPoint,
    Customer,
    Interaction,
    Message,
)
from contactcenter.crm.selectors import message_payload
from contactcenter.kernel.errors import Conflict, InvalidInput, NotFound
from contactcenter.kernel.realtime import after_commit
from contactcenter.kernel.text import clean_text
from routing import events as routing_events
from routing.selectors import current_assignment

MAX_NAME_LENGTH = 120
MAX_MESSAGE_LENGTH = 4000
# Channels whose replies a provider carries; web chat replies go over the chat socket and a
# call's notes are not sent anywhere.
OUTBOUND_CHANNELS = frozenset(
    {ChannelKind.EMAIL, ChannelKind.SMS, ChannelKind.MESSAGING, ChannelKind.SOCIAL}
)
# System notices ("Anna joined") are for the chat window and the console, not a text message.
SENT_OUT_BY = frozenset({Message.Sender.AGENT, Message.Sender.BOT})


def start_web_chat(*, name: str, email: str, site: str = "", verified: bool = False) -> Interaction:
    """A visitor's new chat; ``site`` names the website whose widget they used.

    Anyone can type any email address, so only a ``verified`` one (signed by the site's server
    for its signed-in shopper) joins the customer who owns it, with their cases, orders and
    history. An unverified visitor becomes a customer of their own: the agent sees the email
    they claimed, and can merge the records once the conversation has shown who they are.
    """
    name = clean_text(name, field="name", max_length=MAX_NAME_LENGTH, label="Name")
    if not name:
        raise InvalidInput("Enter your name.", field="name")
    email = normalize_email(email)
    with transaction.atomic():
        if verified:
            point = resolve_contact_point(ContactPoint.Kind.EMAIL, email, name=name)
            customer, claimed = point.customer, ""
        else:
            point, customer, claimed = None, Customer.objects.create(name=name), email
        case = thread_case(customer, subject="Web chat", now=timezone.now())
        return Interaction.objects.create(
            case=case,
            channel=ChannelKind.CHAT,
            contact_point=point,
            business_address=site,
            claimed_email=claimed,
        )


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
        answer_or_route(interaction, message)
    return message


def answer_or_route(interaction: Interaction, message: Message) -> None:
    """After a customer message: the bot answers it, or a contact not yet routed is queued.

    A bot hand-off queues the contact with the intent it detected, for intake rules to match.
    """
    if interaction.work_items.exists():
        return
    if bot.takes(interaction):
        outcome = bot.customer_message(interaction, message)
        if outcome.resolved:
            close_interaction(interaction)
            routing_events.chat_status(interaction.pk, state="closed", note="resolved")
            return
        if not outcome.handoff:
            routing_events.chat_status(interaction.pk, state="assistant")
            return
    routing_services.enqueue(interaction, intent=interaction.bot_intent)


def append_message(
    interaction: Interaction,
    *,
    sender: str,
    body: str,
    author: AbstractBaseUser | None = None,
    work_item_id: int | None = None,
    agent_id: int | None = None,
    provider_message_id: str | None = None,
    internal: bool = False,
    store_attachments: Callable[[Message], list[Attachment]] | None = None,
) -> Message:
    """Store a message and push it to the customer and to the agent working the contact.

    An agent's message on a channel other than web chat is sent out by its provider once the
    transaction commits (``channels_app.delivery``).
    """
    sent_out = not internal and sender in SENT_OUT_BY and interaction.channel in OUTBOUND_CHANNELS
    message = Message.objects.create(
        interaction=interaction,
        sender=sender,
        body=body,
        author=author,
        provider_message_id=provider_message_id,
        delivery=Message.Delivery.PENDING if sent_out else Message.Delivery.NONE,
        internal=internal,
    )
    # Stored before the message is announced, so that its event already lists them.
    message.attached = store_attachments(message) if store_attachments else []
    if agent_id is None:
        work_item_id, agent_id = current_assignment(interaction.pk)
    events.message_created(
        interaction_id=interaction.pk,
        payload=message_payload(message, work_item_id=work_item_id),
        agent_id=agent_id,
        internal=internal,
    )
    # After the message's own event, so that consoles know the message its outcome is about.
    if sent_out:
        message_id = message.pk

        def dispatch_delivery() -> None:
            from channels_app import tasks as channel_tasks

            channel_tasks.deliver_message.delay(message_id)

        after_commit(dispatch_delivery)
    return message


def post_internal_note(
    *,
    interaction: Interaction,
    author: AbstractBaseUser,
    body: str,
    work_item_id: int,
    agent_id: int,
) -> Message:
    """A note for colleagues on the conversation; never shown or sent to the customer."""
    return append_message(
        interaction,
        sender=Message.Sender.AGENT,
        body=_validated_body(body),
        author=author,
        work_item_id=work_item_id,
        agent_id=agent_id,
        internal=True,
    )


MAX_REPLY_FILES = 10


def check_reply_files(channel: str, sizes: list[int]) -> None:
    """Whether a reply on this channel may carry files of these sizes; needs only the sizes,
    so that an upload can be refused before it is read into memory."""
    if sizes and channel != ChannelKind.EMAIL:
        raise InvalidInput("Files can be sent on email conversations only.", field="files")
    if len(sizes) > MAX_REPLY_FILES:
        raise InvalidInput(f"At most {MAX_REPLY_FILES} files per reply.", field="files")
    limit = settings.EMAIL_ATTACHMENT_MAX_BYTES
    if any(size > limit for size in sizes):
        raise InvalidInput(f"Files are limited to {limit} bytes each.", field="files")


def post_agent_message(
    *,
    interaction: Interaction,
    author: AbstractBaseUser,
    body: str,
    work_item_id: int,
    agent_id: int,
    files: tuple[InboundAttachment, ...] = (),
) -> Message:
    """An agent's reply; on email it may carry files, which go out attached to it."""
    body = _validated_body(body)
    if interaction.status != Interaction.Status.OPEN:
        raise Conflict("This conversation is closed.")
    check_reply_files(interaction.channel, [len(file.data) for file in files])
    files = tuple(
        InboundAttachment(
            filename=clean_text(file.filename, field="files", max_length=255, label="File name")
            or "file",
            content_type=file.content_type[:120],
            data=file.data,
        )
        for file in files
    )
    stored_files: list[str] = []
    try:
        with transaction.atomic():
            return append_message(
                interaction,
                sender=Message.Sender.AGENT,
                body=body,
                author=author,
                work_item_id=work_item_id,
                agent_id=agent_id,
                store_attachments=(
                    (lambda message: store_files(message, files, stored_files)) if files else None
                ),
            )
    except BaseException:
        discard_files(stored_files)
        raise


def close_interaction(interaction: Interaction, *, now: datetime | None = None) -> None:
    if interaction.status == Interaction.Status.CLOSED:
        return
    interaction.status = Interaction.Status.CLOSED
    interaction.ended_at = now or timezone.now()
    interaction.save(update_fields=["status", "ended_at"])


def work_started(interaction: Interaction, *, agent_id: int) -> None:
    """An agent took the contact: a waiting caller is put through to them once it commits."""
    if interaction.channel == ChannelKind.VOICE and interaction.external_id:
        interaction_id = interaction.pk

        def dispatch_connect() -> None:
            from channels_app import tasks as channel_tasks

            channel_tasks.connect_call.delay(interaction_id, agent_id)

        after_commit(dispatch_connect)


def note_on_interaction(interaction_id: int, body: str) -> Message | None:
    """A system line in a contact's transcript, seen by the agent working it."""
    with transaction.atomic():
        interaction = Interaction.objects.filter(pk=interaction_id).first()
        if interaction is None:
            return None
        return append_message(interaction, sender=Message.Sender.SYSTEM, body=body)


def call_status_changed(
    *, external_id: str, status: str, ended: bool, duration: int | None
) -> None:
    """The provider reports a call's progress (ringing, in progress, ended with its duration).

    An ended call frees its place: a caller who hangs up while waiting abandons the work
    item; one who hangs up while talking leaves the agent their wrap-up, which ends with
    closing the work. Reports after the end (providers send them out of order) are ignored.
    """
    with transaction.atomic():
        interaction = (
            Interaction.objects.select_for_update(of=("self",))
            .filter(external_id=external_id, channel=ChannelKind.VOICE)
            .first()
        )
        if interaction is None:
            raise NotFound("No call with this id.", field="CallSid")
        if interaction.duration_seconds is not None:
            return
        interaction.call_status = status
        if not ended:
            interaction.save(update_fields=["call_status"])
            return
        interaction.duration_seconds = duration or 0
        interaction.save(update_fields=["call_status", "duration_seconds"])
        minutes, seconds = divmod(interaction.duration_seconds, 60)
        append_message(
            interaction,
            sender=Message.Sender.SYSTEM,
            body=f"The call ended ({status}, {minutes}:{seconds:02d}).",
        )
    routing_services.customer_left(interaction_id=interaction.pk)


def customer_left_unrouted(interaction_id: int, *, now: datetime | None = None) -> None:
    """The customer went away before any agent work began: a conversation with the bot is
    settled, and the contact ends (nothing waits for them any more)."""
    interaction = (
        Interaction.objects.select_for_update(of=("self",)).filter(pk=interaction_id).first()
    )
    if interaction is None or interaction.status != Interaction.Status.OPEN:
        return
    bot.customer_left(interaction)
    close_interaction(interaction, now=now)


RESUME_SALT = "contactcenter.chat-resume"


def chat_resume_token(interaction_id: int, *, name: str) -> str:
    """What the visitor's browser tab keeps to come back to this chat after a reload."""
    return signing.dumps({"interaction": interaction_id, "name": name}, salt=RESUME_SALT)


def resume_web_chat(token: str) -> tuple[Interaction, str]:
    """The open chat a resume token names, and the name the visitor typed."""
    try:
        data = signing.loads(token, salt=RESUME_SALT, max_age=settings.CHAT_RESUME_MAX_AGE_SECONDS)
    except signing.BadSignature as exc:
        raise InvalidInput("This chat can no longer be resumed.", field="token") from exc
    interaction = (
        Interaction.objects.select_related("case")
        .filter(pk=data.get("interaction"), channel=ChannelKind.CHAT)
        .first()
    )
    if interaction is None or interaction.status != Interaction.Status.OPEN:
        raise Conflict("This chat has ended.")
    return interaction, str(data.get("name", ""))


# The connection mark of a web chat whose visitor left while an agent held it.
CUSTOMER_LEFT = "left"


def customer_connected(interaction_id: int, *, connection: str) -> None:
    """The visitor's page holds this chat on ``connection`` now (a start or a resume)."""
    Interaction.objects.filter(pk=interaction_id).update(
        customer_connection=connection, customer_away_since=None
    )


def customer_went_away(
    interaction_id: int, *, connection: str, now: datetime | None = None
) -> None:
    """The visitor's page closed or reloaded: the chat waits for them a while.

    Only their latest connection counts: a dropped socket noticed after the page already
    came back on a new one must not start the clock on a chat in use.
    """
    Interaction.objects.filter(
        pk=interaction_id, status=Interaction.Status.OPEN, customer_connection=connection
    ).update(customer_away_since=now or timezone.now())


def escalate_to_call(
    interaction: Interaction, *, agent_id: int, agent_name: str, phone: str = ""
) -> Interaction:
    """A call to the customer of a text conversation, on the same case.

    ``phone`` (optional) is a number the customer gave in the conversation; it is added to
    their contact points. The call is placed once this commits; only when the provider has
    accepted it does the voice contact enter the queue, held first for this agent.
    """
    if interaction.channel == ChannelKind.VOICE:
        raise Conflict("This is a call already.")
    with transaction.atomic():
        customer = interaction.case.customer
        if phone.strip():
            number = normalize_phone(phone, field="phone")
            point = ContactPoint.objects.filter(kind=ContactPoint.Kind.PHONE, value=number).first()
            if point is None:
                point = ContactPoint.objects.create(
                    customer=customer, kind=ContactPoint.Kind.PHONE, value=number
                )
            elif point.customer_id != customer.pk:
                raise Conflict("That number belongs to another customer.", field="phone")
        else:
            point = (
                customer.contact_points.filter(kind=ContactPoint.Kind.PHONE)
                .order_by("-created_at", "-id")
                .first()
            )
            if point is None:
                raise InvalidInput("We have no phone number for this customer.", field="phone")
        caller_id = (
            interaction.business_address
            if interaction.channel == ChannelKind.SMS
            else settings.TWILIO_CALLER_ID
        )
        if not caller_id:
            raise Conflict("No number is set up to call from (TWILIO_CALLER_ID).", field="phone")
        call = Interaction.objects.create(
            case=interaction.case,
            channel=ChannelKind.VOICE,
            direction=Interaction.Direction.OUTBOUND,
            contact_point=point,
            business_address=caller_id,
            subject=interaction.subject,
        )
        note = f"{agent_name} is calling the customer at {point.value}."
        append_message(interaction, sender=Message.Sender.SYSTEM, body=note)
        append_message(call, sender=Message.Sender.SYSTEM, body=note)
        call_id, from_id = call.pk, interaction.pk

        def dispatch_call() -> None:
            from channels_app import tasks as channel_tasks

            channel_tasks.place_call.delay(call_id, agent_id, from_id)

        after_commit(dispatch_call)
    return call


# --- calls -------------------------------------------------------------------------------
# A call being placed or connected is claimed with a state-guarded update, so that a task
# that runs twice does the provider's part once.
PLACING = "placing"


def claim_call_placement(call_id: int) -> tuple[str, str] | None:
    """(customer's number, our number) of an outbound call no one has placed yet, now claimed."""
    claimed = Interaction.objects.filter(
        pk=call_id, status=Interaction.Status.OPEN, external_id="", call_status=""
    ).update(call_status=PLACING)
    if not claimed:
        return None
    call = Interaction.objects.select_related("contact_point").get(pk=call_id)
    if call.contact_point is None:
        return None
    return call.contact_point.value, call.business_address


def release_call_placement(call_id: int) -> None:
    """A placement that failed for a passing reason may be tried again."""
    Interaction.objects.filter(pk=call_id, external_id="", call_status=PLACING).update(
        call_status=""
    )


def call_placed(call_id: int, *, external_id: str, agent_id: int) -> None:
    """The provider is ringing the customer: the call waits in the queue for the agent."""
    with transaction.atomic():
        call = (
            Interaction.objects.select_for_update(of=("self",))
            .filter(pk=call_id, external_id="")
            .first()
        )
        if call is None:
            return
        call.external_id = external_id
        call.call_status = "queued"
        call.save(update_fields=["external_id", "call_status"])
        routing_services.enqueue(call, preferred_agent_id=agent_id)


def call_not_placed(call_id: int, from_interaction_id: int, *, reason: str) -> None:
    """The provider refused the call: it ends, and the agent reads why where they asked."""
    with transaction.atomic():
        note_on_interaction(from_interaction_id, f"The call could not be placed: {reason}")
        call = Interaction.objects.select_for_update(of=("self",)).filter(pk=call_id).first()
        if call is not None:
            close_interaction(call)


def claim_call_connection(call_id: int, *, agent_id: int) -> str | None:
    """The provider's id of a call the agent holds and that is not yet put through to anyone."""
    from routing.models import WorkItem

    held = WorkItem.objects.filter(
        interaction_id=call_id, agent_id=agent_id, status=WorkItem.Status.ASSIGNED
    ).exists()
    if not held:
        return None
    claimed = (
        Interaction.objects.filter(
            pk=call_id, status=Interaction.Status.OPEN, connected_agent_id__isnull=True
        )
        .exclude(external_id="")
        .update(connected_agent_id=agent_id)
    )
    if not claimed:
        return None
    return Interaction.objects.values_list("external_id", flat=True).get(pk=call_id)


def release_call_connection(call_id: int, *, agent_id: int) -> None:
    Interaction.objects.filter(pk=call_id, connected_agent_id=agent_id).update(
        connected_agent_id=None
    )


def settle_idle_bot_conversations(*, now: datetime | None = None) -> int:
    """End the conversations with the bot that nobody has written in for BOT_IDLE_MINUTES.

    Text channels have no "leave" of their own: without this, a question the bot answered
    weeks ago would stay open and a new message would continue it.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.BOT_IDLE_MINUTES)
    idle = list(
        Interaction.objects.filter(
            bot_status=Interaction.BotStatus.ACTIVE, status=Interaction.Status.OPEN
        )
        .annotate(last_message=Max("messages__created_at"))
        .filter(last_message__lt=cutoff)
        .values_list("pk", flat=True)[:500]
    )
    settled = 0
    for interaction_id in idle:
        with transaction.atomic():
            interaction = (
                Interaction.objects.select_for_update(of=("self",))
                .filter(pk=interaction_id, bot_status=Interaction.BotStatus.ACTIVE)
                .first()
            )
            if interaction is None or interaction.status != Interaction.Status.OPEN:
                continue
            bot.customer_left(interaction)
            close_interaction(interaction, now=now)
            routing_events.chat_status(interaction.pk, state="closed", note="idle")
            settled += 1
    return settled


CUSTOMER_FIELDS = {"name": 120, "tier": 40, "language": 16, "notes": 10_000}


def update_customer(customer_id: int, changes: dict[str, object]) -> Customer:
    """Edit a customer's profile (name, tier, language, notes) from the console or the API."""
    unknown = sorted(set(changes) - set(CUSTOMER_FIELDS))
    if unknown:
        raise InvalidInput(f"Unknown field {unknown[0]!r}.", field=unknown[0])
    cleaned = {}
    for field, value in changes.items():
        if not isinstance(value, str):
            raise InvalidInput(f"{field} must be text.", field=field)
        cleaned[field] = clean_text(
            value, field=field, max_length=CUSTOMER_FIELDS[field], label=field.capitalize()
        )
    if "name" in cleaned and not cleaned["name"]:
        raise InvalidInput("A customer needs a name.", field="name")
    with transaction.atomic():
        customer = Customer.objects.select_for_update().filter(pk=customer_id).first()
        if customer is None:
            raise NotFound(f"No customer {customer_id}.", field="customer_id")
        for field, value in cleaned.items():
            setattr(customer, field, value)
        if cleaned:
            customer.save(update_fields=list(cleaned))
    return customer
