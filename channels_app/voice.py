"""Calls: connect an accepted call to the agent, and report when that fails."""

from __future__ import annotations

import logging

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
