"""Time the pure routing engine on large random snapshots.

Prints ``name value unit`` lines and merges them into bench/results.json. The baseline is
a plain sort of the same items by their serving key, timed in the same run, so the ratio
stays meaningful on a noisy shared machine.

    python bench/engine_plan.py            # 1,000 / 10,000 / 100,000 items x 2,000 agents
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import report
from routing.engine import AgentState, RoutingModel, SkillNeed, WaitingItem, plan

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CHAT, VOICE, EMAIL = 1, 2, 3
QUEUES = 20
SKILLS = 50
MODELS = list(RoutingModel)


def make_agents(count: int, rng: random.Random) -> list[AgentState]:
    agents = []
    for agent_id in range(1, count + 1):
        channels = {CHAT}
        if rng.random() < 0.3:
            channels.add(VOICE)
        if rng.random() < 0.3:
            channels.add(EMAIL)
        capacity = rng.randint(4, 8)
        agents.append(
            AgentState(
                id=agent_id,
                capacity=capacity,
                used_units=rng.randint(0, 2),
                open_channel_ids=frozenset(channels),
                queue_ids=frozenset(rng.sample(range(1, QUEUES + 1), rng.randint(1, 3))),
                idle_since=NOW - timedelta(seconds=rng.randint(0, 3600)),
                skills={skill: rng.randint(1, 10) for skill in rng.sample(range(1, SKILLS + 1), 6)},
                channel_limits={VOICE: 1},
            )
        )
    return agents


def make_skill_profiles(count: int, rng: random.Random) -> list[tuple[SkillNeed, ...]]:
    """Skill needs as intake rules set them: a catalogue of profiles, not one per item."""
    return [
        tuple(
            SkillNeed(
                skill_id=rng.randint(1, SKILLS),
                min_level=rng.randint(1, 5),
                drop_after_seconds=60 if n == 1 else None,
            )
            for n in range(rng.randint(0, 2))
        )
        for _ in range(count)
    ]


def make_items(
    count: int, rng: random.Random, profiles: list[tuple[SkillNeed, ...]] | None = None
) -> list[WaitingItem]:
    items = []
    for item_id in range(1, count + 1):
        queue_id = rng.randint(1, QUEUES)
        channel = rng.choices([CHAT, VOICE, EMAIL], weights=[8, 1, 1])[0]
        needs = make_skill_profiles(1, rng)[0] if profiles is None else rng.choice(profiles)
        items.append(
            WaitingItem(
                id=item_id,
                queue_id=queue_id,
                channel_id=channel,
                routing_priority=1 + queue_id % 3,
                priority=rng.randint(0, 2),
                enqueued_at=NOW - timedelta(seconds=rng.randint(0, 600)),
                units=2,
                capacity_percent=100 if channel == VOICE else None,
                skills=needs,
                routing_model=MODELS[queue_id % len(MODELS)],
                aging_after_seconds=300,
                aging_boost=1,
            )
        )
    return items


def serving_key(item: WaitingItem) -> tuple:
    return (item.routing_priority, -item.priority, item.enqueued_at, item.id)


def best_of(repeats: int, run: Callable[[], object]) -> tuple[float, float]:
    """The fastest and the median of ``repeats`` runs, in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--skill-profiles",
        type=int,
        default=200,
        help="distinct skill-need sets among items (0: a random set for every item)",
    )
    args = parser.parse_args()
    rng = random.Random(20261123)
    agents = make_agents(args.agents, rng)
    profiles = make_skill_profiles(args.skill_profiles, rng) if args.skill_profiles else None
    results = {}
    for size in [int(size) for size in args.sizes.split(",")]:
        items = make_items(size, rng, profiles)
        repeats = max(1, args.repeats if size <= 10_000 else args.repeats // 2)
        plan_ms, plan_median = best_of(repeats, partial(plan, items, agents, NOW))
        sort_ms, _ = best_of(repeats, partial(sorted, items, key=serving_key))
        assigned = len(plan(items, agents, NOW))
        suffix = f"{size // 1000}k"
        results[f"engine_plan_ms_{suffix}"] = (round(plan_ms, 2), "ms")
        results[f"engine_plan_median_ms_{suffix}"] = (round(plan_median, 2), "ms")
        results[f"engine_sort_baseline_ms_{suffix}"] = (round(sort_ms, 2), "ms")
        results[f"engine_plan_vs_sort_{suffix}"] = (round(plan_ms / sort_ms, 1), "x")
        results[f"engine_assignments_{suffix}"] = (assigned, "items")
    sizes = sorted(int(size) for size in args.sizes.split(","))
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        growth = (
            results[f"engine_plan_ms_{large // 1000}k"][0]
            / results[f"engine_plan_ms_{small // 1000}k"][0]
        )
        results[f"engine_growth_{small // 1000}k_to_{large // 1000}k"] = (
            round(growth, 1),
            f"x for {large // small}x items",
        )
    if "engine_plan_ms_10k" in results:
        results["engine_plan_ms"] = results["engine_plan_ms_10k"]
    report(results)


if __name__ == "__main__":
    main()
