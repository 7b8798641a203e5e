"""Timestamps of the routing refill path's phases, written by the stack's own processes for
the benchmarks (bench/ideal_routing.py, bench/backlog.py).

Loaded only when a benchmark starts the stack with this directory first on PYTHONPATH (Python
imports ``sitecustomize`` at start-up) and ``BENCH_PHASE_DIR`` set; the product never imports
it. Nothing in the product's behaviour changes: once Django is set up, a few functions are
wrapped through the module attribute their callers look up, and each wrapper only writes a
line (wall-clock times, ``time.time()``, shared by every process on this machine) around the
call. Each process appends JSON lines to ``$BENCH_PHASE_DIR/<pid>.jsonl``:

* ``publish``: a routing task handed to the broker (``before_task_publish``), with its id
  and, for a task due later (a wrap-up's end), its eta;
* ``prerun``: a worker starts that task (``task_prerun``);
* ``round``: a routing round (``run_round``, as a requested round or the sweep runs it): the
  task that ran it, start and end, seconds spent reading the snapshot (the functions of
  ``routing.selectors.snapshot``), planning (``routing.engine.plan``) and claiming
  (``rounds.make_offers``: locks, re-reads, writes, commit and after-commit callbacks), and
  the work items it offered;
* ``send``: the after-commit push of offers onto the channel layer (``realtime._send_all``),
  start and end, with the offered work items;
* ``close`` and ``accept``: the services behind the console's ``work.close`` and
  ``offer.accept`` frames, start and end (the end is after the commit and its callbacks).

A function the probe cannot find (the code moved) is skipped with a note in the file, and
its time shows in the round's remainder.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

PHASE_DIR = os.environ.get("BENCH_PHASE_DIR", "")
# end_wrap_up: the timer task due at a wrap-up's end, where the code has one.
ROUTING_TASKS = (
    "routing.tasks.run_routing_round",
    "routing.tasks.run_sweep",
    "routing.tasks.end_wrap_up",
)

_lock = threading.Lock()
_state = threading.local()
_current_task: dict[str, str] = {}
_installed = threading.Event()


def _write(record: dict[str, Any]) -> None:
    line = json.dumps(record) + "\n"
    with _lock, open(os.path.join(PHASE_DIR, f"{os.getpid()}.jsonl"), "a") as out:
        out.write(line)


def _on_publish(sender: str | None = None, headers: dict | None = None, **_: Any) -> None:
    if sender in ROUTING_TASKS:
        task_id = (headers or {}).get("id")
        eta = (headers or {}).get("eta")  # an ISO timestamp, for a task due later
        _write({"e": "publish", "task": sender, "id": task_id, "t": time.time(), "eta": eta})


def _on_prerun(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    name = getattr(task, "name", "")
    _current_task.update(id=task_id or "", task=name)
    if name in ROUTING_TASKS:
        _write({"e": "prerun", "task": name, "id": task_id, "t": time.time()})


def _phase_timer(phase: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """Adds the call's time to the running round's `phase`, outermost calls only (the
    snapshot's functions call each other)."""

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        record = getattr(_state, "round", None)
        depth = getattr(_state, "depth", 0)
        if record is None or depth:
            return function(*args, **kwargs)
        _state.depth = 1
        started = time.time()
        try:
            return function(*args, **kwargs)
        finally:
            _state.depth = 0
            record[phase] = record.get(phase, 0.0) + time.time() - started

    return timed


def _round_timer(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        record: dict[str, Any] = {"e": "round", "start": time.time(), **_current_task}
        _state.round = record
        offers: list[Any] = []
        try:
            offers = function(*args, **kwargs)
            return offers
        finally:
            _state.round = None
            record["end"] = time.time()
            record["items"] = [getattr(offer, "work_item_id", None) for offer in offers or []]
            _write(record)

    return timed


def _call_timer(event: str, key: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """Times a service call and each of the after-commit callbacks it registers (the first
    one starts right after the commit)."""

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        callbacks: list[tuple[str, float, float]] = []
        _state.callbacks = callbacks
        started = time.time()
        try:
            return function(*args, **kwargs)
        finally:
            _state.callbacks = None
            ended = time.time()
            _write(
                {
                    "e": event,
                    key: kwargs.get(key),
                    "start": started,
                    "end": ended,
                    "callbacks": callbacks,
                }
            )

    return timed


def _timed_on_commit(on_commit: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(on_commit)
    def register(func: Callable[[], Any], *args: Any, **kwargs: Any) -> Any:
        callbacks = getattr(_state, "callbacks", None)
        if callbacks is None:
            return on_commit(func, *args, **kwargs)
        name = getattr(func, "__qualname__", repr(func))

        def timed() -> None:
            started = time.time()
            try:
                func()
            finally:
                callbacks.append((name, started, time.time()))

        return on_commit(timed, *args, **kwargs)

    return register


def _send_timer(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    async def timed(messages: list[tuple[str, str, dict[str, Any]]]) -> Any:
        items = [data.get("work_item_id") for _, kind, data in messages if kind == "offer.created"]
        started = time.time()
        try:
            return await function(messages)
        finally:
            if items:
                _write({"e": "send", "start": started, "end": time.time(), "items": items})

    return timed


Wrapper = Callable[[Callable[..., Any]], Callable[..., Any]]


def _wrap(module: Any, name: str, wrapper: Wrapper) -> None:
    function = getattr(module, name, None)
    if function is None:
        _write({"e": "missing", "what": f"{module.__name__}.{name}"})
        return
    setattr(module, name, wrapper(function))


def _install_wrappers() -> None:
    from django.db import transaction

    from contactcenter.kernel import realtime
    from routing import engine
    from routing.selectors import snapshot
    from routing.services import offers, rounds, sweep, work

    for name, value in list(vars(snapshot).items()):
        if callable(value) and getattr(value, "__module__", "") == snapshot.__name__:
            if isinstance(value, type) or name.startswith("__"):
                continue
            setattr(snapshot, name, _phase_timer("snapshot", value))
    _wrap(engine, "plan", functools.partial(_phase_timer, "plan"))
    _wrap(rounds, "make_offers", functools.partial(_phase_timer, "claim"))
    _wrap(rounds, "run_round", _round_timer)
    if getattr(sweep, "run_round", None) is not None:
        sweep.run_round = rounds.run_round
    _wrap(realtime, "_send_all", _send_timer)
    _wrap(work, "close_work", functools.partial(_call_timer, "close", "work_item_id"))
    _wrap(offers, "accept_offer", functools.partial(_call_timer, "accept", "offer_id"))
    transaction.on_commit = _timed_on_commit(transaction.on_commit)


def _install() -> None:
    import django
    from celery.signals import before_task_publish, task_prerun

    before_task_publish.connect(_on_publish, weak=False)
    task_prerun.connect(_on_prerun, weak=False)
    setup = django.setup

    @functools.wraps(setup)
    def setup_then_wrap(*args: Any, **kwargs: Any) -> None:
        setup(*args, **kwargs)
        if not _installed.is_set():
            _installed.set()
            _install_wrappers()

    django.setup = setup_then_wrap


if PHASE_DIR:
    _install()
