"""EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of a named query, summarised and judged.

A plan passes when it uses the expected index(es) by name, has no Seq Scan on a
table above `BIG_TABLE_ROWS` at production size (`table_rows`), sorts no more than
a page of rows, and reads at most its stated number of shared buffers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

BIG_TABLE_ROWS = 10_000
PAGE_SIZE = 50


@dataclass
class PlanSummary:
    """What a DBA reads off a plan: node types, indexes, scans, sorts, buffers, time."""

    node_types: list[str] = field(default_factory=list)
    indexes: set[str] = field(default_factory=set)
    seq_scans: list[tuple[str, float]] = field(default_factory=list)  # (relation, actual rows)
    sorts: list[tuple[str, int]] = field(default_factory=list)  # (method, rows sorted)
    shared_hit: int = 0
    shared_read: int = 0
    rows: int = 0
    execution_ms: float = 0.0
    relations: set[str] = field(default_factory=set)

    @property
    def buffers(self) -> int:
        return self.shared_hit + self.shared_read

    def line(self) -> str:
        nodes = " > ".join(dict.fromkeys(self.node_types))
        return (
            f"{nodes}; indexes {', '.join(sorted(self.indexes)) or '-'}; rows {self.rows}; "
            f"buffers {self.buffers} (hit {self.shared_hit}, read {self.shared_read}); "
            f"{self.execution_ms:.2f} ms"
        )


def explain(
    conn: psycopg.Connection[Any],
    text: str,
    params: Mapping[str, Any],
    *,
    acting_as: tuple[str, Any] | None = None,
    warm_up: bool = False,
) -> dict[str, Any]:
    """Run EXPLAIN ANALYZE on one statement, inside a transaction rolled back afterwards.

    With `acting_as` (a role, a user id), the statement runs as that role for that
    acting user, as the application runs it: under row-level security. With `warm_up`
    it runs once before: the first call of a function in a session plans its body
    and reads the catalog then, during execution, which a pooled connection pays once
    (a statement's own planning is not counted in its buffers either)."""
    with conn.transaction(force_rollback=True):
        if acting_as is not None:
            role, user_id = acting_as
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
            conn.execute("SELECT set_config('dal.user_id', %s, true)", [str(user_id)])
        if warm_up:
            conn.execute(text, params)
        row = conn.execute(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + text,
            params,
        ).fetchone()
    assert row is not None
    plan: dict[str, Any] = row[0][0]
    return plan


def explain_function_statement(
    conn: psycopg.Connection[Any],
    function: str,
    statement: int,
    args: str,
    params: Mapping[str, Any],
    *,
    acting_for: Any,
) -> dict[str, Any]:
    """EXPLAIN ANALYZE a dynamic statement of PL/pgSQL function `function` (a
    signature): the `statement`th text it quotes as `$q$ ... $q$` and runs with
    EXECUTE ... USING. It runs as the function's owner for the acting user
    `acting_for`, as a SECURITY DEFINER function runs it for the application, with
    the values the SELECT `args` (given `params`) computes there as its $1, $2, ...:
    EXECUTE plans it for its values, as here. Rolled back afterwards."""
    found = conn.execute(
        "SELECT p.prosrc, p.proowner::regrole::text FROM pg_proc p WHERE p.oid = %s::regprocedure",
        [function],
    ).fetchone()
    assert found is not None, function
    body, owner = found
    texts = re.findall(r"\$q\$(.*?)\$q\$", body, flags=re.DOTALL)
    assert len(texts) > statement, f"{function} has {len(texts)} $q$ statements"
    with conn.transaction(force_rollback=True):
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(owner)))
        conn.execute("SELECT set_config('dal.user_id', %s, true)", [str(acting_for)])
        values = conn.execute(args, params).fetchone()
        assert values is not None, args
        # The text names its parameters $1, $2, ...: a RawCursor sends it as it is.
        with psycopg.RawCursor(conn) as cur:
            cur.execute(texts[statement], values)  # warmed up, as explain(warm_up=) says
            row = cur.execute(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + texts[statement], values
            ).fetchone()
    assert row is not None
    plan: dict[str, Any] = row[0][0]
    return plan


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def summarise(plan: dict[str, Any]) -> PlanSummary:
    top = plan["Plan"]
    summary = PlanSummary(
        shared_hit=int(top.get("Shared Hit Blocks", 0)),
        shared_read=int(top.get("Shared Read Blocks", 0)),
        rows=int(top.get("Actual Rows", 0)),
        execution_ms=float(plan.get("Execution Time", 0.0)),
    )
    for node in _nodes(top):
        kind = node["Node Type"]
        summary.node_types.append(kind)
        if "Index Name" in node:
            summary.indexes.add(node["Index Name"])
        if "Relation Name" in node:
            summary.relations.add(node["Relation Name"])
        loops = float(node.get("Actual Loops", 1) or 1)
        if kind == "Seq Scan":
            summary.seq_scans.append((node["Relation Name"], node.get("Actual Rows", 0) * loops))
        if kind in {"Sort", "Incremental Sort"}:
            children = node.get("Plans", [])
            sorted_rows = children[0].get("Actual Rows", 0) * loops if children else 0
            summary.sorts.append((str(node.get("Sort Method", kind)), int(sorted_rows)))
    return summary


def problems(
    summary: PlanSummary,
    *,
    expect_indexes: tuple[str, ...],
    max_buffers: int,
    table_rows: Mapping[str, int],
    page_size: int = PAGE_SIZE,
) -> list[str]:
    """Every way the plan breaks our rules (empty: it passes)."""
    found: list[str] = []
    # "a|b": either index will do (e.g. a primary key and a unique key that both lead with id).
    missing = [name for name in expect_indexes if not set(name.split("|")) & summary.indexes]
    if missing:
        found.append(
            f"expected index {', '.join(missing)}; used {sorted(summary.indexes) or 'none'}"
        )
    for relation, _rows in summary.seq_scans:
        size = table_rows.get(relation, 0)
        if size > BIG_TABLE_ROWS:
            found.append(f"Seq Scan on {relation} ({size:,} rows at production size)")
    for method, rows in summary.sorts:
        if rows > page_size:
            found.append(f"sorts {rows:,} rows ({method}) where a page is {page_size}")
    if summary.buffers > max_buffers:
        found.append(f"reads {summary.buffers:,} shared buffers; the bound is {max_buffers:,}")
    return found


def table_rows(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Rows of every table (partitions under their own names) at production size, the
    `large` profile's: a Seq Scan is judged by the table it will be, not by the `ci`
    data set's tenth of it (benchmarks.dataset.production_rows)."""
    from benchmarks import dataset

    return dataset.production_rows(conn)


def collected_into(path: Path) -> Iterator[dict[str, Any]]:
    """A dict for a module's plan summaries, written to `path` (for the report) once
    the module's checks have run: the body of a module-scoped fixture."""
    collected: dict[str, Any] = {}
    yield collected
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(collected, indent=2, default=str))
