"""The Redis read-through cache, measured in one run: a cached lookup against the same
lookup from PostgreSQL, and the hit rate of a read-mostly mix. The figures go to the
report; nothing here asserts a time.

Each pair of pools is the DAL's, on the same database; one of each reads through
Redis (the machine's at 127.0.0.1:6379, else one started here). The two sides are timed in
turn, round after round, and each side's median round is kept, so a slow moment of
the machine falls on both.
"""

from __future__ import annotations

import itertools
import random
import statistics
from collections.abc import Callable, Iterator
from time import perf_counter
from typing import Any

import psycopg
import pytest

import dal
import dal.cache
import dal.projects
import dal.users
from dal.config import Roles, Settings
from dal.db import Pool
from tests import redis_server
from tests.fix_db import as_role

ROUNDS = 15
CALLS = 400  # lookups per side and round
MIX_CALLS = 20_000
WRITE_SHARE = 0.02  # of the mix's calls, a user's update


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server.for_session(tmp_path_factory.mktemp("redis")) as url:
        yield url


def _settings(redis_url: str | None) -> Settings:
    return Settings(pool_size=2, max_overflow=0, redis_url=redis_url, redis_timeout_ms=100)


def _timed_in_turn(sides: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Each side's median time per call over ROUNDS rounds of CALLS calls, in turn."""
    times: dict[str, list[float]] = {side: [] for side in sides}
    for _ in range(ROUNDS):
        for side, call in sides.items():
            started = perf_counter()
            for _ in range(CALLS):
                call()
            times[side].append((perf_counter() - started) / CALLS)
    return {side: statistics.median(values) for side, values in times.items()}


def test_cached_lookup_against_postgresql(
    speed_url: str, speed_keys: dict[str, Any], redis_url: str, bench_meta: dict[str, Any]
) -> None:
    """A user by id, as the owner role; a membership as the application role acting
    for its member (row-level security: the acting user travels with the query)."""
    ids = itertools.cycle(speed_keys["user_ids"][:CALLS])
    with psycopg.connect(speed_url) as conn:
        members = conn.execute(
            "SELECT project_id, user_id FROM project_members ORDER BY project_id LIMIT %s",
            [CALLS],
        ).fetchall()
    app_url = as_role(speed_url, Roles.app)
    with (
        dal.open_pool(speed_url, _settings(None)) as plain,
        dal.open_pool(speed_url, _settings(redis_url)) as cached,
        dal.open_pool(app_url, _settings(None)) as app_plain,
        dal.open_pool(app_url, _settings(redis_url)) as app_cached,
    ):
        dal.cache.invalidate_all(cached)
        pairs = itertools.cycle(members)

        def member(pool: Pool) -> None:
            project_id, user_id = next(pairs)
            with dal.acting_as(user_id):
                dal.projects.get_member(pool, project_id, user_id)

        for _ in range(CALLS):  # warm: prepared statements, and every key stored
            user_id = next(ids)
            assert dal.users.get(plain, user_id) == dal.users.get(cached, user_id)
            member(app_plain)
            member(app_cached)
        medians = _timed_in_turn(
            {
                "users.get postgresql": lambda: dal.users.get(plain, next(ids)),
                "users.get redis": lambda: dal.users.get(cached, next(ids)),
                "get_member postgresql": lambda: member(app_plain),
                "get_member redis": lambda: member(app_cached),
            }
        )
        for pool in (cached, app_cached):
            stats = dal.cache.stats(pool)
            assert stats is not None and stats.misses <= CALLS  # every timed call hit
    bench_meta["cache_lookup"] = {
        name: {
            "postgresql_us": medians[f"{name} postgresql"] * 1e6,
            "redis_us": medians[f"{name} redis"] * 1e6,
            "ratio": medians[f"{name} postgresql"] / medians[f"{name} redis"],
        }
        for name in ("users.get", "get_member")
    }


def test_hit_rate_of_a_read_mostly_mix(
    speed_url: str, speed_keys: dict[str, Any], redis_url: str, bench_meta: dict[str, Any]
) -> None:
    """Lookups by id and email, skewed towards a few active users (Zipf-like), with
    one update in fifty: an update moves on its user's counter, which that user's
    lookup by id checks, and the users' rows counter, which every lookup by email
    checks (dal.cache_plan)."""
    rng = random.Random(7)
    ids, emails = speed_keys["user_ids"], speed_keys["emails"]
    weights = [1 / (rank + 1) for rank in range(len(ids))]
    picks = rng.choices(range(len(ids)), weights, k=MIX_CALLS)
    with dal.open_pool(speed_url, _settings(redis_url)) as pool:
        dal.cache.invalidate_all(pool)
        stats = dal.cache.stats(pool)
        assert stats is not None
        writes = 0
        for n, pick in enumerate(picks):
            if rng.random() < WRITE_SHARE:
                dal.users.update(pool, ids[pick], display_name=f"mix {n}")
                writes += 1
            elif n % 2:
                dal.users.get(pool, ids[pick])
            else:
                dal.users.get_by_email(pool, emails[pick])
        hit_rate = stats.hit_rate
        assert stats.hits + stats.misses == MIX_CALLS - writes
    bench_meta["cache_mix"] = {"calls": MIX_CALLS, "writes": writes, "hit_rate": hit_rate}
