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
from pathlib import Path


def feed(offsets: list[float], body: str) -> None:
    from bench.intake_feeder import feed_schedule

    feed_schedule(enumerate(offsets), body)


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
