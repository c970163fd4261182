"""Plans of the one dynamic query, tasks.list_for_user, for every sort, filter shape and depth.

Its SQL is built by dal/_task_list.py, so it has no name in sql/; these cases
are its plan checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from benchmarks import plans
from dal._task_list import DEFAULT_DESCENDING, Filters, build

RESULTS = Path(__file__).parent / ".results" / "task_list_plans.json"

SORT_INDEX = {
    "due": "tasks_owner_id_due_at_idx",
    "priority": "tasks_owner_id_priority_rank_idx",
    "created": "tasks_owner_id_created_at_idx",
    "updated": "tasks_owner_id_updated_at_idx",
}
SORT_SQL = {
    "due": "coalesce(due_at, 'infinity'::timestamptz)",
    "priority": "priority_rank",
    "created": "created_at",
    "updated": "updated_at",
}


@pytest.fixture(scope="module")
def report() -> Iterator[dict[str, Any]]:
    """Each plan's summary, for benchmarks/REPORT.md."""
    yield from plans.collected_into(RESULTS)


def _filters(shape: str, sample: dict[str, Any]) -> Filters:
    return {
        "none": Filters(),
        "open": Filters(statuses={"pending", "in_progress", "blocked"}),
        "project": Filters(project_id=sample["task_project"]),
        "high-priority": Filters(priorities={"high", "critical"}),
    }[shape]


@pytest.mark.parametrize("depth", ["first", "deep"])
@pytest.mark.parametrize("shape", ["none", "open", "project", "high-priority"])
@pytest.mark.parametrize("sort", sorted(SORT_INDEX))
def test_list_for_user_plan(
    plan_conn: psycopg.Connection[Any],
    sample: dict[str, Any],
    report: dict[str, Any],
    *,
    sort: str,
    shape: str,
    depth: str,
) -> None:
    owner = sample["task_owner"]
    descending = DEFAULT_DESCENDING[sort]
    after = None
    if depth == "deep":  # start from the 1,000th row of this order
        direction = "DESC" if descending else "ASC"
        row = plan_conn.execute(
            f"SELECT {SORT_SQL[sort]}, id FROM tasks WHERE owner_id = %s "
            f"ORDER BY 1 {direction}, 2 {direction} OFFSET 1000 LIMIT 1",
            [owner],
        ).fetchone()
        assert row is not None
        after = (row[0], row[1])
    query, params = build(
        owner, _filters(shape, sample), sort=sort, descending=descending, after=after, limit=51
    )
    summary = plans.summarise(plans.explain(plan_conn, query.text, params))
    expect, page_size = (SORT_INDEX[sort],), plans.PAGE_SIZE
    if shape == "project":
        # No (project, sort key) index exists, on purpose: four more indexes on the
        # biggest table to save sorting one project's tasks. The plan narrows to the
        # project through its key index, or to the owner's tasks in the project
        # through (owner_id, status, project_id) (migration 0047; PostgreSQL 18 skips
        # over the statuses), and sorts those rows; the bound is the project's count.
        expect = ("tasks_project_id_key_key|tasks_owner_id_status_idx",)
        count = plan_conn.execute(
            "SELECT count(*) FROM tasks WHERE project_id = %s", [sample["task_project"]]
        ).fetchone()
        assert count is not None
        page_size = int(count[0])
    max_buffers = 400  # filters are applied on the heap while walking the owner's index
    found = plans.problems(
        summary,
        expect_indexes=expect,
        max_buffers=max_buffers,
        table_rows=plans.table_rows(plan_conn),
        page_size=page_size,
    )
    report[f"{sort} / {shape} / {depth} page"] = {
        "summary": summary.line(),
        "problems": found,
        "buffer_bound": max_buffers,
    }
    assert not found, f"{sort}/{shape}/{depth}: {found}\n{summary.line()}"
