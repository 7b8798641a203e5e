"""The intake process of bench/enqueue_to_offer.py: enqueues chats at a steady rate through
the product's services, as an inbound channel adapter (a webhook worker) would, outside Daphne.

    python -m bench.intake_feeder --rate 100 --count 2200 [--first 0 --step 1]

With ``--step N`` it enqueues only items ``--first``, ``--first + N``, ... of the schedule, so
that N such processes share one schedule (as a pool of webhook workers would).

Run with the stack's production environment (tests/stack.production_env: DATABASE_URL,
REDIS_URL, ...). Protocol, one line each way, all on this process's stdin and stdout:

* ``READY`` once Django is set up and one warm-up transaction (rolled back) has loaded the
  intake rules and opened the database, cache and channel-layer connections;
* then it waits for one line on stdin (any text: the go signal); end of input (the
  benchmark is gone) makes it exit instead;
* ``ITEM {json}`` for each item, as soon as it is enqueued: ``index``, ``work_item_id``,
  ``committed`` (time.time() right after the commit, before the commit's callbacks: the
  round dispatch and the pushes), ``scheduled`` (time.time() at which the open loop meant to
  start it), ``started`` (when it did), ``transaction_ms`` (start to commit) and
  ``callbacks_ms`` (the commit's callbacks, which run in this process before it can start
  the next item);
* ``DONE {json}`` at the end: ``rounds_started`` from READY until then (routing.services.triggers'
  ROUNDS_STARTED_KEY counter, all workers together).

Each item is one transaction: a new Customer, a Case, a chat Interaction and the customer's
first Message, then ``routing.services.queueing.enqueue`` (tests/integration/routing_load.py
does the same). The loop is open: item ``i`` is due at ``go + i / rate``; an item started late (the
process could not keep up) does not push the later ones back, it only shows in ``scheduled``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable
from typing import Any


def create_and_enqueue(index: int, body: str) -> int:
    """The item's rows and its enqueue, in the caller's transaction; the work item's id."""
    from contactcenter.crm.models import Case, ChannelKind, Customer, Interaction, Message
    from routing.services.queueing import enqueue

    customer = Customer.objects.create(name=f"Bench Visitor {index}")
    case = Case.objects.create(customer=customer, subject="Web chat")
    interaction = Interaction.objects.create(case=case, channel=ChannelKind.CHAT)
    Message.objects.create(interaction=interaction, sender=Message.Sender.CUSTOMER, body=body)
    return enqueue(interaction).pk


def enqueue_one(index: int, body: str) -> tuple[int, float, float]:
    """One item in a transaction of its own: (work item id, transaction start, commit time)."""
    from django.db import transaction

    committed: list[float] = []
    started = time.time()
    with transaction.atomic():
        # The first commit callback, so it runs before those that enqueue registers.
        transaction.on_commit(lambda: committed.append(time.time()))
        work_item_id = create_and_enqueue(index, body)
    return work_item_id, started, committed[0]


class _RolledBack(Exception):
    pass


def warm_up() -> None:
    """One enqueue, rolled back: opens the connections and loads the intake rules that the
    first item would otherwise pay for."""
    from django.db import transaction

    from contactcenter.kernel.realtime import send_now

    try:
        with transaction.atomic():
            create_and_enqueue(-1, "bench warm-up")
            raise _RolledBack
    except _RolledBack:
        pass
    # Starts the kept channel-layer loop and its Redis connection.
    send_now([("bench.warmup", "bench.warmup", {})])


def emit(kind: str, data: dict[str, Any]) -> None:
    sys.stdout.write(f"{kind} {json.dumps(data)}\n")
    sys.stdout.flush()


def feed(rate: float, count: int, body: str, *, first: int, step: int) -> None:
    feed_schedule(((index, index / rate) for index in range(first, count, step)), body)


def feed_schedule(schedule: Iterable[tuple[int, float]], body: str) -> None:
    """Say READY, wait for the go line, then enqueue item ``index`` ``offset`` seconds after
    it, for each (index, offset) of ``schedule`` in order, reporting each and then DONE."""
    from django.core.cache import cache

    from routing.services.triggers import ROUNDS_STARTED_KEY

    warm_up()
    rounds_before = cache.get(ROUNDS_STARTED_KEY, 0)
    print("READY", flush=True)
    if not sys.stdin.readline():
        return
    go_monotonic, go_wall = time.monotonic(), time.time()
    for index, offset in schedule:
        time.sleep(max(0.0, go_monotonic + offset - time.monotonic()))
        work_item_id, started, committed = enqueue_one(index, body.format(index=index))
        finished = time.time()
        emit(
            "ITEM",
            {
                "index": index,
                "work_item_id": work_item_id,
                "committed": committed,
                "scheduled": go_wall + offset,
                "started": started,
                "transaction_ms": round((committed - started) * 1000, 3),
                "callbacks_ms": round((finished - committed) * 1000, 3),
            },
        )
    emit("DONE", {"rounds_started": cache.get(ROUNDS_STARTED_KEY, 0) - rounds_before})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, required=True, help="items per second")
    parser.add_argument("--count", type=int, required=True, help="items in all")
    parser.add_argument("--first", type=int, default=0, help="this process's first item")
    parser.add_argument("--step", type=int, default=1, help="every step-th item from there")
    parser.add_argument("--body", default="bench item {index}", help="first message")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.config.settings")
    import django

    django.setup()
    feed(args.rate, args.count, args.body, first=args.first, step=args.step)


if __name__ == "__main__":
    main()
