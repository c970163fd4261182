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

from benchmarks import dataset, peers
from dal import tasks

PAGE = 50
DEPTH = dataset.KEYSET_DEPTH


@pytest.fixture(scope="module")
def heavy(speed_url: str, bench_meta: dict[str, Any]) -> dict[str, Any]:
    """The data set's dedicated heavy user, some task ids, and the row at depth DEPTH."""
    with psycopg.connect(speed_url) as conn:
        row = conn.execute(
            "SELECT u.id, count(*) FROM users u JOIN tasks t ON t.owner_id = u.id "
            "WHERE u.email = %s GROUP BY u.id",
            [dataset.HEAVY_EMAIL],
        ).fetchone()
        assert row is not None
        owner, count = row
        assert count >= DEPTH + PAGE, f"the heavy user has {count:,} tasks"
        ids = [r[0] for r in conn.execute("SELECT id FROM tasks ORDER BY id LIMIT 2000")]
        # The last row skipped (the deep keyset page starts after it) and the first row shown.
        edge = conn.execute(
            "SELECT created_at, id FROM tasks WHERE owner_id = %s "
            "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 2",
            [owner, DEPTH - 1],
        ).fetchall()
    assert len(edge) == 2
    bench_meta["keyset_depth"] = DEPTH
    bench_meta["heavy_user_tasks"] = int(count)
    return {"owner": owner, "ids": ids, "depth": DEPTH, "at": edge[0], "first_id": edge[1][1]}


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
    benchmark: BenchmarkFixture, conn: psycopg.Connection[Any], heavy: dict[str, Any]
) -> None:
    from dal.pagination import encode_cursor

    created_at, task_id = heavy["at"]
    cursor = encode_cursor(["created", True, created_at.isoformat(), str(task_id)])
    page = benchmark(
        lambda: tasks.list_for_user(conn, heavy["owner"], sort="created", cursor=cursor)
    )
    assert len(page.items) == PAGE
    assert page.items[0].id == heavy["first_id"]  # the same rows OFFSET finds at the depth


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
    assert rows[0][0] == heavy["first_id"]
