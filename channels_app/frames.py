"""Parsing of client frames: every field checked, against the protocol's typed definitions
(``contactcenter.kernel.protocol``), before a service sees it.

A frame is read in two steps, so that an error frame can name the frame type it refuses
(``ref``) even when the data is what is wrong: ``parse_frame`` reads the envelope and finds the
type's definition, ``Frame.parsed`` checks the data against it. Whatever fails becomes a
``FrameError`` with the code and the field the error frame carries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from contactcenter.kernel.errors import DomainError
from contactcenter.kernel.protocol import ClientData

MAX_FRAME_BYTES = 16 * 1024


class FrameError(DomainError):
    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.code = code


@dataclass(frozen=True)
class Frame:
    """A client frame whose envelope was read: a known type, its data not yet checked."""

    type: str
    data: dict[str, Any]
    schema: type[ClientData]

    def parsed(self) -> ClientData:
        """The data as its type's definition, or ``invalid_frame`` naming the first bad field."""
        try:
            return self.schema.model_validate(self.data)
        except ValidationError as exc:
            problem = exc.errors(include_url=False)[0]
            field = str(problem["loc"][0]) if problem["loc"] else None
            raise FrameError(
                "invalid_frame", f"{field}: {_explain(problem)}", field=field
            ) from None


def _explain(problem: ErrorDetails) -> str:
    """What the client got wrong, in the words the error frames have always used."""
    kind = problem["type"]
    if kind == "missing":
        return "required"
    if kind in ("int_type", "greater_than_equal", "less_than_equal"):
        return "a positive integer is required"
    if kind == "bool_type":
        return "true or false is required"
    if kind == "string_type":
        return "a non-empty string is required"
    if kind == "string_too_long":
        return f"at most {problem.get('ctx', {}).get('max_length')} characters"
    # The protocol's own checks (a blank text) say it themselves.
    return problem["msg"]


def parse_frame(text: str | None, *, frame_types: Mapping[str, type[ClientData]]) -> Frame:
    """Read a client frame's envelope: JSON text within the size limit, an object with a
    ``type`` that ``frame_types`` defines and, if any, ``data`` that is an object."""
    if text is None:
        raise FrameError("invalid_json", "Frames must be JSON text.")
    if len(text.encode("utf-8")) > MAX_FRAME_BYTES:
        raise FrameError("frame_too_large", f"Frames are limited to {MAX_FRAME_BYTES} bytes.")
    try:
        content = json.loads(text)
    except ValueError as exc:
        raise FrameError("invalid_json", "The frame is not valid JSON.") from exc
    if not isinstance(content, dict):
        raise FrameError("invalid_frame", "A frame is a JSON object.")
    frame_type = content.get("type")
    if not isinstance(frame_type, str):
        raise FrameError("invalid_frame", "type: required", field="type")
    schema = frame_types.get(frame_type)
    if schema is None:
        raise FrameError("unknown_type", f"Unknown frame type {frame_type!r}.", field="type")
    data = content.get("data", {})
    if not isinstance(data, dict):
        raise FrameError("invalid_frame", "data: must be an object", field="data")
    return Frame(type=frame_type, data=data, schema=schema)
