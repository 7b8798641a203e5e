"""Calls: place a call an agent asked for, connect an accepted call to the agent, and report
when either fails. Each step claims its call first, so a task run twice (a redelivery, a
retry after a time-out the provider had in fact served) never rings anyone twice."""

from __future__ import annotations

import logging

from channels_app.providers import PermanentDeliveryError, TransientDeliveryError, twilio
from contactcenter.crm import calls
from contactcenter.crm.messages import note_on_interaction
from contactcenter.kernel.errors import NotConfigured
from routing.services import conversations

logger = logging.getLogger(__name__)


def connect_accepted_call(interaction_id: int, agent_id: int) -> None:
    """Ring the agent who accepted the call; raises TransientDeliveryError to be retried."""
    external_id = conversations.claim_call_connection(interaction_id, agent_id=agent_id)
    if external_id is None:
        return  # Connected already, ended, or no longer this agent's.
    try:
        twilio.connect_call(external_id=external_id, agent_id=agent_id)
    except TransientDeliveryError:
        calls.release_call_connection(interaction_id, agent_id=agent_id)
        raise
    except (PermanentDeliveryError, NotConfigured) as exc:
        connect_failed(interaction_id, agent_id, str(exc))


def connect_failed(interaction_id: int, agent_id: int, reason: str) -> None:
    logger.warning(
        "call of interaction %s not connected to agent %s: %s", interaction_id, agent_id, reason
    )
    note_on_interaction(interaction_id, f"The call could not be connected: {reason}")


def place_outbound_call(call_interaction_id: int, agent_id: int, from_interaction_id: int) -> None:
    """Have the provider call the customer; once it has, the call waits for the agent.

    Raises TransientDeliveryError to be retried. A refused call ends the voice contact and
    tells the agent on the conversation they escalated from.
    """
    claimed = calls.claim_call_placement(call_interaction_id)
    if claimed is None:
        return  # Placed already, being placed, or ended.
    to, sender = claimed
    try:
        external_id = twilio.place_call(to=to, sender=sender, interaction_id=call_interaction_id)
    except TransientDeliveryError:
        calls.release_call_placement(call_interaction_id)
        raise
    except (PermanentDeliveryError, NotConfigured) as exc:
        call_failed(call_interaction_id, from_interaction_id, str(exc))
        return
    conversations.call_placed(call_interaction_id, external_id=external_id, agent_id=agent_id)


def call_failed(call_interaction_id: int, from_interaction_id: int, reason: str) -> None:
    logger.warning("call %s could not be placed: %s", call_interaction_id, reason)
    calls.call_not_placed(call_interaction_id, from_interaction_id, reason=reason)
