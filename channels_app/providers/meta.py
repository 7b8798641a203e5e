"""Meta's Messenger and Instagram messaging: the ``hub.challenge`` subscription handshake,
JSON webhooks signed with ``X-Hub-Signature-256``, replies through a Graph-API-style endpoint
(its base URL from settings)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import httpx
from django.conf import settings

from channels_app.providers import PermanentDeliveryError, TransientDeliveryError
from contactcenter.crm.inbound import InboundMessage
from contactcenter.crm.models import ChannelKind, ContactPoint
from contactcenter.kernel.errors import Forbidden, InvalidInput, NotConfigured

PLATFORM_OF_OBJECT = {"page": "messenger", "instagram": "instagram"}
MAX_EVENTS = 1000


def require_configured() -> None:
    if not settings.META_APP_SECRET:
        raise NotConfigured("Meta messaging is not set up on this deployment.")


def subscription_challenge(params: Mapping[str, str]) -> str:
    """The challenge to echo when Meta verifies the webhook with our verify token."""
    require_configured()
    if params.get("hub.mode") != "subscribe":
        raise InvalidInput("hub.mode must be “subscribe”.", field="hub.mode")
    token = params.get("hub.verify_token", "")
    if not settings.META_VERIFY_TOKEN or not hmac.compare_digest(
        token.encode(), settings.META_VERIFY_TOKEN.encode()
    ):
        raise Forbidden("hub.verify_token does not match.")
    challenge = params.get("hub.challenge", "")
    if not challenge:
        raise InvalidInput("hub.challenge is missing.", field="hub.challenge")
    return challenge


def verify_signature(body: bytes, header: str) -> None:
    require_configured()
    algorithm, _, signature = header.partition("=")
    if algorithm != "sha256" or not signature:
        raise Forbidden("The request is not signed (X-Hub-Signature-256 is missing).")
    expected = hmac.new(settings.META_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise Forbidden("The X-Hub-Signature-256 does not match the body.")


def inbound_messages(body: bytes) -> list[InboundMessage]:
    """Every customer message in one webhook delivery (Meta batches several events).

    Echoes of our own replies, delivery and read receipts carry no customer message and
    are skipped.
    """
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("The body is not JSON.", field="body") from exc
    if not isinstance(payload, dict):
        raise InvalidInput("The body must be a JSON object.", field="body")
    kind = payload.get("object")
    platform = PLATFORM_OF_OBJECT.get(kind) if isinstance(kind, str) else None
    if platform is None:
        raise InvalidInput("object must be “page” or “instagram”.", field="object")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise InvalidInput("entry must be a list.", field="entry")
    messages = []
    for entry_index, entry in enumerate(entries):
        events = entry.get("messaging") if isinstance(entry, dict) else None
        if not isinstance(events, list):
            raise InvalidInput("Each entry needs a messaging list.", field=f"entry[{entry_index}]")
        for event_index, event in enumerate(events):
            where = f"entry[{entry_index}].messaging[{event_index}]"
            message = _inbound_message(event, platform=platform, where=where)
            if message is not None:
                messages.append(message)
    if len(messages) > MAX_EVENTS:
        raise InvalidInput(f"At most {MAX_EVENTS} messages per delivery.", field="entry")
    return messages


def _inbound_message(event: Any, *, platform: str, where: str) -> InboundMessage | None:
    if not isinstance(event, dict):
        raise InvalidInput("A messaging event must be an object.", field=where)
    message = event.get("message")
    if message is None:
        return None
    if not isinstance(message, dict):
        raise InvalidInput("message must be an object.", field=f"{where}.message")
    if message.get("is_echo"):
        return None
    sender = _id_of(event.get("sender"), field=f"{where}.sender.id")
    recipient = _id_of(event.get("recipient"), field=f"{where}.recipient.id")
    mid = message.get("mid")
    if not isinstance(mid, str) or not mid:
        raise InvalidInput("message.mid is missing.", field=f"{where}.message.mid")
    text = message.get("text", "")
    if not isinstance(text, str):
        raise InvalidInput("message.text must be text.", field=f"{where}.message.text")
    lines = [text.strip()] if text.strip() else []
    attachments = message.get("attachments") or []
    if not isinstance(attachments, list):
        raise InvalidInput("attachments must be a list.", field=f"{where}.message.attachments")
    for attachment in attachments:
        details = attachment.get("payload") if isinstance(attachment, dict) else None
        url = details.get("url") if isinstance(details, dict) else None
        if isinstance(url, str) and url:
            lines.append(f"[attachment] {url}")
    return InboundMessage(
        channel=ChannelKind.SOCIAL,
        address_kind=ContactPoint.Kind.PLATFORM,
        platform=platform,
        address=sender,
        body="\n".join(lines),
        provider_message_id=f"meta:{mid}",
        business_address=f"{platform}:{recipient}",
    )


def _id_of(party: Any, *, field: str) -> str:
    value = party.get("id") if isinstance(party, dict) else None
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{field} is missing.", field=field)
    return value


def send_message(*, recipient_id: str, text: str) -> str:
    """Send a text through the Send API; the provider message id ("meta:…") it got."""
    require_configured()
    try:
        response = httpx.post(
            f"{settings.META_GRAPH_BASE_URL}/me/messages",
            params={"access_token": settings.META_PAGE_ACCESS_TOKEN},
            json={
                "recipient": {"id": recipient_id},
                "messaging_type": "RESPONSE",
                "message": {"text": text},
            },
            timeout=settings.DELIVERY_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        raise TransientDeliveryError(f"Meta could not be reached: {exc}") from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientDeliveryError(f"Meta answered {response.status_code}.")
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code >= 400:
        error = answer.get("error", {}) if isinstance(answer, dict) else {}
        detail = error.get("message") if isinstance(error, dict) else None
        raise PermanentDeliveryError(
            f"Meta refused the message ({response.status_code}): {detail or response.text[:200]}"
        )
    mid = answer.get("message_id") if isinstance(answer, dict) else None
    if not isinstance(mid, str) or not mid:
        raise PermanentDeliveryError("Meta accepted the message but returned no message_id.")
    return f"meta:{mid}"
