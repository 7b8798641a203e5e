"""How every benchmark reports: ``name value unit`` lines on stdout, merged into results.json."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).with_name("results.json")


def report(results: dict[str, tuple[float | int, str]]) -> None:
    """Print each figure and merge them into bench/results.json (other benchmarks' figures stay)."""
    for name, (value, unit) in results.items():
        print(f"{name} {value} {unit}", flush=True)
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    existing.update({name: {"value": v, "unit": u} for name, (v, u) in results.items()})
    RESULTS.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")
