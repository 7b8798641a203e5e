"""Where the web chat widget may be embedded."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models


def new_site_key() -> str:
    return secrets.token_urlsafe(18)


def new_identity_secret() -> str:
    return secrets.token_hex(32)


def parse_origin(text: str) -> str:
    """``scheme://host[:port]`` as browsers send it in ``Origin``, or ValueError."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(text)
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(text)
    origin = f"{parts.scheme}://{parts.hostname}"
    return f"{origin}:{parts.port}" if parts.port else origin


class ChatSite(models.Model):
    """A website that embeds the chat widget with its key, and the origins that may frame it."""

    name = models.CharField(max_length=80, unique=True)
    key = models.CharField(
        max_length=40,
        unique=True,
        default=new_site_key,
        help_text="Goes in the embed tag's data-site-key. Not a secret: it names the site.",
    )
    allowed_origins = models.TextField(
        help_text="Pages that may show the widget, one origin per line "
        "(https://www.example.com, http://localhost:3000)."
    )
    identity_secret = models.CharField(
        max_length=64,
        default=new_identity_secret,
        help_text="Known only to the site's server, which signs its signed-in shoppers' email "
        "addresses with it (data-user-hash = hex HMAC-SHA256 of the lower-case email). A chat "
        "with a valid signature joins that customer's record; without one the visitor is a new, "
        "unverified customer. Change it to invalidate all signatures.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def identity_hash(self, email: str) -> str:
        """The signature the site's server gives a signed-in shopper's (normalised) email."""
        return hmac.new(self.identity_secret.encode(), email.encode(), hashlib.sha256).hexdigest()

    def origins(self) -> list[str]:
        return [parse_origin(line) for line in self.allowed_origins.splitlines() if line.strip()]

    def clean(self) -> None:
        bad = []
        for line in self.allowed_origins.splitlines():
            if not line.strip():
                continue
            try:
                parse_origin(line)
            except ValueError:
                bad.append(line.strip())
        if bad:
            raise ValidationError(
                {"allowed_origins": f"Not an origin (scheme://host[:port]): {', '.join(bad)}"}
            )
        if not any(line.strip() for line in self.allowed_origins.splitlines()):
            raise ValidationError({"allowed_origins": "List at least one origin."})
