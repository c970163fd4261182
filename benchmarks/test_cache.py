"""The Redis read-through cache, measured in one run: a cached lookup against the same
lookup from PostgreSQL, and the hit rate of a read-mostly mix. The figures go to the
report; nothing here asserts a time.

Both pools are the DAL's, on the same database; one reads through Redis (the
machine's at 127.0.0.1:6379, else one started here). The two sides are timed in
turn, round after round, and each side's median round is kept, so a slow moment of
the machine falls on both.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Iterator
from time import perf_counter
from typing import Any

import pytest

import dal
import dal.cache
import dal.users
from dal.config import Settings
from tests import redis_server

ROUNDS = 15
CALLS = 400  # lookups per side and round
MIX_CALLS = 20_000
WRITE_SHARE = 0.02  # of the mix's calls, a user's update


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if redis_server.shared_answers():
        yield redis_server.SHARED_URL
        return
    server = redis_server.RedisServer(tmp_path_factory.mktemp("redis"))
    yield server.url
    server.stop()


def _settings(redis_url: str | None) -> Settings:
    return Settings(pool_size=2, max_overflow=0, redis_url=redis_url, redis_timeout_ms=100)


def test_cached_lookup_against_postgresql(
    speed_url: str, speed_keys: dict[str, Any], redis_url: str, bench_meta: dict[str, Any]
) -> None:
    ids = speed_keys["user_ids"][:CALLS]
    with (
        dal.open_pool(speed_url, _settings(None)) as plain,
        dal.open_pool(speed_url, _settings(redis_url)) as cached,
    ):
        dal.cache.invalidate_all(cached)
        for user_id in ids:  # warm both: prepared statements, and every key stored
            assert dal.users.get(plain, user_id) == dal.users.get(cached, user_id)
        times: dict[str, list[float]] = {"postgresql": [], "redis": []}
        for _ in range(ROUNDS):
            for side, pool in (("postgresql", plain), ("redis", cached)):
                started = perf_counter()
                for user_id in ids:
                    dal.users.get(pool, user_id)
                times[side].append((perf_counter() - started) / len(ids))
        stats = dal.cache.stats(cached)
        assert stats is not None and stats.hits >= ROUNDS * len(ids)  # every timed call hit
    medians = {side: statistics.median(values) for side, values in times.items()}
    bench_meta["cache_lookup"] = {
        "postgresql_us": medians["postgresql"] * 1e6,
        "redis_us": medians["redis"] * 1e6,
        "ratio": medians["postgresql"] / medians["redis"],
    }


def test_hit_rate_of_a_read_mostly_mix(
    speed_url: str, speed_keys: dict[str, Any], redis_url: str, bench_meta: dict[str, Any]
) -> None:
    """Lookups by id and email, skewed towards a few active users (Zipf-like), with
    one update in fifty: each update moves the users generation on, so every cached
    user is read again once."""
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
