"""Contact points in one canonical form, so that one person on any channel is one customer.

An email address is stored lower-case, a phone number in E.164 (``+4930123456``), and a user
of a messaging platform as ``<platform>:<id>`` (ids are only unique within a platform).
Every adapter normalises through here before the CRM looks a customer up.
"""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from contactcenter.crm.models import ContactPoint
from contactcenter.kernel.errors import InvalidInput
from contactcenter.kernel.text import clean_text

_PLATFORM = re.compile(r"[a-z][a-z0-9_-]{0,29}")
_PLATFORM_ID = re.compile(r"[A-Za-z0-9._:@+-]{1,200}")


def normalize_email(raw: str, *, field: str = "email") -> str:
    email = clean_text(raw, field=field, max_length=254, label="Email").lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidInput("Enter a valid email address.", field=field) from exc
    return email


def normalize_phone(raw: str, *, field: str = "phone") -> str:
    """E.164 form of a phone number; numbers without a country code use PHONE_DEFAULT_REGION.

    Channel prefixes that providers put on addresses (``whatsapp:+1…``, ``tel:``) are
    dropped: the same number on SMS and WhatsApp is the same person.
    """
    text = clean_text(raw, field=field, max_length=64, label="Phone number")
    for prefix in ("whatsapp:", "tel:", "sms:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
    try:
        number = phonenumbers.parse(text, settings.PHONE_DEFAULT_REGION or None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(f"{text!r} is not a phone number.", field=field) from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidInput(f"{text!r} is not a possible phone number.", field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_platform_id(platform: str, raw: str, *, field: str = "from") -> str:
    if not _PLATFORM.fullmatch(platform or ""):
        raise InvalidInput(
            "The platform must be a short lower-case name such as “messenger”.", field="platform"
        )
    user_id = clean_text(raw, field=field, max_length=200, label="Platform user id")
    # Idempotent: a value normalised before keeps its form.
    user_id = user_id.removeprefix(f"{platform}:")
    if not _PLATFORM_ID.fullmatch(user_id):
        raise InvalidInput("The platform user id has characters no platform uses.", field=field)
    return f"{platform}:{user_id}"


def normalize(kind: str, raw: str, *, field: str, platform: str = "") -> str:
    """The canonical value of an address of one ContactPoint kind."""
    if kind == ContactPoint.Kind.EMAIL:
        return normalize_email(raw, field=field)
    if kind == ContactPoint.Kind.PHONE:
        return normalize_phone(raw, field=field)
    if kind == ContactPoint.Kind.PLATFORM:
        return normalize_platform_id(platform, raw, field=field)
    raise InvalidInput(f"Unknown kind of address {kind!r}.", field="kind")
