"""Serializer fields the whole REST edge shares: strict about types on the way in, and
passing our payloads' values through unchanged on the way out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from contactcenter.kernel.ids import MAX_ID


class TextField(serializers.CharField):
    """A JSON string, taken as sent: a number or a boolean is refused rather than turned into
    text, and whitespace is left for the service, which strips and checks what it stores.
    DRF's CharField already refuses NUL and lone surrogate characters."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class OptionalTextField(TextField):
    """Text that may be left out, empty or null; all three mean the empty string."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_blank=True, allow_null=True, default="", **kwargs)

    def run_validation(self, data: Any = empty) -> str:
        value = super().run_validation(data)
        return "" if value is None else value


class WholeNumberField(serializers.IntegerField):
    """A JSON integer: ``true`` is not 1, ``"5"`` and ``5.0`` are not 5."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class IdField(WholeNumberField):
    """A row's id in a body: a positive integer a 64-bit key can hold (as frames check them).
    Whether the row exists is the service's question, answered with NotFound."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


class IsoDateTimeField(serializers.DateTimeField):
    """A time as every payload here writes it, ``datetime.isoformat()`` (``+00:00``, not
    DRF's ``Z``); a payload's string is already that and passes through."""

    def to_representation(self, value: datetime | str) -> str:
        return value if isinstance(value, str) else value.isoformat()


@extend_schema_field(OpenApiTypes.BINARY)
class UploadField(serializers.FileField):
    """A file in a multipart body (an empty one too); only its name and size are looked at
    here, so a refusal comes before anything is read."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_empty_file=True, **kwargs)
