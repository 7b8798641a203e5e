"""What every stack benchmark shares: its log, percentiles, where the processes log, a
SIGTERM that cleans up like Ctrl-C, and the intake processes it starts beside the stack."""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import FrameType

from tests.stack import REPO, log_tail

# An intake process warms up (Django, a first transaction) before it says READY.
FEEDER_READY_SECONDS = 60


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


async def start_feeder(
    env: dict[str, str], log_path: Path, module: str, *args: str
) -> asyncio.subprocess.Process:
    """``python -m module args`` in the stack's environment, logging to ``log_path``: an
    intake process (bench/intake_feeder.py's protocol), told to go by a line on its stdin."""
    with log_path.open("wb") as stderr:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            *args,
            cwd=REPO,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )


async def wait_ready(feeder: asyncio.subprocess.Process, log_path: Path) -> None:
    assert feeder.stdout is not None
    line = await asyncio.wait_for(feeder.stdout.readline(), FEEDER_READY_SECONDS)
    if line.strip() != b"READY":
        raise RuntimeError(f"the intake process did not start: {line!r}\n{log_tail(log_path)}")


async def stop_feeders(feeders: list[asyncio.subprocess.Process]) -> None:
    """Kill those still running and reap them all."""
    for feeder in feeders:
        if feeder.returncode is None:
            feeder.kill()
    for feeder in feeders:
        await feeder.wait()


@contextlib.asynccontextmanager
async def feeder_process(
    env: dict[str, str], log_path: Path, module: str, *args: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """One intake process, started and ready; killed on the way out if still running."""
    feeder = await start_feeder(env, log_path, module, *args)
    try:
        await wait_ready(feeder, log_path)
        yield feeder
    finally:
        await stop_feeders([feeder])
