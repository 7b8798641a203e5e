"""Calls: place a call an agent asked for, connect an accepted call to the agent, and report
when either fails."""

from __future__ import annotations

import logging

from django.db import transaction

import routing.services as routing_services
from channels_app.providers import PermanentDeliveryError, twilio
from contactcenter import services as crm
from contactcenter.models import Interaction

logger = logging.getLogger(__name__)


def connect_accepted_call(interaction_id: int, agent_id: int) -> None:
    """Ring the agent who accepted the call; raises TransientDeliveryError to be retried."""
    interaction = Interaction.objects.filter(pk=interaction_id).first()
    if interaction is None or interaction.status != Interaction.Status.OPEN:
        return
    try:
        twilio.connect_call(external_id=interaction.external_id, agent_id=agent_id)
    except PermanentDeliveryError as exc:
        connect_failed(interaction_id, agent_id, str(exc))


def connect_failed(interaction_id: int, agent_id: int, reason: str) -> None:
    logger.warning(
        "call of interaction %s not connected to agent %s: %s", interaction_id, agent_id, reason
    )
    crm.note_on_interaction(interaction_id, f"The call could not be connected: {reason}")


def place_outbound_call(call_interaction_id: int, agent_id: int, from_interaction_id: int) -> None:
    """Have the provider call the customer; once it has, the call waits for the agent.

    Raises TransientDeliveryError to be retried. A refused call ends the voice contact and
    tells the agent on the conversation they escalated from.
    """
    call = (
        Interaction.objects.select_related("contact_point")
        .filter(pk=call_interaction_id, status=Interaction.Status.OPEN, external_id="")
        .first()
    )
    if call is None or call.contact_point is None:
        return
    try:
        external_id = twilio.place_call(
            to=call.contact_point.value, sender=call.business_address, interaction_id=call.pk
        )
    except PermanentDeliveryError as exc:
        call_failed(call_interaction_id, from_interaction_id, str(exc))
        return
    with transaction.atomic():
        placed = Interaction.objects.filter(pk=call.pk, external_id="").update(
            external_id=external_id
        )
        if placed:
            call.external_id = external_id
            routing_services.enqueue(call, preferred_agent_id=agent_id)


def call_failed(call_interaction_id: int, from_interaction_id: int, reason: str) -> None:
    logger.warning("call %s could not be placed: %s", call_interaction_id, reason)
    crm.note_on_interaction(from_interaction_id, f"The call could not be placed: {reason}")
    with transaction.atomic():
        call = Interaction.objects.filter(pk=call_interaction_id).first()
        if call is not None:
            crm.close_interaction(call)
