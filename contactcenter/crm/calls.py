"""Calls: the CRM's part of placing, connecting and ending a voice contact.

The provider's work (ringing the customer, putting a caller through to an agent) belongs to
the channels: the CRM announces it on ``call_to_place`` and ``call_to_connect`` once the
transaction commits. Each step claims its call first with a state-guarded update, so that a
task that runs twice does the provider's part once.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from contactcenter.crm.addresses import normalize_phone
from contactcenter.crm.interactions import close_interaction
from contactcenter.crm.messages import append_message, note_on_interaction
from contactcenter.crm.models import ChannelKind, ContactPoint, Interaction, Message
from contactcenter.kernel.errors import Conflict, InvalidInput, NotFound
from contactcenter.kernel.hooks import Hook

# A call being placed: claimed, not yet accepted by the provider.
PLACING = "placing"


@dataclass(frozen=True)
class CallToPlace:
    call_id: int
    agent_id: int
    from_interaction_id: int


@dataclass(frozen=True)
class CallToConnect:
    call_id: int
    agent_id: int


# An outbound call the provider must place; sent once the call's contact commits.
call_to_place: Hook[CallToPlace] = Hook("crm.call_to_place", required=True)
# A waiting caller to put through to the agent who took the call; sent after the commit.
call_to_connect: Hook[CallToConnect] = Hook("crm.call_to_connect", required=True)


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
        point = _number_to_call(interaction, phone)
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
        call_to_place.send_after_commit(
            CallToPlace(call_id=call.pk, agent_id=agent_id, from_interaction_id=interaction.pk)
        )
    return call


def _number_to_call(interaction: Interaction, phone: str) -> ContactPoint:
    """The number given (added to the customer's contact points), else their latest one."""
    customer = interaction.case.customer
    if not phone.strip():
        point = (
            customer.contact_points.filter(kind=ContactPoint.Kind.PHONE)
            .order_by("-created_at", "-id")
            .first()
        )
        if point is None:
            raise InvalidInput("We have no phone number for this customer.", field="phone")
        return point
    number = normalize_phone(phone, field="phone")
    point = ContactPoint.objects.filter(kind=ContactPoint.Kind.PHONE, value=number).first()
    if point is None:
        return ContactPoint.objects.create(
            customer=customer, kind=ContactPoint.Kind.PHONE, value=number
        )
    if point.customer_id != customer.pk:
        raise Conflict("That number belongs to another customer.", field="phone")
    return point


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


def mark_call_placed(call_id: int, *, external_id: str) -> Interaction | None:
    """The provider is ringing the customer: the call, locked, now carries the provider's id;
    None if it was marked already. Runs in the caller's transaction."""
    call = (
        Interaction.objects.select_for_update(of=("self",))
        .filter(pk=call_id, external_id="")
        .first()
    )
    if call is None:
        return None
    call.external_id = external_id
    call.call_status = "queued"
    call.save(update_fields=["external_id", "call_status"])
    return call


def call_not_placed(call_id: int, from_interaction_id: int, *, reason: str) -> None:
    """The provider refused the call: it ends, and the agent reads why where they asked."""
    with transaction.atomic():
        note_on_interaction(from_interaction_id, f"The call could not be placed: {reason}")
        call = Interaction.objects.select_for_update(of=("self",)).filter(pk=call_id).first()
        if call is not None:
            close_interaction(call)


def connect_when_committed(interaction: Interaction, *, agent_id: int) -> None:
    """An agent took the contact: a waiting caller is put through to them once it commits."""
    if interaction.channel == ChannelKind.VOICE and interaction.external_id:
        call_to_connect.send_after_commit(CallToConnect(call_id=interaction.pk, agent_id=agent_id))


def claim_call_connection(call_id: int, *, agent_id: int) -> str | None:
    """The provider's id of a call not yet put through to anyone, now claimed for the agent.

    The caller checks first that the agent holds the call (routing knows who does).
    """
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


def record_call_status(
    *, external_id: str, status: str, ended: bool, duration: int | None
) -> int | None:
    """Record a call's progress (ringing, in progress, ended with its duration); the call's
    id if this report ended it, else None. Reports after the end (providers send them out
    of order) are ignored."""
    with transaction.atomic():
        interaction = (
            Interaction.objects.select_for_update(of=("self",))
            .filter(external_id=external_id, channel=ChannelKind.VOICE)
            .first()
        )
        if interaction is None:
            raise NotFound("No call with this id.", field="CallSid")
        if interaction.duration_seconds is not None:
            return None
        interaction.call_status = status
        if not ended:
            interaction.save(update_fields=["call_status"])
            return None
        interaction.duration_seconds = duration or 0
        interaction.save(update_fields=["call_status", "duration_seconds"])
        minutes, seconds = divmod(interaction.duration_seconds, 60)
        append_message(
            interaction,
            sender=Message.Sender.SYSTEM,
            body=f"The call ended ({status}, {minutes}:{seconds:02d}).",
        )
    return interaction.pk
