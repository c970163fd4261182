"""Do server-side prepared statements pay? A point lookup with and without them.

Run: `.venv/bin/pytest benchmarks/test_prepared_statements.py` and compare the
two rows of the table pytest-benchmark prints (same data, same process).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from dal import users
from dal.config import Settings
from dal.db import Pool, open_pool

USERS = 20_000


@pytest.fixture(scope="module")
def loaded_url(pg_admin: str, template_db: str) -> Iterator[str]:
    from dal.testing import create_database, drop_database

    name = "dal_bench_prepared"
    url = create_database(pg_admin, name, template=template_db)
    with psycopg.connect(url) as conn:
        with conn.cursor().copy("COPY users (email, username) FROM STDIN") as copy:
            for n in range(USERS):
                copy.write_row((f"user{n}@example.com", f"user{n}"))
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE users")
    yield url
    drop_database(pg_admin, name)


def pool_with(url: str, threshold: int | None) -> Pool:
    return open_pool(url, Settings(pool_size=1, max_overflow=0, prepare_threshold=threshold))


@pytest.mark.parametrize("threshold", [0, None], ids=["prepared", "unprepared"])
def test_prepared(
    benchmark: BenchmarkFixture, loaded_url: str, threshold: int | None, pinned: str
) -> None:
    pool = pool_with(loaded_url, threshold)
    counter = iter(range(10**9))
    try:
        with pool.connection() as conn:

            def lookup() -> Any:
                return users.get_by_email(conn, f"user{next(counter) % USERS}@example.com")

            found = benchmark(lookup)
            assert found.email.endswith("@example.com")
    finally:
        pool.close()
