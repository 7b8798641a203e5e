"""Offers: an agent accepts, declines or lets one time out; the item starts or goes back to
its line."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from contactcenter.crm.calls import connect_when_committed
from contactcenter.crm.models import ChannelKind
from contactcenter.kernel.errors import Conflict, InvalidInput
from contactcenter.kernel.text import clean_text
from routing import events
from routing.models import Agent, AgentStatusChange, DeclineReason, Offer, WorkItem
from routing.selectors import access, payloads
from routing.services.presence import set_presence
from routing.services.steps import end_offer, requeue, system_note


def accept_offer(*, agent: Agent, offer_id: int, now: datetime | None = None) -> WorkItem:
    now = now or timezone.now()
    with transaction.atomic():
        offer = access.access_offer(agent, offer_id, for_update=True)
        if offer.outcome != Offer.Outcome.PENDING:
            raise Conflict(f"This offer was already {offer.get_outcome_display().lower()}.")
        expired = offer.expires_at <= now
        if not expired:
            claimed = WorkItem.objects.filter(
                pk=offer.work_item_id, status=WorkItem.Status.OFFERED, agent=agent
            ).update(status=WorkItem.Status.ASSIGNED, accepted_at=now)
            if claimed:
                return start_work(offer, agent, now=now)
            # The customer left while the offer was on its way: the offer ends with the item.
            end_offer(offer, outcome=Offer.Outcome.CANCELLED, now=now)
            events.agent_updated(agent.pk)
    if not expired:
        raise Conflict("The customer has left; this chat is no longer waiting.")
    # Outside the atomic block above, so the time-out is kept while the agent hears "too late".
    # The agent answered, only too late: they are at their desk, so no missed-offer status.
    expire_offer(offer_id=offer_id, now=now, agent_answered=True)
    raise Conflict("This offer has expired.")


def start_work(offer: Offer, agent: Agent, *, now: datetime) -> WorkItem:
    end_offer(offer, outcome=Offer.Outcome.ACCEPTED, now=now)
    item = payloads.work_items_with_context().get(pk=offer.work_item_id)
    joined = "joined the chat" if item.interaction.channel == ChannelKind.CHAT else "took over"
    system_note(item, f"{agent.name} {joined}.", agent_id=agent.pk)
    connect_when_committed(item.interaction, agent_id=agent.pk)
    events.work_assigned(agent.pk, payloads.work_item_payloads([item])[0])
    events.chat_status(item.interaction_id, state="connected", agent_name=agent.name)
    return item


def decline_offer(
    *,
    agent: Agent,
    offer_id: int,
    reason_id: int | None = None,
    note: str = "",
    now: datetime | None = None,
) -> None:
    """Decline with a reason from the configured list (required when the list has any)."""
    now = now or timezone.now()
    note = clean_text(note, field="note", max_length=200, label="Note")
    reason = _decline_reason(reason_id)
    with transaction.atomic():
        offer = access.access_offer(agent, offer_id, for_update=True)
        if offer.outcome != Offer.Outcome.PENDING:
            raise Conflict(f"This offer was already {offer.get_outcome_display().lower()}.")
        requeue(offer, outcome=Offer.Outcome.DECLINED, now=now, reason=reason, note=note)


def _decline_reason(reason_id: int | None) -> DeclineReason | None:
    active = DeclineReason.objects.filter(is_active=True)
    if reason_id is None:
        if active.exists():
            raise InvalidInput("Pick a reason for declining.", field="reason_id")
        return None
    reason = active.filter(pk=reason_id).first()
    if reason is None:
        raise InvalidInput(f"No decline reason {reason_id}.", field="reason_id")
    return reason


def expire_offer(
    *, offer_id: int, now: datetime | None = None, agent_answered: bool = False
) -> bool:
    """Time out a pending offer whose push time-out has passed; False if it already ended.

    Unless the agent answered (too late), they then move to the routing configuration's
    missed-offer status, if it has one, so that an agent who is not at their desk stops
    receiving work.
    """
    now = now or timezone.now()
    with transaction.atomic():
        offer = (
            Offer.objects.select_for_update(of=("self",))
            .select_related("work_item__queue__routing_config")
            .filter(pk=offer_id, outcome=Offer.Outcome.PENDING, expires_at__lte=now)
            .first()
        )
        if offer is None:
            return False
        requeue(offer, outcome=Offer.Outcome.TIMED_OUT, now=now)
    # A transaction of its own: presence locks the agent before their offers, the reverse
    # of the order above.
    missed_status_id = offer.work_item.queue.routing_config.status_after_missed_offer_id
    if missed_status_id is not None and not agent_answered:
        agent = Agent.objects.get(pk=offer.agent_id)
        if agent.status_id is not None and agent.status_id != missed_status_id:
            set_presence(
                agent=agent,
                status_id=missed_status_id,
                now=now,
                cause=AgentStatusChange.Cause.MISSED_OFFER,
                only_from_status_id=agent.status_id,
            )
    return True


def expire_offers(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    due = Offer.objects.filter(outcome=Offer.Outcome.PENDING, expires_at__lte=now).values_list(
        "pk", flat=True
    )
    return sum(expire_offer(offer_id=offer_id, now=now) for offer_id in list(due))
