"""Messages on a conversation: stored here, then announced for the layers above to push and
deliver.

Every message goes through ``append_message``. It stores the message (with its files) and
sends two hooks: ``message_stored`` (routing pushes it to the customer's chat and to the
agent working the contact) and, for an agent's or the bot's words on a channel a provider
carries, ``reply_to_send`` once the transaction commits (the channels deliver it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from contactcenter.crm.files import InboundAttachment, discard_files, store_files
from contactcenter.crm.models import Attachment, ChannelKind, Interaction, Message
from contactcenter.kernel.errors import Conflict, InvalidInput, NotFound
from contactcenter.kernel.hooks import Hook
from contactcenter.kernel.text import clean_text

MAX_MESSAGE_LENGTH = 4000
MAX_REPLY_FILES = 10
# Channels whose replies a provider carries; web chat replies go over the chat socket and a
# call's notes are not sent anywhere.
OUTBOUND_CHANNELS = frozenset(
    {ChannelKind.EMAIL, ChannelKind.SMS, ChannelKind.MESSAGING, ChannelKind.SOCIAL}
)
# System notices ("Anna joined") are for the chat window and the console, not a text message.
SENT_OUT_BY = frozenset({Message.Sender.AGENT, Message.Sender.BOT})


@dataclass(frozen=True)
class StoredMessage:
    """A message just stored, and whom it is for: the agent working the contact, when the
    caller knows them (``agent_id``), or whoever works it now (None)."""

    message: Message
    work_item_id: int | None = None
    agent_id: int | None = None

    @property
    def internal(self) -> bool:
        return self.message.internal


# Sent inside the storing transaction, before any delivery is dispatched, so that consoles
# learn of a message before its delivery outcome.
message_stored: Hook[StoredMessage] = Hook("crm.message_stored", required=True)
# The id of a message a provider must carry to the customer; sent once the message commits.
reply_to_send: Hook[int] = Hook("crm.reply_to_send", required=True)


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
    """Store a message and announce it to the customer and to the agent working the contact.

    An agent's message on a channel other than web chat is sent out by its provider once the
    transaction commits.
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
    message_stored.send(StoredMessage(message, work_item_id=work_item_id, agent_id=agent_id))
    if sent_out:
        reply_to_send.send_after_commit(message.pk)
    return message


def validated_body(body: str) -> str:
    body = clean_text(body, field="body", max_length=MAX_MESSAGE_LENGTH, label="Message")
    if not body:
        raise InvalidInput("Write a message first.", field="body")
    return body


def open_interaction_for_update(interaction_id: int) -> Interaction:
    """The open conversation, locked for the caller's transaction; NotFound or Conflict."""
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
    return interaction


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
        body=validated_body(body),
        author=author,
        work_item_id=work_item_id,
        agent_id=agent_id,
        internal=True,
    )


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
    body = validated_body(body)
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


def note_on_interaction(interaction_id: int, body: str) -> Message | None:
    """A system line in a contact's transcript, seen by the agent working it."""
    with transaction.atomic():
        interaction = Interaction.objects.filter(pk=interaction_id).first()
        if interaction is None:
            return None
        return append_message(interaction, sender=Message.Sender.SYSTEM, body=body)
