"""Providers' webhooks: verify, parse with the provider's module, store through the CRM.

Thin by design: every rule lives in ``channels_app.providers``, ``contactcenter.crm.inbound``
and ``routing.services.conversations``.
Each inbound message is stored in its own transaction. Bad input gets a 400 naming the
field, a bad signature 403, a channel this deployment has not set up 404.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from channels_app.providers import email, meta, twilio
from contactcenter.crm.inbound import validated
from contactcenter.kernel.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    NotConfigured,
    error_body,
    http_status,
)
from routing.services import conversations

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def domain_errors_as_http(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return error_response(exc)

    return wrapped


def error_response(exc: DomainError) -> JsonResponse:
    """The REST API's error body (``channels_app.api.errors``), from a plain Django view."""
    return JsonResponse(error_body(exc), status=http_status(exc))


@csrf_exempt
@require_POST
@domain_errors_as_http
def twilio_messaging(request: HttpRequest) -> HttpResponse:
    """Inbound SMS and WhatsApp messages (Twilio's messaging webhook)."""
    twilio.verify_signature(request)
    conversations.receive(twilio.inbound_message(request.POST))
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_http_methods(["GET", "POST"])
@domain_errors_as_http
def meta_messaging(request: HttpRequest) -> HttpResponse:
    """Messenger and Instagram: the subscription handshake (GET) and message events (POST)."""
    if request.method == "GET":
        return HttpResponse(meta.subscription_challenge(request.GET), content_type="text/plain")
    meta.verify_signature(request.body, request.headers.get("X-Hub-Signature-256", ""))
    # All checked before any is stored: a delivery Meta will retry must not half-succeed.
    messages = [validated(message) for message in meta.inbound_messages(request.body)]
    for message in messages:
        conversations.receive(message)
    return JsonResponse({"received": len(messages)})


@csrf_exempt
@require_POST
@domain_errors_as_http
def inbound_email(request: HttpRequest) -> HttpResponse:
    """A raw RFC 822 message, as inbound-mail services post it (bearer token)."""
    if not settings.INBOUND_EMAIL_TOKEN:
        raise NotConfigured("The inbound-email webhook is not set up on this deployment.")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), settings.INBOUND_EMAIL_TOKEN.encode()
    ):
        raise Forbidden("The Authorization bearer token is missing or wrong.")
    # Read past DATA_UPLOAD_MAX_MEMORY_SIZE, up to the email limit: emails carry attachments.
    raw = request.read(settings.EMAIL_MAX_BYTES + 1)
    if not raw:
        raise InvalidInput("The body must be a raw RFC 822 message.", field="message")
    received = conversations.receive(email.inbound_message(raw))
    return JsonResponse(
        {
            "message_id": received.message.pk,
            "interaction_id": received.message.interaction_id,
            "duplicate": not received.created,
        },
        status=201 if received.created else 200,
    )


@csrf_exempt
@require_POST
@domain_errors_as_http
def twilio_voice(request: HttpRequest) -> HttpResponse:
    """A call rings in: it becomes a voice contact, and the caller holds until an agent takes it."""
    twilio.verify_signature(request)
    received = conversations.receive(twilio.inbound_call(request.POST))
    return HttpResponse(
        twilio.enqueue_twiml(received.message.interaction_id), content_type="text/xml"
    )


@csrf_exempt
@require_POST
@domain_errors_as_http
def twilio_voice_status(request: HttpRequest) -> HttpResponse:
    """Twilio's call status callback: ringing, in progress, completed with its duration."""
    twilio.verify_signature(request)
    external_id, status, ended, duration = twilio.call_status(request.POST)
    conversations.call_status_changed(
        external_id=external_id, status=status, ended=ended, duration=duration
    )
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
