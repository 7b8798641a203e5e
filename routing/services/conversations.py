"""A contact's path from the customer's words to an agent: the CRM stores what arrives, then
the bot answers it or routing puts the contact in a queue. Calls report their progress here,
and idle conversations with the bot end here.

Edges (webhooks, the intake API, the SMTP listener, the chat socket) call these functions,
never the CRM's storing functions directly, so that every new contact is routed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from contactcenter.crm import bot, calls, inbound, messages
from contactcenter.crm.interactions import close_interaction
from contactcenter.crm.models import Interaction, Message
from routing import events, intake
from routing.models import WorkItem
from routing.services.departures import customer_left
from routing.services.queueing import enqueue


def receive(
    inbound_message: inbound.InboundMessage, *, now: datetime | None = None
) -> inbound.Received:
    """Store a message from any channel once, and answer or route its contact."""
    return inbound.receive(inbound_message, then=answer_or_route, now=now)


def post_customer_message(*, interaction_id: int, body: str) -> Message:
    """What a web chat visitor wrote; the first message of a contact puts it in a queue."""
    body = messages.validated_body(body)
    with transaction.atomic():
        interaction = messages.open_interaction_for_update(interaction_id)
        message = messages.append_message(interaction, sender=Message.Sender.CUSTOMER, body=body)
        answer_or_route(interaction, message)
    return message


def answer_or_route(interaction: Interaction, message: Message) -> None:
    """After a customer message: the bot answers it, or a contact not yet routed is queued.

    A bot hand-off queues the contact with the intent it detected, for intake rules to match.
    """
    if interaction.work_items.exists():
        return
    if bot.takes(interaction) and intake.service_channel(interaction.channel).self_service:
        outcome = bot.customer_message(interaction, message)
        if outcome.resolved:
            close_interaction(interaction)
            events.chat_status(interaction.pk, state="closed", note="resolved")
            return
        if not outcome.handoff:
            events.chat_status(interaction.pk, state="assistant")
            return
    enqueue(interaction, intent=interaction.bot_intent)


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
            events.chat_status(interaction.pk, state="closed", note="idle")
            settled += 1
    return settled


def call_status_changed(
    *, external_id: str, status: str, ended: bool, duration: int | None
) -> None:
    """The provider reports a call's progress (ringing, in progress, ended with its duration).

    An ended call frees its place: a caller who hangs up while waiting abandons the work
    item; one who hangs up while talking leaves the agent their wrap-up, which ends with
    closing the work.
    """
    ended_call = calls.record_call_status(
        external_id=external_id, status=status, ended=ended, duration=duration
    )
    if ended_call is not None:
        customer_left(interaction_id=ended_call)


def call_placed(call_id: int, *, external_id: str, agent_id: int) -> None:
    """The provider is ringing the customer: the call waits in the queue for the agent."""
    with transaction.atomic():
        call = calls.mark_call_placed(call_id, external_id=external_id)
        if call is not None:
            enqueue(call, preferred_agent_id=agent_id)


def claim_call_connection(call_id: int, *, agent_id: int) -> str | None:
    """The provider's id of a call the agent holds and that is not yet put through to anyone."""
    held = WorkItem.objects.filter(
        interaction_id=call_id, agent_id=agent_id, status=WorkItem.Status.ASSIGNED
    ).exists()
    if not held:
        return None
    return calls.claim_call_connection(call_id, agent_id=agent_id)
