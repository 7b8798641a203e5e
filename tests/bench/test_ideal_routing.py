"""The ideal FIFO replay and the idle-while-waiting share that bench/ideal_routing.py compares
the live stack with: pure functions, checked on cases worked out by hand."""

from __future__ import annotations

import pytest

from bench.ideal_routing import Contact, Trial, ideal_waits, idle_while_waiting_share


def test_a_contact_arriving_while_a_server_is_free_waits_nothing() -> None:
    assert ideal_waits([0.0, 1.0], [5.0, 5.0], servers=2, wrap_up=0) == [0.0, 0.0]


def test_a_contact_waits_for_the_earliest_server_to_free_up() -> None:
    # Servers free at 5 and 3; the third arrival (at 2) starts at 3.
    assert ideal_waits([0.0, 1.0, 2.0], [5.0, 2.0, 1.0], servers=2, wrap_up=0) == [0, 0, 1.0]


def test_wrap_up_keeps_the_server_busy_after_the_handle_time() -> None:
    assert ideal_waits([0.0, 1.0], [2.0, 1.0], servers=1, wrap_up=2) == [0.0, 3.0]


def test_the_line_is_served_in_order_of_arrival_whatever_the_input_order() -> None:
    assert ideal_waits([1.0, 0.0], [1.0, 4.0], servers=1, wrap_up=0) == [0.0, 3.0]


def contact(index: int, committed: float, offered: float, closed: float) -> Contact:
    return Contact(
        index=index,
        handle=0.0,
        committed=committed,
        offered=offered,
        assigned=offered,
        close_sent=closed,
    )


def test_an_agent_free_while_a_contact_waits_counts_as_idle() -> None:
    # One agent, free from 0; a contact waits from 0 to its offer at 1, worked until 4.
    trial = Trial(wrap_up=0, contacts=[contact(0, 0.0, 1.0, 4.0)])
    assert idle_while_waiting_share(trial, agents=1) == pytest.approx(1 / 4)


def test_a_contact_waiting_while_every_agent_is_busy_is_not_idle_time() -> None:
    # The second contact waits from 1 to 2 while the only agent works the first one; the
    # agent is free between the close at 2 and the next offer at 2.5.
    trial = Trial(wrap_up=0, contacts=[contact(0, 0.0, 0.0, 2.0), contact(1, 1.0, 2.5, 4.0)])
    assert idle_while_waiting_share(trial, agents=1) == pytest.approx(0.5 / 4)
