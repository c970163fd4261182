"""The same comparisons as test_speed.py, with the sides timed in turn, round by round.

pytest-benchmark times one side after the other. On a shared two-core machine,
where client and server take turns on the same cores, what else runs and how the
scheduler places the two processes drift between those runs by more than the
differences measured (a lookup's median moved by half between two groups of one
run). Here every round times a short batch of each side, the side that goes first
rotating, so drift falls on every side alike; each side's median time per call is
written to .results/paired.json, and the report's ratios are computed from it.
Nothing here asserts a time.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from benchmarks import pinning, sides
from benchmarks.conftest import RESULTS

ROUNDS = 200
BATCH = 10  # calls of one side in a row, timed together
WARM_UP = 50  # calls per side first: prepared statements, caches, the ORM's compiled SQL
Conn = psycopg.Connection[Any]
TWO_CORES = "two_cores/"  # prefix of the groups timed with the server on another core


def measure(run: sides.Sides, rounds: int = ROUNDS, batch: int = BATCH) -> dict[str, Any]:
    """Median seconds per call of each side, its rounds timed in turn."""
    names = list(run)
    for name in names:
        for _ in range(WARM_UP):
            assert run[name]() is not None
    samples: dict[str, list[float]] = {name: [] for name in names}
    order = random.Random(20261201)
    for _ in range(rounds):
        # A shuffled order, not a rotated one: a rotation keeps each side behind the
        # same neighbour, and the side behind SQLAlchemy starts on caches it evicted.
        order.shuffle(names)
        for name in names:
            call = run[name]
            began = time.perf_counter()
            for _ in range(batch):
                call()
            samples[name].append((time.perf_counter() - began) / batch)
    return {
        name: {"median": statistics.median(times), "rounds": rounds, "batch": batch}
        for name, times in samples.items()
    }


@pytest.fixture(scope="module")
def paired() -> Iterator[dict[str, Any]]:
    results: dict[str, Any] = {}
    yield results
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "paired.json").write_text(json.dumps(results, indent=2))


def test_lookups_in_turn(
    paired: dict[str, Any], speed_conns: sides.Conns, speed_url: str, speed_keys: dict[str, Any]
) -> None:
    with sides.user_by_email(speed_conns, speed_url, speed_keys["emails"]) as run:
        paired["user_by_email"] = measure(run)
    with sides.user_by_id(speed_conns, speed_url, speed_keys["user_ids"]) as run:
        paired["user_by_id"] = measure(run)
    with sides.task_by_id(speed_conns, speed_url, speed_keys["task_ids"]) as run:
        paired["task_by_id"] = measure(run)
    for group in ("user_by_email", "user_by_id", "task_by_id"):
        assert set(paired[group]) == {"dal", "naive_psycopg", "sqlalchemy_orm", "sqlalchemy_core"}
    with sides.pooled_user_by_id(speed_url, speed_keys["user_ids"]) as run:
        paired["pooled_user_by_id"] = measure(run)
    assert set(paired["pooled_user_by_id"]) == {"dal", "naive_psycopg"}


def test_pages_in_turn(
    paired: dict[str, Any], speed_conns: sides.Conns, speed_url: str, heavy: dict[str, Any]
) -> None:
    with sides.page(speed_conns, speed_url, heavy["owner"]) as run:
        paired["page"] = measure(run, rounds=ROUNDS // 2)
    with sides.depth(speed_conns, heavy["owner"], heavy["depth"], heavy["at"]) as run:
        paired["depth"] = measure(run, rounds=ROUNDS // 4, batch=2)
    assert all(side["median"] > 0 for group in ("page", "depth") for side in paired[group].values())


def test_on_two_cores_in_turn(
    paired: dict[str, Any],
    speed_url: str,
    speed_keys: dict[str, Any],
    heavy: dict[str, Any],
    bench_meta: dict[str, Any],
) -> None:
    """The lookups and the page again, the server on a core of its own (the report's
    second table): every round trip pays a cross-core wake-up."""
    with (
        pinning.pinned(speed_url, one_core=False) as placement,
        sides.connections(speed_url) as conns,
    ):
        bench_meta["placement_two_cores"] = placement
        for group, comparison, keys in (
            ("user_by_email", sides.user_by_email, speed_keys["emails"]),
            ("user_by_id", sides.user_by_id, speed_keys["user_ids"]),
            ("task_by_id", sides.task_by_id, speed_keys["task_ids"]),
        ):
            with comparison(conns, speed_url, keys) as run:
                paired[f"{TWO_CORES}{group}"] = measure(run)
        with sides.page(conns, speed_url, heavy["owner"]) as run:
            paired[f"{TWO_CORES}page"] = measure(run, rounds=ROUNDS // 2)
    assert len([group for group in paired if group.startswith(TWO_CORES)]) == 4
