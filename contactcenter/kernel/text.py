"""Text from outside checked once, before it reaches the database."""

from __future__ import annotations

from contactcenter.kernel.errors import InvalidInput


def clean_text(value: str, *, field: str, max_length: int, label: str) -> str:
    """Stripped text that every database stores as written, or InvalidInput naming the field.

    PostgreSQL refuses NUL characters and UTF-8 cannot encode lone surrogates, both of which
    JSON lets a client send; they are refused here rather than failing at the database.
    """
    text = (value or "").strip()
    if "\x00" in text or any("\ud800" <= char <= "\udfff" for char in text):
        raise InvalidInput(f"{label} contains characters that cannot be stored.", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{label} is longer than {max_length} characters.", field=field)
    return text
