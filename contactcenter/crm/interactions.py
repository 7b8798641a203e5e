"""Ending a conversation."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from contactcenter.crm import bot
from contactcenter.crm.models import Interaction


def close_interaction(interaction: Interaction, *, now: datetime | None = None) -> None:
    if interaction.status == Interaction.Status.CLOSED:
        return
    interaction.status = Interaction.Status.CLOSED
    interaction.ended_at = now or timezone.now()
    interaction.save(update_fields=["status", "ended_at"])


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
