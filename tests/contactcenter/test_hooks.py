"""The kernel's hooks: how a lower layer causes an effect above it without importing it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from contactcenter.crm.calls import call_to_connect, call_to_place
from contactcenter.crm.messages import message_stored, reply_to_send
from contactcenter.kernel.hooks import Hook
from contactcenter.kernel.realtime import frame_built
from routing import tasks
from routing.services.triggers import round_wanted, wrap_up_ending


def test_receivers_run_in_the_order_they_were_connected_and_once_each() -> None:
    heard: list[tuple[str, int]] = []
    hook: Hook[int] = Hook("test.numbers")

    def first(number: int) -> None:
        heard.append(("first", number))

    def second(number: int) -> None:
        heard.append(("second", number))

    hook.connect(first)
    hook.connect(second)
    hook.connect(first)
    hook.send(7)
    assert heard == [("first", 7), ("second", 7)]
    hook.disconnect(first)
    hook.send(8)
    assert heard[-1] == ("second", 8)


def test_a_required_hook_with_no_receiver_fails_in_the_senders_transaction(db) -> None:
    hook: Hook[int] = Hook("test.required", required=True)
    with pytest.raises(ImproperlyConfigured, match=r"test\.required"):
        hook.send(1)
    # Not only after the commit, where the error could only be logged.
    with pytest.raises(ImproperlyConfigured, match=r"test\.required"):
        hook.send_after_commit(1)


def test_send_after_commit_waits_for_the_commit(db, django_capture_on_commit_callbacks) -> None:
    heard: list[int] = []
    hook: Hook[int] = Hook("test.later")
    hook.connect(heard.append)
    with django_capture_on_commit_callbacks(execute=True):
        hook.send_after_commit(3)
        assert heard == []
    assert heard == [3]


def test_every_required_hook_has_its_receiver_once_the_apps_are_ready() -> None:
    for hook in (message_stored, reply_to_send, call_to_place, call_to_connect, round_wanted):
        assert hook.required
        assert len(hook.receivers) == 1, hook
    # The embedded mode adds its in-process timers to Celery's (contactcenter.config.embedded).
    assert wrap_up_ending.required
    assert tasks.queue_wrap_up_end in wrap_up_ending.receivers
    # Observed by the test suite only: nothing in the product listens to built frames.
    assert not frame_built.required
