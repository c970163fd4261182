"""Every named query, EXPLAINed on a realistic data set, uses the index it was built for."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from benchmarks import dataset, plans
from benchmarks.cases import CASES, EXEMPT
from benchmarks.cases.base import Case
from dal import queries
from dal.config import Roles

RESULTS = Path(__file__).parent / ".results" / "plans.json"


@pytest.fixture(scope="module")
def report() -> Iterator[dict[str, Any]]:
    """Each plan's summary, for benchmarks/REPORT.md."""
    yield from plans.collected_into(RESULTS)


def test_every_query_has_a_plan_check() -> None:
    unchecked = sorted(set(queries.QUERIES) - set(CASES) - set(EXEMPT))
    assert not unchecked, f"add a plan check (benchmarks/cases.py) for {unchecked}"
    stale = sorted((set(CASES) | set(EXEMPT)) - set(queries.QUERIES))
    assert not stale, f"plan checks for queries that no longer exist: {stale}"


# A data-modifying statement, at its top level or in a WITH: its rolled-back run still
# leaves traces (see test_plan).
_MODIFIES = re.compile(
    r"\b(INSERT\s+INTO|UPDATE\s+\w+(\s+AS)?(\s+\w+)?\s+SET|DELETE\s+FROM)\b", re.IGNORECASE
)


def _writes(name: str) -> bool:
    lines = queries.get(name).text.splitlines()
    return bool(_MODIFIES.search("\n".join(ln for ln in lines if not ln.lstrip().startswith("--"))))


@pytest.fixture(scope="module", autouse=True)
def settled_after_writes(plan_conn: psycopg.Connection[Any]) -> Iterator[None]:
    """Vacuum what the writes below left (rolled back, still dead row versions, their
    index entries and cleared visibility-map bits) once this module is done: the plan
    database is shared with the modules after it (benchmarks/conftest.py). Index
    cleanup is forced: VACUUM may skip it when few pages hold dead rows, and a rolled
    back UPDATE's entries sit at the newest end of tasks' updated_at index, where the
    first page of a list by last update would visit each of them (3,177 buffers at
    `large`, against 57)."""
    yield
    dataset.settle(plan_conn, index_cleanup=True)


READS = [n for n in sorted(CASES) if not _writes(n)]
WRITES = [n for n in sorted(CASES) if _writes(n)]


# Writes are checked last (test_plan_of_write, at the end of this module): even
# rolled back, an UPDATE clears visibility-map bits (a cascade can touch thousands of
# rows), which would cost the reads' index-only scans heap fetches, with row-level
# security as without.
@pytest.mark.parametrize("name", READS)
def test_plan(
    name: str,
    plan_conn: psycopg.Connection[Any],
    sample: dict[str, Any],
    report: dict[str, Any],
) -> None:
    case = CASES[name]
    plan = plans.explain(
        plan_conn, queries.get(name).text, case.params(sample), warm_up=bool(case.inner)
    )
    _checked(name, case, plan, plan_conn, report)


def _checked(
    name: str,
    case: Case,
    plan: dict[str, Any],
    plan_conn: psycopg.Connection[Any],
    report: dict[str, Any],
    *,
    extra_buffers: int = 0,
    label: str = "",
) -> None:
    """Hold `name`'s plan to `case`'s bounds (plus `extra_buffers`) and report it."""
    summary = plans.summarise(plan)
    max_buffers, max_sorted = case.bounds(dataset.scale())
    max_buffers += extra_buffers
    found = plans.problems(
        summary,
        expect_indexes=case.indexes,
        max_buffers=max_buffers,
        table_rows=plans.table_rows(plan_conn),
        page_size=max_sorted or plans.PAGE_SIZE,
    )
    shown = f"{name} ({label})" if label else name
    report[shown] = {"summary": summary.line(), "problems": found, "buffer_bound": max_buffers}
    assert not found, f"{shown}: {found}\n{summary.line()}"


def _acting_user(
    conn: psycopg.Connection[Any], name: str, params: dict[str, Any], sample: dict[str, Any]
) -> Any:
    """Whom a plan check acts for: its query's own user (whose rows, answers and
    memberships it reads or writes), the owner of its server or project, else a heavy
    task owner. A project's members and sync runs are managed by the project's owner,
    whoever they concern."""
    area = name.split(".", maxsplit=1)[0]
    owner = _project_owner(conn, name, params) if area in _PROJECT_OF else None
    if owner is not None:
        return owner
    for key in ("owner_id", "user_id"):
        if isinstance(params.get(key), uuid.UUID):
            return params[key]
    owner = _server_owner(conn, name, params)
    if owner is None:
        owner = _project_owner(conn, name, params)
    return sample["task_owner"] if owner is None else owner


