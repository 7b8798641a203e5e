"""The SMTP listener's handler: each accepted message goes through the CRM like any email.

aiosmtpd speaks the protocol; this handler refuses recipients outside INBOUND_EMAIL_DOMAINS
(550) and messages that cannot be stored (550 with the reason), and hands the rest to
``routing.services.conversations`` in a worker thread, one transaction per message.
"""

from __future__ import annotations

import logging

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from channels_app.providers import email
from contactcenter.crm import inbound
from contactcenter.kernel.errors import DomainError
from routing.services import conversations

logger = logging.getLogger(__name__)


class InboundEmailHandler:
    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list
    ) -> str:
        domain = address.rpartition("@")[2].lower()
        if settings.INBOUND_EMAIL_DOMAINS and domain not in settings.INBOUND_EMAIL_DOMAINS:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            await sync_to_async(store_email, thread_sensitive=False)(raw, envelope.rcpt_tos)
        except DomainError as exc:
            return f"550 5.6.0 {exc.message}"
        except Exception:
            logger.exception("inbound email could not be stored")
            return "451 4.3.0 Temporary failure, try again later"
        return "250 Message accepted"


def store_email(raw: bytes, recipients: list[str]) -> inbound.Received:
    close_old_connections()
    try:
        mailboxes = [recipient.lower() for recipient in recipients]
        return conversations.receive(email.inbound_message(raw, recipients=mailboxes))
    finally:
        close_old_connections()


def controller(*, host: str | None = None, port: int | None = None) -> Controller:
    return Controller(
        InboundEmailHandler(),
        hostname=host or settings.SMTP_LISTEN_HOST,
        port=port if port is not None else settings.SMTP_LISTEN_PORT,
        data_size_limit=settings.EMAIL_MAX_BYTES,
    )
