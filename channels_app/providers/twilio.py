"""Twilio: Programmable Messaging (SMS, WhatsApp) and Voice. Form-encoded webhooks signed
with ``X-Twilio-Signature``; replies, calls and call transfers through the REST API (its base
URL from settings)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.http import HttpRequest, QueryDict
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from channels_app.providers import PermanentDeliveryError, TransientDeliveryError
from contactcenter.crm.inbound import InboundMessage
from contactcenter.crm.models import ChannelKind, ContactPoint
from contactcenter.kernel.errors import Forbidden, InvalidInput, NotConfigured

WHATSAPP_PREFIX = "whatsapp:"
# Twilio lists up to ten media items on one message.
MAX_MEDIA = 10


def require_configured() -> None:
    if not settings.TWILIO_AUTH_TOKEN:
        raise NotConfigured("Twilio is not set up on this deployment.")


def public_url(request: HttpRequest) -> str:
    """The URL Twilio called, which is what it signed."""
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + request.get_full_path()
    return request.build_absolute_uri()


def verify_signature(request: HttpRequest) -> None:
    require_configured()
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        raise Forbidden("The request is not signed (X-Twilio-Signature is missing).")
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    if not validator.validate(public_url(request), request.POST, signature):
        raise Forbidden("The X-Twilio-Signature does not match the request.")


def required(form: QueryDict, name: str) -> str:
    value = form.get(name, "")
    if not value.strip():
        raise InvalidInput(f"{name} is missing.", field=name)
    return value


def inbound_message(form: QueryDict) -> InboundMessage:
    """An inbound SMS or WhatsApp message from Twilio's webhook form."""
    sender = required(form, "From")
    sid = required(form, "MessageSid")
    body = form.get("Body", "")
    try:
        media_count = int(form.get("NumMedia") or 0)
    except ValueError as exc:
        raise InvalidInput("NumMedia is not a number.", field="NumMedia") from exc
    if not 0 <= media_count <= MAX_MEDIA:
        raise InvalidInput(f"NumMedia must be between 0 and {MAX_MEDIA}.", field="NumMedia")
    media = [form.get(f"MediaUrl{index}", "") for index in range(media_count)]
    lines = [body.strip()] if body.strip() else []
    lines += [f"[attachment] {url}" for url in media if url]
    whatsapp = sender.lower().startswith(WHATSAPP_PREFIX)
    return InboundMessage(
        channel=ChannelKind.MESSAGING if whatsapp else ChannelKind.SMS,
        address_kind=ContactPoint.Kind.PHONE,
        address=sender,
        body="\n".join(lines),
        provider_message_id=f"twilio:{sid}",
        business_address=form.get("To", ""),
        customer_name=form.get("ProfileName", ""),
    )


def reply_address(channel: str, phone: str) -> str:
    return WHATSAPP_PREFIX + phone if channel == ChannelKind.MESSAGING else phone


def client() -> Client:
    require_configured()
    api = Client(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        http_client=TwilioHttpClient(timeout=settings.DELIVERY_TIMEOUT_SECONDS),
    )
    api.api.base_url = settings.TWILIO_API_BASE_URL
    return api


def send_message(*, sender: str, to: str, body: str) -> str:
    """Send a text through Twilio; the provider message id ("twilio:SM…") it got."""
    with refusals_as("the message"):
        message = client().messages.create(to=to, from_=sender, body=body)
    return f"twilio:{message.sid}"


@contextmanager
def refusals_as(what: str) -> Iterator[None]:
    """Twilio's failures as ours: 429 and 5xx and an unreachable API pass, the rest is final."""
    try:
        yield
    except TwilioRestException as exc:
        if exc.status == 429 or exc.status >= 500:
            raise TransientDeliveryError(f"Twilio answered {exc.status}: {exc.msg}") from exc
        raise PermanentDeliveryError(f"Twilio refused {what}: {exc.msg}") from exc
    except (TwilioException, OSError) as exc:
        # Connection refused, timeouts and the like: the provider may be back soon.
        raise TransientDeliveryError(f"Twilio could not be reached: {exc}") from exc


# --- voice ---------------------------------------------------------------------------------

