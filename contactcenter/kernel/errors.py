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


def http_status(error: DomainError) -> int:
    """The HTTP status every edge answers a domain error with."""
    if isinstance(error, Forbidden):
        return 403
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Conflict):
        return 409
    return 400


def http_code(error: DomainError) -> str:
    """The error's code over HTTP: the kernel's, except that InvalidInput's names the
    websocket's error frame (``invalid_frame``); over HTTP the same mistake is ``invalid``."""
    return "invalid" if isinstance(error, InvalidInput) else error.code


def error_body(error: DomainError) -> dict[str, str | None]:
    """The one body every HTTP edge (REST API, webhooks) answers an error with."""
    return {"error": error.message, "field": error.field, "code": http_code(error)}
