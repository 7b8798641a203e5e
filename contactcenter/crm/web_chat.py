"""Web chat: a visitor starts a chat, leaves, and may come back to it after a reload."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from contactcenter.crm.addresses import normalize_email
from contactcenter.crm.inbound import resolve_contact_point, thread_case
from contactcenter.crm.models import ChannelKind, ContactPoint, Customer, Interaction
from contactcenter.kernel.errors import Conflict, InvalidInput
from contactcenter.kernel.text import clean_text

MAX_NAME_LENGTH = 120


def start_web_chat(*, name: str, email: str, site: str = "", verified: bool = False) -> Interaction:
    """A visitor's new chat; ``site`` names the website whose widget they used.

    Anyone can type any email address, so only a ``verified`` one (signed by the site's server
    for its signed-in shopper) joins the customer who owns it, with their cases, orders and
    history. An unverified visitor becomes a customer of their own: the agent sees the email
    they claimed, and can merge the records once the conversation has shown who they are.
    """
    name = clean_text(name, field="name", max_length=MAX_NAME_LENGTH, label="Name")
    if not name:
        raise InvalidInput("Enter your name.", field="name")
    email = normalize_email(email)
    with transaction.atomic():
        if verified:
            point = resolve_contact_point(ContactPoint.Kind.EMAIL, email, name=name)
            customer, claimed = point.customer, ""
        else:
            point, customer, claimed = None, Customer.objects.create(name=name), email
        case = thread_case(customer, subject="Web chat", now=timezone.now())
        return Interaction.objects.create(
            case=case,
            channel=ChannelKind.CHAT,
            contact_point=point,
            business_address=site,
            claimed_email=claimed,
        )


RESUME_SALT = "contactcenter.chat-resume"


def chat_resume_token(interaction_id: int, *, name: str) -> str:
    """What the visitor's browser tab keeps to come back to this chat after a reload."""
    return signing.dumps({"interaction": interaction_id, "name": name}, salt=RESUME_SALT)


def resume_web_chat(token: str) -> tuple[Interaction, str]:
    """The open chat a resume token names, and the name the visitor typed."""
    try:
        data = signing.loads(token, salt=RESUME_SALT, max_age=settings.CHAT_RESUME_MAX_AGE_SECONDS)
    except signing.BadSignature as exc:
        raise InvalidInput("This chat can no longer be resumed.", field="token") from exc
    interaction = (
        Interaction.objects.select_related("case")
        .filter(pk=data.get("interaction"), channel=ChannelKind.CHAT)
        .first()
    )
    if interaction is None or interaction.status != Interaction.Status.OPEN:
        raise Conflict("This chat has ended.")
    return interaction, str(data.get("name", ""))


# The connection mark of a web chat whose visitor left while an agent held it.
CUSTOMER_LEFT = "left"


def customer_connected(interaction_id: int, *, connection: str) -> None:
    """The visitor's page holds this chat on ``connection`` now (a start or a resume)."""
    Interaction.objects.filter(pk=interaction_id).update(
        customer_connection=connection, customer_away_since=None
    )


def customer_went_away(
    interaction_id: int, *, connection: str, now: datetime | None = None
) -> None:
    """The visitor's page closed or reloaded: the chat waits for them a while.

    Only their latest connection counts: a dropped socket noticed after the page already
    came back on a new one must not start the clock on a chat in use.
    """
    Interaction.objects.filter(
        pk=interaction_id, status=Interaction.Status.OPEN, customer_connection=connection
    ).update(customer_away_since=now or timezone.now())
