"""Hooks: how a lower layer causes an effect above it without importing it.

Imports point down the layers only (docs/architecture.md). When a lower layer must cause an
effect that belongs to a layer above it (a reply the CRM stores must be delivered by the
channels, a round routing asks for must be queued as a Celery task), the lower layer owns a
``Hook`` and sends on it; the layer above connects its receiver once, when its app is ready
(``AppConfig.ready``). The sender names what happened; it does not know who acts on it.

Receivers run in the order they were connected, in the sender's thread and transaction; a
receiver that must wait for the commit registers an ``after_commit`` callback itself, or the
sender uses ``send_after_commit``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

logger = logging.getLogger(__name__)

Event = TypeVar("Event")


class Hook(Generic[Event]):
    """One kind of thing a layer announces, with the receivers that act on it.

    A ``required`` hook must have a receiver when it is sent: what it announces would
    otherwise be silently lost (a reply never delivered), so sending fails loudly instead.
    """

    def __init__(self, name: str, *, required: bool = False) -> None:
        self.name = name
        self.required = required
        self._receivers: list[Callable[[Event], None]] = []

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self._receivers)} receiver(s)>"

    def connect(self, receiver: Callable[[Event], None]) -> Callable[[Event], None]:
        """Add a receiver (once: connecting the same one again changes nothing)."""
        if receiver not in self._receivers:
            self._receivers.append(receiver)
        return receiver

    def disconnect(self, receiver: Callable[[Event], None]) -> None:
        if receiver in self._receivers:
            self._receivers.remove(receiver)

    @property
    def receivers(self) -> tuple[Callable[[Event], None], ...]:
        return tuple(self._receivers)

    def send(self, event: Event) -> None:
        """Call every receiver now; an exception in one propagates to the sender."""
        self._check_connected()
        for receiver in self._receivers:
            receiver(event)

    def _check_connected(self) -> None:
        if self.required and not self._receivers:
            raise ImproperlyConfigured(
                f"Nothing is connected to the {self.name} hook: is the app that acts on it "
                "in INSTALLED_APPS?"
            )

    def send_after_commit(self, event: Event) -> None:
        """Call every receiver once the current transaction commits (at once outside one).

        A required hook with no receiver fails here, in the sender's transaction, which rolls
        back: after the commit the error could only be logged.
        """
        self._check_connected()
        hook = self

        def send_committed() -> None:
            hook.send(event)

        send_committed.__qualname__ = f"{self.name}.send_committed"
        after_commit(send_committed)


def after_commit(callback: Callable[[], Any]) -> None:
    """Run a side effect after the commit; if it fails, log it and let the others run.

    The data is already committed by then, so a failed push or task dispatch must not stop
    the pushes queued after it: the periodic sweep and the next snapshot repair what it missed.
    Django names a failed callback by its ``__qualname__``, so callbacks are functions, not
    ``functools.partial`` objects.
    """
    transaction.on_commit(callback, robust=True)