CALL_ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
CALL_STATUSES = CALL_ENDED | {"queued", "initiated", "ringing", "in-progress"}


def call_id(call_sid: str) -> str:
    return f"twilio:{call_sid}"


def agent_identity(agent_id: int) -> str:
    """The Twilio Client identity an agent's browser phone registers with."""
    return f"agent-{agent_id}"


def inbound_call(form: QueryDict) -> InboundMessage:
    """A call ringing in (Twilio's voice webhook): a voice contact of its own."""
    sid = required(form, "CallSid")
    caller = required(form, "From")
    return InboundMessage(
        channel=ChannelKind.VOICE,
        address_kind=ContactPoint.Kind.PHONE,
        address=caller,
        body=f"Incoming call from {caller.strip()}.",
        provider_message_id=call_id(sid),
        external_id=call_id(sid),
        business_address=form.get("To", ""),
        customer_name=form.get("CallerName", ""),
        sender="system",
    )


def call_status(form: QueryDict) -> tuple[str, str, bool, int | None]:
    """(call id, status, whether the call has ended, duration in seconds or None) of a status
    callback."""
    sid = required(form, "CallSid")
    status = required(form, "CallStatus").strip().lower()
    if status not in CALL_STATUSES:
        raise InvalidInput(f"Unknown CallStatus {status!r}.", field="CallStatus")
    raw = form.get("CallDuration", "").strip()
    try:
        duration = int(raw) if raw else None
    except ValueError as exc:
        raise InvalidInput(
            "CallDuration is not a number of seconds.", field="CallDuration"
        ) from exc
    if duration is not None and not 0 <= duration <= 7 * 24 * 3600:
        raise InvalidInput("CallDuration is out of range.", field="CallDuration")
    return call_id(sid), status, status in CALL_ENDED, duration


def enqueue_twiml(interaction_id: int) -> str:
    """TwiML that holds the caller in a Twilio queue of their own until an agent accepts."""
    response = VoiceResponse()
    response.say("Thank you for calling. Please hold for the next available agent.")
    response.enqueue(f"interaction-{interaction_id}")
    return str(response)


def connect_call(*, external_id: str, agent_id: int) -> None:
    """Take the waiting caller out of the hold queue and ring the agent's browser phone."""
    call_sid = external_id.removeprefix("twilio:")
    response = VoiceResponse()
    dial = response.dial()
    dial.client(agent_identity(agent_id))
    with refusals_as("to connect the call"):
        client().calls(call_sid).update(twiml=str(response))


def hold_twiml(interaction_id: int) -> str:
    """TwiML for a customer who answers our call: a word, then hold for the agent."""
    response = VoiceResponse()
    response.say("Hello, this is customer service calling you back. Please hold for your agent.")
    response.enqueue(f"interaction-{interaction_id}")
    return str(response)


def place_call(*, to: str, sender: str, interaction_id: int) -> str:
    """Call a customer; the provider's call id ("twilio:CA…")."""
    options = {}
    if settings.PUBLIC_BASE_URL:
        options["status_callback"] = f"{settings.PUBLIC_BASE_URL}/hooks/twilio/voice/status/"
        options["status_callback_event"] = ["answered", "completed"]
    with refusals_as("the call"):
        call = client().calls.create(
            to=to, from_=sender, twiml=hold_twiml(interaction_id), **options
        )
    return call_id(call.sid)


def agent_voice_token(agent_id: int, *, ttl_seconds: int = 3600) -> str:
    """An access token with which the agent's browser phone (Twilio's Voice SDK) registers as
    their client identity, so that a call put through to ``agent-<id>`` rings there."""
    if not (settings.TWILIO_API_KEY_SID and settings.TWILIO_API_KEY_SECRET):
        raise NotConfigured("The browser phone is not set up (TWILIO_API_KEY_SID/SECRET).")
    token = AccessToken(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_API_KEY_SID,
        settings.TWILIO_API_KEY_SECRET,
        identity=agent_identity(agent_id),
        ttl=ttl_seconds,
    )
    token.add_grant(
        VoiceGrant(
            incoming_allow=True,
            outgoing_application_sid=settings.TWILIO_TWIML_APP_SID or None,
        )
    )
    return token.to_jwt()
