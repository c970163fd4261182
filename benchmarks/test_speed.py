"""Side by side, same data, same process: the DAL against naive psycopg and SQLAlchemy.

Each comparison's sides are in benchmarks/sides.py; here pytest-benchmark times each
side on its own (its JSON is saved by `dal bench`), and test_speed_paired.py times
them in turn. Ratios (in one run) are computed by `dal bench` into
benchmarks/REPORT.md. Nothing here asserts a time: the machines are shared and noisy.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks import sides

LOOKUP_SIDES = ["dal", "naive_psycopg", "sqlalchemy_orm", "sqlalchemy_core"]
Conn = psycopg.Connection[Any]


@pytest.mark.parametrize("side", LOOKUP_SIDES)
@pytest.mark.benchmark(group="point lookup: user by email")
def test_user_by_email(
    benchmark: BenchmarkFixture,
    side: str,
    speed_conns: sides.Conns,
    speed_url: str,
    speed_keys: dict[str, Any],
) -> None:
    with sides.user_by_email(speed_conns, speed_url, speed_keys["emails"]) as run:
        assert benchmark(run[side]) is not None


@pytest.mark.parametrize("side", LOOKUP_SIDES)
@pytest.mark.benchmark(group="point lookup: user by id")
def test_user_by_id(
    benchmark: BenchmarkFixture,
    side: str,
    speed_conns: sides.Conns,
    speed_url: str,
    speed_keys: dict[str, Any],
) -> None:
    with sides.user_by_id(speed_conns, speed_url, speed_keys["user_ids"]) as run:
        assert benchmark(run[side]) is not None


@pytest.mark.parametrize("side", LOOKUP_SIDES)
@pytest.mark.benchmark(group="point lookup: task by id")
def test_task_by_id(
    benchmark: BenchmarkFixture,
    side: str,
    speed_conns: sides.Conns,
    speed_url: str,
    speed_keys: dict[str, Any],
) -> None:
    with sides.task_by_id(speed_conns, speed_url, speed_keys["task_ids"]) as run:
        assert benchmark(run[side]) is not None


@pytest.mark.parametrize("side", ["dal", "naive_psycopg", "sqlalchemy_orm"])
@pytest.mark.benchmark(group="page: 50 newest tasks of a user")
def test_page(
    benchmark: BenchmarkFixture,
    side: str,
    speed_conns: sides.Conns,
    speed_url: str,
    heavy: dict[str, Any],
) -> None:
    with sides.page(speed_conns, speed_url, heavy["owner"]) as run:
        assert len(benchmark(run[side])) == sides.PAGE


@pytest.mark.parametrize("side", ["keyset_first_page", "keyset_deep_page", "offset_deep_page"])
@pytest.mark.benchmark(group="depth: keyset vs OFFSET")
def test_depth(
    benchmark: BenchmarkFixture, side: str, speed_conns: sides.Conns, heavy: dict[str, Any]
) -> None:
    with sides.depth(speed_conns, heavy["owner"], heavy["depth"], heavy["at"]) as run:
        rows = benchmark(run[side])
    assert len(rows) == sides.PAGE
    if side != "keyset_first_page":  # keyset and OFFSET find the same rows at the depth
        first = rows[0]
        assert (first.id if side == "keyset_deep_page" else first[0]) == heavy["first_id"]
