"""The same comparisons as test_speed.py, with the sides timed in turn, round by round
(benchmarks/paired.py says why), and more: get_many against a loop, the seam's own
cost, and what a rolled-back transaction costs in prepared statements.

Each side's median time per call goes to .results/paired.json, by group; the report
computes its ratios from it. Groups timed with client and server pinned carry the
prefix `one_core/` or `two_cores/`. Nothing here asserts a time.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from benchmarks import paired as timing
from benchmarks import pinning, sides
from dal import tasks, users

LOOKUPS = ("user_by_email", "user_by_id", "task_by_id")
ALL_SIDES = {"dal", "naive_psycopg", "sqlalchemy_orm", "sqlalchemy_core"}


def _lookups(
    results: dict[str, Any], conns: sides.Conns, url: str, keys: dict[str, Any], prefix: str = ""
) -> None:
    for group, comparison, key in (
        ("user_by_email", sides.user_by_email, "emails"),
        ("user_by_id", sides.user_by_id, "user_ids"),
        ("task_by_id", sides.task_by_id, "task_ids"),
    ):
        with comparison(conns, url, keys[key]) as run:
            results[prefix + group] = timing.measure(timing.plain(run))
        assert set(results[prefix + group]) == ALL_SIDES


def test_lookups_in_turn(
    paired: dict[str, Any], speed_conns: sides.Conns, speed_url: str, speed_keys: dict[str, Any]
) -> None:
    _lookups(paired, speed_conns, speed_url, speed_keys)
    with sides.pooled_user_by_id(speed_url, speed_keys["user_ids"]) as run:
        paired["pooled_user_by_id"] = timing.measure(timing.plain(run))
    assert set(paired["pooled_user_by_id"]) == {"dal", "naive_psycopg"}


def test_pages_in_turn(
    paired: dict[str, Any], speed_conns: sides.Conns, speed_url: str, heavy: dict[str, Any]
) -> None:
    with sides.page(speed_conns, speed_url, heavy["owner"]) as run:
        paired["page"] = timing.measure(timing.plain(run), rounds=timing.ROUNDS // 2)
    with sides.depth(speed_conns, heavy["owner"], heavy["depth"], heavy["at"]) as run:
        paired["depth"] = timing.measure(timing.plain(run), rounds=timing.ROUNDS // 4, batch=2)
    assert all(side["median"] > 0 for group in ("page", "depth") for side in paired[group].values())


@pytest.mark.parametrize(
    ("group", "area", "key"), [("users", users, "user_ids"), ("tasks", tasks, "task_ids")]
)
def test_get_many_in_turn(
    *,
    paired: dict[str, Any],
    speed_conns: sides.Conns,
    speed_url: str,
    speed_keys: dict[str, Any],
    group: str,
    area: Any,
    key: str,
) -> None:
    with sides.get_many(speed_conns, speed_url, speed_keys[key], area=area) as run:
        # Both start on the same 50 ids: the same rows, in the same order.
        assert [row.id for row in run["get_many"]()] == [row.id for row in run["loop"]()]
        paired[f"get_many_{group}"] = timing.measure(timing.plain(run), rounds=60, batch=2)
    assert "get_many" in paired[f"get_many_{group}"]


def test_seam_with_and_without_observation_in_turn(
    paired: dict[str, Any], speed_conns: sides.Conns, speed_keys: dict[str, Any]
) -> None:
    paired["seam"] = timing.measure(sides.seam(speed_conns, speed_keys["user_ids"]), rounds=400)
    assert set(paired["seam"]) == {"with_observation", "without_observation"}


def test_row_level_security_in_turn(
    paired: dict[str, Any], speed_url: str, heavy: dict[str, Any]
) -> None:
    with psycopg.connect(speed_url) as conn:
        mine = conn.execute(
            "SELECT id FROM tasks WHERE owner_id = %s AND project_id IS NULL ORDER BY id LIMIT 500",
            [heavy["owner"]],
        ).fetchall()
    ids = [row[0] for row in mine]
    with sides.row_level_security(speed_url, heavy["owner"], ids) as run:
        assert run["with"]().id == ids[0]  # the owner sees their own task
        paired["row_level_security"] = timing.measure(timing.plain(run))
    assert set(paired["row_level_security"]) == {"with", "without"}


def test_rollbacks_in_turn(
    paired: dict[str, Any], speed_url: str, speed_keys: dict[str, Any], heavy: dict[str, Any]
) -> None:
    keys = {**speed_keys, "owner": heavy["owner"]}
    with sides.rollbacks(speed_url, keys, thresholds=(0, 1, 5)) as run:
        paired["rollbacks"] = timing.measure(timing.plain(run), rounds=100, batch=4)
    assert len(paired["rollbacks"]) == 6


@pytest.mark.parametrize("placement", ["one_core", "two_cores"])
def test_pinned_in_turn(
    *,
    paired: dict[str, Any],
    speed_url: str,
    speed_keys: dict[str, Any],
    heavy: dict[str, Any],
    bench_meta: dict[str, Any],
    placement: str,
) -> None:
    """The lookups and the page again with client and server pinned (the report's
    second and third tables)."""
    prefix = f"{placement}/"
    with pinning.placed(speed_url, placement) as where, sides.connections(speed_url) as conns:
        bench_meta[f"placement_{placement}"] = where
        _lookups(paired, conns, speed_url, speed_keys, prefix)
        with sides.page(conns, speed_url, heavy["owner"]) as run:
            paired[f"{prefix}page"] = timing.measure(timing.plain(run), rounds=timing.ROUNDS // 2)
    assert all(f"{prefix}{group}" in paired for group in (*LOOKUPS, "page"))