# How a tracking query's parameters lead to its project, by parameter or by area.
_PROJECT_OF = {
    "project_id": "SELECT owner_id FROM projects WHERE id = %s",
    "projects": "SELECT owner_id FROM projects WHERE id = %s",
    "sync_history": "SELECT p.owner_id FROM sync_history h JOIN projects p ON p.id = h.project_id"
    " WHERE h.id = %s",
}


def _project_owner(conn: psycopg.Connection[Any], name: str, params: dict[str, Any]) -> Any:
    """The owner of the project a tracking query reads or changes, or None."""
    area = name.split(".", maxsplit=1)[0]
    if params.get("project_id") is not None:
        key, value = "project_id", params["project_id"]
    elif area in _PROJECT_OF and params.get("id") is not None:
        key, value = area, params["id"]
    else:
        return None
    found = conn.execute(_PROJECT_OF[key], [value]).fetchone()
    return None if found is None else found[0]


# How a community query's parameters lead to its server, whose owner sees (and
# moderates) every row of it.
_SERVER_OF = {
    "server_id": "SELECT owner_id FROM servers WHERE id = %s",
    "event_id": "SELECT s.owner_id FROM events e JOIN servers s ON s.id = e.server_id"
    " WHERE e.id = %s",
    "survey_id": "SELECT s.owner_id FROM surveys v JOIN servers s ON s.id = v.server_id"
    " WHERE v.id = %s",
    "question_id": "SELECT s.owner_id FROM survey_questions q"
    " JOIN surveys v ON v.id = q.survey_id JOIN servers s ON s.id = v.server_id"
    " WHERE q.id = %s",
}
_ID_OF = {
    "servers": "server_id",
    "events": "event_id",
    "surveys": "survey_id",
    "surveys.get_question": "question_id",
    "surveys.lock_question": "question_id",
}


def _server_owner(conn: psycopg.Connection[Any], name: str, params: dict[str, Any]) -> Any:
    """The owner of the server a community query reads, or None for other areas."""
    area = name.split(".", maxsplit=1)[0]
    if area not in ("servers", "events", "surveys"):
        return None
    keyed = {key: params[key] for key in _SERVER_OF if key in params}
    if "id" in params:
        keyed.setdefault(_ID_OF.get(name, _ID_OF[area]), params["id"])
    elif params.get("ids"):
        keyed.setdefault(_ID_OF[area], params["ids"][0])
    for key, value in keyed.items():
        found = conn.execute(_SERVER_OF[key], [value]).fetchone()
        if found is not None:
            return found[0]
    return None


# Reports over every user's rows run as the read-only role, which reads them all.
REPORTS = {"recommendations.rating_by_kind_since"}

# What the policies themselves read, once per statement: the acting user's projects
# (dal_projects: an index range of projects by owner and of memberships by user).
POLICY_BUFFERS = 12


# Row-level security must not cost the plans: each read runs again as the application
# role for an acting user, its policies' quals added, and must still use its index.
@pytest.mark.parametrize("name", READS)
def test_plan_under_row_level_security(
    name: str, plan_conn: psycopg.Connection[Any], sample: dict[str, Any], report: dict[str, Any]
) -> None:
    case = CASES[name]
    params = case.params(sample)
    extra = POLICY_BUFFERS if case.rls_max_buffers is None else 0
    role = Roles.readonly if name in REPORTS else Roles.app
    acting = (role, _acting_user(plan_conn, name, params, sample))
    plan = plans.explain(
        plan_conn, queries.get(name).text, params, acting_as=acting, warm_up=bool(case.inner)
    )
    _checked(
        name, case.under_rls(), plan, plan_conn, report, extra_buffers=extra,
        label="row-level security",
    )  # fmt: skip


# A query that does its work in a SECURITY DEFINER function (Case.inner) shows only a
# Function Scan in its own plan: each statement the function runs is checked here, as
# its owner runs it for the same acting user.
@pytest.mark.parametrize(
    ("name", "which"),
    [(n, i) for n in sorted(CASES) for i in range(len(CASES[n].inner))],
)
def test_plan_inside_security_definer_function(
    name: str,
    which: int,
    plan_conn: psycopg.Connection[Any],
    sample: dict[str, Any],
    report: dict[str, Any],
) -> None:
    inner = CASES[name].inner[which]
    params = CASES[name].params(sample)
    plan = plans.explain_function_statement(
        plan_conn,
        inner.function,
        inner.statement,
        inner.args,
        params,
        acting_for=_acting_user(plan_conn, name, params, sample),
    )
    label = f"inside {inner.function}, statement {inner.statement}"
    _checked(name, inner.as_case(), plan, plan_conn, report, label=label)


@pytest.mark.parametrize("name", WRITES)
def test_plan_of_write(
    name: str,
    plan_conn: psycopg.Connection[Any],
    sample: dict[str, Any],
    report: dict[str, Any],
) -> None:
    test_plan(name, plan_conn, sample, report)
