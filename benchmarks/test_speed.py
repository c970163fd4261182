"""Side by side, same data, same process: the DAL against naive psycopg and SQLAlchemy.

Ratios (in one run) are computed by `dal bench` into benchmarks/REPORT.md. Nothing
here asserts a time: the machines are shared and noisy.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from pytest_benchmark.fixture import BenchmarkFixture
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from benchmarks import peers
from dal import users


@pytest.fixture(scope="module")
def emails(speed_url: str) -> list[tuple[Any, str]]:
    with psycopg.connect(speed_url) as conn:
        rows = conn.execute("SELECT id, email FROM users ORDER BY id LIMIT 2000").fetchall()
    return [(r[0], r[1]) for r in rows]


@pytest.fixture
def conn(speed_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(speed_url, autocommit=True) as connection:
        yield connection


def cycle(values: list[Any]) -> Iterator[Any]:
    return itertools.cycle(values)


@pytest.mark.benchmark(group="point lookup: user by email")
def test_user_by_email_dal(
    benchmark: BenchmarkFixture, conn: psycopg.Connection[Any], emails: list[tuple[Any, str]]
) -> None:
    keys = cycle([e for _, e in emails])
    found = benchmark(lambda: users.get_by_email(conn, next(keys)))
    assert found.email


@pytest.mark.benchmark(group="point lookup: user by email")
def test_user_by_email_naive_psycopg(
    benchmark: BenchmarkFixture, conn: psycopg.Connection[Any], emails: list[tuple[Any, str]]
) -> None:
    keys = cycle([e for _, e in emails])
    query = "SELECT * FROM users WHERE lower(email) = lower(%s)"
    found = benchmark(lambda: conn.execute(query, [next(keys)]).fetchone())
    assert found is not None


@pytest.mark.benchmark(group="point lookup: user by email")
def test_user_by_email_sqlalchemy_orm(
    benchmark: BenchmarkFixture, speed_url: str, emails: list[tuple[Any, str]]
) -> None:
    keys = cycle([e for _, e in emails])
    user = peers.OrmUser
    eng = peers.engine(speed_url)
    with Session(eng) as session:

        def lookup() -> peers.OrmUser | None:
            statement = (
                select(user)
                .where(func.lower(user.email) == func.lower(next(keys)))
                .execution_options(populate_existing=True)
            )
            return session.scalars(statement).one_or_none()

        found = benchmark(lookup)
    eng.dispose()
    assert found is not None


@pytest.mark.benchmark(group="point lookup: user by email")
def test_user_by_email_sqlalchemy_core(
    benchmark: BenchmarkFixture, speed_url: str, emails: list[tuple[Any, str]]
) -> None:
    keys = cycle([e for _, e in emails])
    eng = peers.engine(speed_url)
    table = peers.reflected(eng, "users")
    statement = select(table).where(func.lower(table.c.email) == func.lower(bindparam("email")))
    with eng.connect() as connection:
        found = benchmark(lambda: connection.execute(statement, {"email": next(keys)}).first())
    eng.dispose()
    assert found is not None


@pytest.mark.benchmark(group="point lookup: user by id")
def test_user_by_id_dal(
    benchmark: BenchmarkFixture, conn: psycopg.Connection[Any], emails: list[tuple[Any, str]]
) -> None:
    keys = cycle([i for i, _ in emails])
    found = benchmark(lambda: users.get(conn, next(keys)))
    assert found.id


@pytest.mark.benchmark(group="point lookup: user by id")
def test_user_by_id_naive_psycopg(
    benchmark: BenchmarkFixture, conn: psycopg.Connection[Any], emails: list[tuple[Any, str]]
) -> None:
    keys = cycle([i for i, _ in emails])
    query = "SELECT * FROM users WHERE id = %s"
    found = benchmark(lambda: conn.execute(query, [next(keys)]).fetchone())
    assert found is not None


@pytest.mark.benchmark(group="point lookup: user by id")
def test_user_by_id_sqlalchemy_orm(
    benchmark: BenchmarkFixture, speed_url: str, emails: list[tuple[Any, str]]
) -> None:
    keys = cycle([i for i, _ in emails])
    eng = peers.engine(speed_url)
    with Session(eng) as session:
        found = benchmark(lambda: session.get(peers.OrmUser, next(keys), populate_existing=True))
    eng.dispose()
    assert found is not None


@pytest.mark.benchmark(group="point lookup: user by id")
def test_user_by_id_sqlalchemy_core(
    benchmark: BenchmarkFixture, speed_url: str, emails: list[tuple[Any, str]]
) -> None:
    keys = cycle([i for i, _ in emails])
    eng = peers.engine(speed_url)
    table = peers.reflected(eng, "users")
    statement = select(table).where(table.c.id == bindparam("id"))
    with eng.connect() as connection:
        found = benchmark(lambda: connection.execute(statement, {"id": next(keys)}).first())
    eng.dispose()
    assert found is not None
