"""Where the time of 50 ids in one statement goes: planning against execution.

EXPLAIN (ANALYZE) of naive `= ANY(%s)` unprepared (planned afresh for its 50 values
on every call) and of `users.get_many` as psycopg runs it once prepared (PostgreSQL
switches a prepared statement to its generic plan after five custom ones when that
plan costs no more). The figures go to the report; nothing here asserts a time.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
from psycopg import sql

from dal.many import array_literal
from dal.query_files import get


def _explained(conn: psycopg.Connection[Any], statement: sql.Composable) -> dict[str, Any]:
    row = conn.execute(
        sql.SQL("EXPLAIN (ANALYZE, SUMMARY, FORMAT JSON) {}").format(statement)
    ).fetchone()
    assert row is not None
    found = row[0] if isinstance(row[0], list) else json.loads(row[0])
    top = found[0]
    return {
        "plan": _shape(top["Plan"]),
        "planning_ms": float(top["Planning Time"]),
        "execution_ms": float(top["Execution Time"]),
    }


def _shape(node: dict[str, Any]) -> str:
    """A plan's nodes, outermost first, with the index each scan uses."""
    name = str(node["Node Type"]) + (f" ({node['Index Name']})" if "Index Name" in node else "")
    children = [_shape(child) for child in node.get("Plans", [])]
    return name + (" > " + ", ".join(children) if children else "")


def test_get_many_plans_once_against_any_planned_every_call(
    speed_url: str, speed_keys: dict[str, Any], bench_meta: dict[str, Any]
) -> None:
    ids = speed_keys["user_ids"][:50]
    many = get("users.get_many")
    with psycopg.connect(speed_url, autocommit=True) as conn:
        naive = _explained(
            conn,
            sql.SQL("SELECT * FROM users WHERE id = ANY({})").format(sql.Literal(ids)),
        )
        conn.execute(
            sql.SQL("PREPARE dal_get_many (uuid[]) AS {}").format(
                sql.SQL(many.raw.strip().rstrip(";"))
            )
        )
        execute = sql.SQL("EXECUTE dal_get_many ({})").format(sql.Literal(array_literal(ids)))
        for _ in range(10):  # five custom plans; then the generic one, planned once, reused
            prepared = _explained(conn, execute)
        generic = conn.execute(
            "SELECT generic_plans FROM pg_prepared_statements WHERE name = 'dal_get_many'"
        ).fetchone()
    assert generic is not None
    assert "users_pkey" in naive["plan"] + prepared["plan"]
    bench_meta["get_many_plans"] = {
        "naive `= ANY(%s)`, unprepared": naive,
        f"`users.get_many`, prepared ({generic[0]} generic plans)": prepared,
    }
