"""The bases of every request and response serializer in the REST edge.

Request serializers only validate (services write); response serializers describe the payloads
that selectors and services already build, so their JSON stays exactly what it was.

The bases carry comments, not docstrings: the schema would show a base's docstring as the
description of every serializer without one of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers


# A request body or query string, checked field by field; the handler in
# ``channels_app.api.errors`` answers the first refusal, naming its field.
class RequestSerializer(serializers.Serializer):
    # Refuse keys the endpoint does not know, where a typo would otherwise change nothing
    # without a word (a profile edit).
    reject_unknown_fields = False

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if self.reject_unknown_fields and isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {unknown[0]: [f"Unknown field {unknown[0]!r}."]}, code="unknown_field"
                )
        return super().to_internal_value(data)


def validated(serializer_class: type[RequestSerializer], data: Any) -> dict[str, Any]:
    """The request's data as the serializer validates it, or ValidationError for the handler."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# A response body from a selector's dict or from a model instance. A field declared
# ``required=False`` is one only some answers carry: it is left out when the dict lacks its key,
# even when it may be null (DRF would write null), so an answer keeps exactly the keys its
# selector gave it, in the declared order.
class PayloadSerializer(serializers.Serializer):
    def to_representation(self, instance: Any) -> dict[str, Any]:
        if not isinstance(instance, Mapping):
            return super().to_representation(instance)
        body: dict[str, Any] = {}
        for field in self._readable_fields:
            key = field.source_attrs[0] if field.source_attrs else None
            if not field.required and key is not None and key not in instance:
                continue
            value = field.get_attribute(instance)
            body[field.field_name] = None if value is None else field.to_representation(value)
        return body
