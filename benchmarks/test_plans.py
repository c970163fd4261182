"""Every named query, EXPLAINed on a realistic data set, uses the index it was built for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from benchmarks import dataset, plans
from benchmarks.cases import CASES, EXEMPT
from benchmarks.cases import sample as draw_sample
from dal import queries
from tests.fix_db import create_database, drop_database

RESULTS = Path(__file__).parent / ".results" / "plans.json"


@pytest.fixture(scope="module")
def plan_conn(
    pg_admin: str, template_db: str, bench_meta: dict[str, Any]
) -> Iterator[psycopg.Connection[Any]]:
    name = "dal_bench_plans"
    url = create_database(pg_admin, name, template=template_db)
    with psycopg.connect(url, autocommit=True) as conn:
        dataset.load(conn, dataset.bench_profile())
        yield conn
    drop_database(pg_admin, name)


@pytest.fixture(scope="module")
def sample(plan_conn: psycopg.Connection[Any]) -> dict[str, Any]:
    return draw_sample(plan_conn)


@pytest.fixture(scope="module")
def report() -> Iterator[dict[str, Any]]:
    """Each plan's summary, for benchmarks/REPORT.md."""
    yield from plans.collected_into(RESULTS)


def test_every_query_has_a_plan_check() -> None:
    unchecked = sorted(set(queries.QUERIES) - set(CASES) - set(EXEMPT))
    assert not unchecked, f"add a plan check (benchmarks/cases.py) for {unchecked}"
    stale = sorted((set(CASES) | set(EXEMPT)) - set(queries.QUERIES))
    assert not stale, f"plan checks for queries that no longer exist: {stale}"


def _writes(name: str) -> bool:
    return queries.get(name).text.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))


READS_THEN_WRITES = [n for n in sorted(CASES) if not _writes(n)] + [
    n for n in sorted(CASES) if _writes(n)
]


# Writes run last: even rolled back, an UPDATE clears visibility-map bits (a cascade
# can touch thousands of rows), which would cost later index-only scans heap reads.
@pytest.mark.parametrize("name", READS_THEN_WRITES)
def test_plan(
    name: str,
    plan_conn: psycopg.Connection[Any],
    sample: dict[str, Any],
    report: dict[str, Any],
) -> None:
    case = CASES[name]
    plan = plans.explain(plan_conn, queries.get(name).text, case.params(sample))
    summary = plans.summarise(plan)
    max_buffers, max_sorted = case.bounds(dataset.scale())
    found = plans.problems(
        summary,
        expect_indexes=case.indexes,
        max_buffers=max_buffers,
        table_rows=plans.table_rows(plan_conn),
        page_size=max_sorted or plans.PAGE_SIZE,
    )
    report[name] = {"summary": summary.line(), "problems": found, "buffer_bound": max_buffers}
    assert not found, f"{name}: {found}\n{summary.line()}"
