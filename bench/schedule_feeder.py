"""An intake process that enqueues chats at given moments rather than at a steady rate: the
seeded arrivals of bench/ideal_routing.py.

    python -m bench.schedule_feeder --offsets-file PATH

``PATH`` holds a JSON list of arrival offsets in seconds from the go signal, ascending. The
protocol, the transactions and the ``ITEM``/``DONE`` lines are bench/intake_feeder.py's (that
module's ``enqueue_one`` makes each item), except that ``scheduled`` is the item's own
arrival time. Run with the stack's production environment.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path


def feed(offsets: list[float], body: str) -> None:
    from django.core.cache import cache

    from bench.intake_feeder import emit, enqueue_one, warm_up
    from routing.services.triggers import ROUNDS_STARTED_KEY

    warm_up()
    rounds_before = cache.get(ROUNDS_STARTED_KEY, 0)
    print("READY", flush=True)
    if not sys.stdin.readline():
        return
    go_monotonic, go_wall = time.monotonic(), time.time()
    for index, offset in enumerate(offsets):
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
    parser.add_argument("--offsets-file", type=Path, required=True, help="JSON list of seconds")
    parser.add_argument("--body", default="bench item {index}", help="first message")
    args = parser.parse_args()
    offsets = json.loads(args.offsets_file.read_text())
    if any(later < earlier for earlier, later in itertools.pairwise(offsets)):
        parser.error("the offsets must be in ascending order")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import django

    django.setup()
    feed(offsets, args.body)


if __name__ == "__main__":
    main()
