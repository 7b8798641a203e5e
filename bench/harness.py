"""What every stack benchmark shares: its log, percentiles, where the processes log, and a
SIGTERM that cleans up like Ctrl-C."""

from __future__ import annotations

import contextlib
import math
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import FrameType


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: a value that was measured, never an interpolation."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@contextlib.contextmanager
def log_directory(prefix: str, *, keep: bool) -> Iterator[Path]:
    """Where the processes log: removed afterwards unless `keep`."""
    if keep:
        path = Path(tempfile.mkdtemp(prefix=prefix))
        log(f"logs in {path}")
        yield path
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as path:
        yield Path(path)


@contextlib.contextmanager
def exit_on_sigterm() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so that the processes and the database are cleaned up."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
