"""One error body for every HTTP edge: ``{"error": str, "field": str | null, "code": str}``.

``error`` is a sentence for people; ``field`` names the input at fault (a dotted path into the
JSON body such as ``from.kind``, a path or query parameter such as ``work_item_id``, ``body``
for the body as a whole) or is null; ``code`` is for programs:

- a domain error: ``invalid``, ``not_found``, ``conflict`` or ``forbidden``, with the status
  ``kernel.errors.http_status`` gives it (400, 404, 409, 403);
- a field the request serializer refused: DRF's code for the check that failed (``required``,
  ``null``, ``blank``, ``invalid``, ``max_length``, ``min_value``, ``invalid_choice``...), 400;
- the rest of what DRF raises: ``parse_error`` (malformed JSON, field ``body``, 400),
  ``not_authenticated`` and ``authentication_failed`` (401 or 403, as DRF decides from the
  authentication classes), ``permission_denied`` (403), ``not_found`` (404),
  ``method_not_allowed`` (405), ``unsupported_media_type`` (415), ``throttled`` (429).

The REST views raise and ``api_exception_handler`` (``REST_FRAMEWORK["EXCEPTION_HANDLER"]``)
answers; the providers' webhooks, plain Django views, answer with ``kernel.errors.error_body`` too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from contactcenter.kernel.errors import DomainError, error_body, http_status

# The field named when the request body as a whole is wrong (not JSON, not an object).
BODY = "body"


def error_payload(message: str, *, field: str | None, code: str) -> dict[str, Any]:
    return {"error": message, "field": field, "code": code}


def first_validation_error(detail: Any) -> tuple[str, str, str]:
    """(field, message, code) of the first error in DRF's nested error detail.

    Nested serializers give a dotted path (``from.kind``); positions in a list are left out,
    so that ``field`` always names a field of the schema. Errors about an object as a whole
    (DRF's non-field errors, e.g. a list sent where an object belongs) name that object, and
    at the top the body.
    """
    path: list[str] = []
    while True:
        if isinstance(detail, Mapping):
            key, detail = next(
                ((key, value) for key, value in detail.items() if value), (None, None)
            )
            if key is None:
                break
            if isinstance(key, str) and key != api_settings.NON_FIELD_ERRORS_KEY:
                path.append(key)
        elif isinstance(detail, list):
            detail = next((value for value in detail if value), None)
            if detail is None:
                break
        else:
            break
    message = str(detail or "Invalid input.")
    code = getattr(detail, "code", None) or "invalid"
    if not path:
        return BODY, message, code
    field = ".".join(path)
    # Named in the sentence too, as the websocket's error frames do ("offer_id: required").
    return field, f"{field}: {message}", code


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error a REST view raises, as the one error body (None: a fault, left to Django's
    500 handling)."""
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(error_body(exc), status=http_status(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, exceptions.ValidationError):
        field, message, code = first_validation_error(exc.detail)
    else:
        field = BODY if isinstance(exc, exceptions.ParseError) else None
        detail = exc.detail
        message = str(detail)
        code = getattr(detail, "code", None) or exc.default_code
    set_rollback()
    return Response(
        error_payload(message, field=field, code=code), status=exc.status_code, headers=headers
    )


class ErrorSerializer(serializers.Serializer):
    """The error body, for the schema."""

    error = serializers.CharField(help_text="What went wrong, for people.")
    field = serializers.CharField(
        allow_null=True,
        help_text="The input at fault: a dotted path into the body (from.kind), a path or "
        "query parameter (work_item_id), body for the body as a whole; null when no input is.",
    )
    code = serializers.CharField(
        help_text="For programs: invalid, not_found, conflict, forbidden, DRF's validation "
        "codes (required, null, max_length...), parse_error, not_authenticated, "
        "authentication_failed, permission_denied, method_not_allowed, "
        "unsupported_media_type, throttled."
    )


ERROR_MEANINGS = {
    400: "Invalid input: field names it (code invalid, parse_error or DRF's validation code).",
    403: "Not signed in, or not allowed (not_authenticated, permission_denied, forbidden).",
    404: "What the request names does not exist for you: field names it (not_found).",
    409: "The state changed and no longer allows it: field names what (conflict).",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """The error answers an operation documents; every API view needs a signed-in user, so
    403 is always among them."""
    return {
        status: OpenApiResponse(ErrorSerializer, description=ERROR_MEANINGS[status])
        for status in sorted({403, *statuses})
    }
