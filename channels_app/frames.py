"""Parsing of client frames: every field checked before a service sees it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from contactcenter.kernel.errors import DomainError
from contactcenter.kernel.ids import MAX_ID

MAX_FRAME_BYTES = 16 * 1024


class FrameError(DomainError):
    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.code = code


@dataclass(frozen=True)
class Frame:
    type: str
    data: dict[str, Any]

    def text(self, name: str, *, max_length: int, required: bool = True) -> str:
        value = self.data.get(name)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise FrameError("invalid_frame", f"{name}: a non-empty string is required", field=name)
        if len(value) > max_length:
            raise FrameError(
                "invalid_frame", f"{name}: at most {max_length} characters", field=name
            )
        return value

    def identifier(self, name: str, *, nullable: bool = False, required: bool = True) -> int | None:
        """A positive integer id; ``nullable`` allows an explicit null, ``required=False`` also
        allows leaving it out."""
        value = self.data.get(name)
        if value is None and ((nullable and name in self.data) or not required):
            return None
        # bool is an int in Python; a true/false id is a client bug, not id 1/0.
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
            raise FrameError("invalid_frame", f"{name}: a positive integer is required", field=name)
        return value

    def flag(self, name: str) -> bool:
        value = self.data.get(name)
        if not isinstance(value, bool):
            raise FrameError("invalid_frame", f"{name}: true or false is required", field=name)
        return value


def parse_frame(text: str | None, *, allowed_types: frozenset[str]) -> Frame:
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
    if frame_type not in allowed_types:
        raise FrameError("unknown_type", f"Unknown frame type {frame_type!r}.", field="type")
    data = content.get("data", {})
    if not isinstance(data, dict):
        raise FrameError("invalid_frame", "data: must be an object", field="data")
    return Frame(type=frame_type, data=data)
