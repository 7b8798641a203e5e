"""Sending agents' replies out on the channel the customer wrote on.

A reply is stored ``pending``; once it commits, ``channels_app.tasks.deliver_message`` hands
it to its provider. The message row stays locked while its provider is called, so two runs
of the task never both send it; a passing failure leaves it pending for the task's retry, a
refusal marks it failed with the provider's reason, and the agent sees either outcome.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction

from channels_app.providers import PermanentDeliveryError, email, meta, twilio
from contactcenter.crm.models import ChannelKind, ContactPoint, Message
from contactcenter.kernel.errors import NotConfigured
from routing import events

logger = logging.getLogger(__name__)


def deliver(message_id: int) -> None:
    """Send a pending message; raises TransientDeliveryError when it should be tried again."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("interaction__contact_point", "author")
            .filter(pk=message_id, delivery=Message.Delivery.PENDING)
            .first()
        )
        if message is None:
            # Sent already, given up on, or being sent by another run right now.
            return
        try:
            provider_message_id = send(message)
        except NotConfigured as exc:
            _mark(message, Message.Delivery.FAILED, error=exc.message)
            return
        except PermanentDeliveryError as exc:
            logger.warning("message %s not delivered: %s", message_id, exc)
            _mark(message, Message.Delivery.FAILED, error=str(exc))
            return
        message.provider_message_id = provider_message_id
        _mark(message, Message.Delivery.SENT)


def give_up(message_id: int, reason: str) -> None:
    """Mark a message that passing failures kept from being sent as failed."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .filter(pk=message_id, delivery=Message.Delivery.PENDING)
            .first()
        )
        if message is not None:
            _mark(message, Message.Delivery.FAILED, error=f"Gave up after retries: {reason}")


def _mark(message: Message, delivery: str, *, error: str = "") -> None:
    message.delivery = delivery
    message.delivery_error = error[:500]
    message.save(update_fields=["delivery", "delivery_error", "provider_message_id"])
    events.message_delivery_changed(message)


def send(message: Message) -> str:
    """Hand one message to the provider of its channel; the provider's message id."""
    interaction = message.interaction
    point = interaction.contact_point
    if point is None:
        raise PermanentDeliveryError("The conversation has no customer address to reply to.")
    if not interaction.business_address:
        raise PermanentDeliveryError("The conversation has no address of ours to reply from.")
    if interaction.channel in (ChannelKind.SMS, ChannelKind.MESSAGING):
        if point.kind != ContactPoint.Kind.PHONE:
            raise PermanentDeliveryError("The customer's address is not a phone number.")
        return twilio.send_message(
            sender=interaction.business_address,
            to=twilio.reply_address(interaction.channel, point.value),
            body=message.body,
        )
    if interaction.channel == ChannelKind.SOCIAL:
        if point.kind != ContactPoint.Kind.PLATFORM:
            raise PermanentDeliveryError("The customer's address is not a platform user id.")
        _, _, user_id = point.value.partition(":")
        return meta.send_message(recipient_id=user_id, text=message.body)
    if interaction.channel == ChannelKind.EMAIL:
        if point.kind != ContactPoint.Kind.EMAIL:
            raise PermanentDeliveryError("The customer's address is not an email address.")
        return email.send_reply(message, to=point.value)
    raise PermanentDeliveryError(f"Nothing sends messages on {interaction.channel} contacts.")


# Longer than every retry's back-off together: a message still pending this long lost its
# task (a broker that was down when it was dispatched, say).
STALE_PENDING = timedelta(minutes=5)


def pending_too_long(now: datetime) -> list[int]:
    """Messages whose delivery task seems lost, to dispatch again."""
    return list(
        Message.objects.filter(
            delivery=Message.Delivery.PENDING, created_at__lt=now - STALE_PENDING
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
