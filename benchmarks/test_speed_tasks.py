"""Tasks side by side: point lookup, a 50-row page, and keyset against OFFSET at depth."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from pytest_benchmark.fixture import BenchmarkFixture
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from benchmarks import peers
from dal import tasks

PAGE = 50
TARGET_DEPTH = 100_000


@pytest.fixture(scope="module")
def heavy(speed_url: str) -> dict[str, Any]:
    """The heaviest task owner, some task ids, and the deepest page depth it allows."""
    with psycopg.connect(speed_url) as conn:
        row = conn.execute(
            "SELECT owner_id, count(*) FROM tasks GROUP BY owner_id ORDER BY 2 DESC LIMIT 1"
        ).fetchone()
        assert row is not None
        owner, count = row
        ids = [r[0] for r in conn.execute("SELECT id FROM tasks ORDER BY id LIMIT 2000")]
        depth = min(TARGET_DEPTH, int(count) - PAGE - 1)
        at = conn.execute(
            "SELECT created_at, id FROM tasks WHERE owner_id = %s "
            "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
            [owner, depth - 1],
        ).fetchone()
    assert at is not None
    return {"owner": owner, "ids": ids, "depth": depth, "at": at}


@pytest.fixture
def conn(speed_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(speed_url, autocommit=True) as connection:
        yield connection


NAIVE_TASK = "SELECT * FROM tasks WHERE id = %s"
NAIVE_PAGE = "SELECT * FROM tasks WHERE owner_id = %s ORDER BY created_at DESC, id DESC LIMIT %s"


@pytest.mark.benchmark(group="point lookup: task by id")
def test_task_by_id_dal(
    benchmark: BenchmarkFixture, conn: psycopg.Connection[Any], heavy: dict[str, Any]
) -> None:
    keys = itertools.cycle(heavy["ids"])
    assert benchmark(lambda: tasks.get(conn, next(keys))).id


@pytest.mark.benchmark(group="point lookup: task by id")
def test_task_by_id_naive_psycopg(
    benchmark: BenchmarkFixture, conn: psycopg.Connection[Any], heavy: dict[str, Any]
) -> None:
    keys = itertools.cycle(heavy["ids"])
    assert benchmark(lambda: conn.execute(NAIVE_TASK, [next(keys)]).fetchone()) is not None


@pytest.mark.benchmark(group="point lookup: task by id")
def test_task_by_id_sqlalchemy_orm(
    benchmark: BenchmarkFixture, speed_url: str, heavy: dict[str, Any]
) -> None:
    keys = itertools.cycle(heavy["ids"])
    eng = peers.engine(speed_url)
    with Session(eng) as session:
        found = benchmark(lambda: session.get(peers.OrmTask, next(keys), populate_existing=True))
    eng.dispose()
    assert found is not None


@pytest.mark.benchmark(group="point lookup: task by id")
def test_task_by_id_sqlalchemy_core(
    benchmark: BenchmarkFixture, speed_url: str, heavy: dict[str, Any]
) -> None:
    keys = itertools.cycle(heavy["ids"])
    eng = peers.engine(speed_url)
    table = peers.reflected(eng, "tasks")
    statement = select(table).where(table.c.id == bindparam("id"))
    with eng.connect() as connection:
        found = benchmark(lambda: connection.execute(statement, {"id": next(keys)}).first())
    eng.dispose()
    assert found is not None


@pytest.mark.benchmark(group="page: 50 newest tasks of a user")
def test_page_dal(
    benchmark: BenchmarkFixture, conn: psycopg.Connection[Any], heavy: dict[str, Any]
) -> None:
    page = benchmark(lambda: tasks.list_for_user(conn, heavy["owner"], sort="created", limit=PAGE))
    assert len(page.items) == PAGE


@pytest.mark.benchmark(group="page: 50 newest tasks of a user")
def test_page_naive_psycopg(
    benchmark: BenchmarkFixture, conn: psycopg.Connection[Any], heavy: dict[str, Any]
) -> None:
    rows = benchmark(lambda: conn.execute(NAIVE_PAGE, [heavy["owner"], PAGE]).fetchall())
    assert len(rows) == PAGE


@pytest.mark.benchmark(group="page: 50 newest tasks of a user")
def test_page_sqlalchemy_orm(
    benchmark: BenchmarkFixture, speed_url: str, heavy: dict[str, Any]
) -> None:
    eng = peers.engine(speed_url)
    task = peers.OrmTask
    statement = (
        select(task)
        .where(task.owner_id == heavy["owner"])
        .order_by(task.created_at.desc(), task.id.desc())
        .limit(PAGE)
        .execution_options(populate_existing=True)
    )
    with Session(eng) as session:
        rows = benchmark(lambda: session.scalars(statement).all())
    eng.dispose()
    assert len(rows) == PAGE


@pytest.mark.benchmark(group="depth: keyset vs OFFSET")
def test_depth_keyset_first_page(
    benchmark: BenchmarkFixture, conn: psycopg.Connection[Any], heavy: dict[str, Any]
) -> None:
    page = benchmark(lambda: tasks.list_for_user(conn, heavy["owner"], sort="created", limit=PAGE))
    assert len(page.items) == PAGE


@pytest.mark.benchmark(group="depth: keyset vs OFFSET")
def test_depth_keyset_deep_page(
    benchmark: BenchmarkFixture,
    conn: psycopg.Connection[Any],
    heavy: dict[str, Any],
    bench_meta: dict[str, Any],
) -> None:
    from dal.pagination import encode_cursor

    created_at, task_id = heavy["at"]
    cursor = encode_cursor(["created", True, created_at.isoformat(), str(task_id)])
    page = benchmark(
        lambda: tasks.list_for_user(conn, heavy["owner"], sort="created", cursor=cursor)
    )
    bench_meta["keyset_depth"] = heavy["depth"]
    assert len(page.items) == PAGE


@pytest.mark.benchmark(group="depth: keyset vs OFFSET")
def test_depth_offset_deep_page(
    benchmark: BenchmarkFixture, conn: psycopg.Connection[Any], heavy: dict[str, Any]
) -> None:
    query = (
        "SELECT * FROM tasks WHERE owner_id = %s "
        "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT %s"
    )
    rows = benchmark(lambda: conn.execute(query, [heavy["owner"], heavy["depth"], PAGE]).fetchall())
    assert len(rows) == PAGE
