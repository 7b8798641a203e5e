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


class Forbidden(DomainError):
    """A request that does not prove it comes from who it claims (a bad webhook signature)."""

    code = "forbidden"


class NotConfigured(NotFound):
    """A channel that this deployment has not set up: its endpoints do not exist."""
