"""A customer leaves: waiting work is abandoned, the agent working it is told, and web chats
whose visitor did not come back in time end."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from contactcenter.crm.interactions import close_interaction, customer_left_unrouted
from contactcenter.crm.models import ChannelKind, Interaction
from contactcenter.crm.web_chat import CUSTOMER_LEFT
from routing import events
from routing.models import Offer, WorkItem
from routing.selectors import snapshot
from routing.services import triggers
from routing.services.steps import (
    OfferedMeanwhile,
    announce_queue_positions,
    end_offer,
    system_note,
)

logger = logging.getLogger(__name__)


def customer_left(*, interaction_id: int, now: datetime | None = None) -> None:
    """The customer closed the chat: waiting work is abandoned, the agent is told."""
    now = now or timezone.now()
    attempts = 3
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                _abandon_work(interaction_id, now=now, strict=attempt < attempts)
            return
        except OfferedMeanwhile:
            continue


def _abandon_work(interaction_id: int, *, now: datetime, strict: bool) -> None:
    # Offers are locked before their work items, the order every other transition uses, so
    # that a concurrent accept or time-out cannot deadlock with this one. A round may offer
    # the item in between; then the read is stale and the caller starts over (after the last
    # try, accepting that offer finds the item gone and ends it).
    pending = list(
        Offer.objects.select_for_update(of=("self",)).filter(
            work_item__interaction_id=interaction_id, outcome=Offer.Outcome.PENDING
        )
    )
    items = list(
        WorkItem.objects.select_for_update(of=("self",))
        .filter(
            interaction_id=interaction_id,
            status__in=[WorkItem.Status.QUEUED, *snapshot.ACTIVE_STATUSES],
        )
        .select_related("interaction")
    )
    if not items:
        live = WorkItem.objects.filter(
            interaction_id=interaction_id,
            status__in=[WorkItem.Status.QUEUED, *snapshot.ACTIVE_STATUSES],
        )
        if strict and live.exists():
            # A transfer committed its new item while this read waited on the old one.
            raise OfferedMeanwhile
        # Nothing waits in a queue: the contact ends here (a bot conversation is settled).
        if not WorkItem.objects.filter(interaction_id=interaction_id).exists():
            customer_left_unrouted(interaction_id, now=now)
        return
    offered = {offer.work_item_id for offer in pending}
    if strict and any(
        item.status == WorkItem.Status.OFFERED and item.pk not in offered for item in items
    ):
        raise OfferedMeanwhile
    for item in items:
        if item.status == WorkItem.Status.ASSIGNED:
            if item.interaction.channel == ChannelKind.CHAT:
                system_note(item, "The customer left the chat.", agent_id=item.agent_id)
                # Until they come back (a resume marks their new connection), nobody else
                # should be handed a chat with no one in it.
                Interaction.objects.filter(pk=interaction_id).update(
                    customer_connection=CUSTOMER_LEFT
                )
            continue
        for offer in pending:
            if offer.work_item_id == item.pk:
                end_offer(offer, outcome=Offer.Outcome.CANCELLED, now=now)
        offered_to = item.agent_id
        item.status = WorkItem.Status.ABANDONED
        item.agent = None
        item.closed_at = now
        item.save(update_fields=["status", "agent", "closed_at"])
        close_interaction(item.interaction, now=now)
        announce_queue_positions({item.queue_id})
        if offered_to is not None:
            events.agent_updated(offered_to)
            triggers.request_round()
        events.queue_changed()


def end_chats_left_behind(*, now: datetime | None = None) -> int:
    """End the web chats whose visitor went away and did not come back in time."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.CHAT_RESUME_SECONDS)
    gone = list(
        Interaction.objects.filter(
            channel=ChannelKind.CHAT,
            status=Interaction.Status.OPEN,
            customer_away_since__lt=cutoff,
        ).values_list("pk", flat=True)[:500]
    )
    ended = 0
    for interaction_id in gone:
        # Claimed by clearing the mark: a concurrent sweep, or the visitor coming back right
        # now, finds it gone; a chat an agent holds stays open, and is not ended twice.
        claimed = Interaction.objects.filter(
            pk=interaction_id, customer_away_since__lt=cutoff
        ).update(customer_away_since=None)
        if not claimed:
            continue
        try:
            customer_left(interaction_id=interaction_id, now=now)
        except Exception:
            # Marked away again, so that the next sweep tries once more.
            Interaction.objects.filter(pk=interaction_id, customer_away_since=None).update(
                customer_away_since=cutoff
            )
            logger.exception("ending the departed chat %s failed", interaction_id)
            continue
        ended += 1
    return ended
