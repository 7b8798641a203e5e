"""Domain errors that edges turn into an HTTP 4xx or a websocket error frame."""

from __future__ import annotations


class DomainError(Exception):
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    code = "invalid_frame"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"
