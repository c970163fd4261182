"""The async flavour against its peers, timed in turn (benchmarks/paired.py): one
lookup at a time, and the throughput of 32 tasks on an 8-connection pool
(benchmarks/async_sides.py). Client and server are placed by the scheduler, as a
service's are. Nothing here asserts a time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks import async_sides
from benchmarks import paired as timing


@pytest.fixture
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as loop:
        yield loop


def test_async_lookups_in_turn(
    paired: dict[str, Any], runner: asyncio.Runner, speed_url: str, speed_keys: dict[str, Any]
) -> None:
    with timing.entered(runner, async_sides.user_by_id(speed_url, speed_keys["user_ids"])) as run:
        sides = {name: timing.timed_async(runner, call) for name, call in run.items()}
        paired["async_user_by_id"] = timing.measure(sides)
    assert set(paired["async_user_by_id"]) == {"dal", "psycopg_async", "asyncpg"}


def test_async_pool_throughput_in_turn(
    paired: dict[str, Any], runner: asyncio.Runner, speed_url: str, speed_keys: dict[str, Any]
) -> None:
    pool = async_sides.pooled_throughput(speed_url, speed_keys["user_ids"])
    with timing.entered(runner, pool) as run:
        sides = {name: timing.timed_async(runner, call) for name, call in run.items()}
        paired["async_pool"] = timing.measure(
            sides, rounds=30, batch=1, per_call=async_sides.LOOKUPS_PER_ROUND
        )
    assert set(paired["async_pool"]) == {"dal", "psycopg_pool", "asyncpg"}
