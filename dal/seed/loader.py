"""Run the seed steps of every area in foreign-key order; reset the database."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from psycopg import sql

from dal.arguments import checked
from dal.db import Db, transaction
from dal.errors import DalError, InvalidData
from dal.migrate import BOOKKEEPING_TABLES
from dal.seed import community, configuration, identity, tracking, wellbeing
from dal.seed.context import Context
from dal.seed.copying import copy_rows
from dal.seed.profiles import PROFILES
from dal.seed.step import Step

# Each area contributes steps; the order of this list is the foreign-key order.
AREAS: list[Callable[[Context], list[Step]]] = [
    identity.steps,
    tracking.steps,
    community.steps,
    wellbeing.steps,
    configuration.steps,
]


@checked
def table_names(conn: psycopg.Connection[Any]) -> list[str]:
    """Application tables (partitioned parents, not their partitions)."""
    rows = conn.execute(
        """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND c.relname <> ALL(%s)
            ORDER BY 1""",
        [list(BOOKKEEPING_TABLES)],
    ).fetchall()
    return [r[0] for r in rows]


@checked
def seed(db: Db, profile: str, *, seed: int = 42, progress: bool = True) -> dict[str, int]:
    """Fill an empty database with profile `profile`; return rows written per table.

    Everything is loaded in one transaction: a failure leaves the database empty.
    """
    if profile not in PROFILES:
        raise InvalidData(
            f"unknown seed profile {profile!r}; use one of {', '.join(PROFILES)}", column="profile"
        )
    ctx = Context(PROFILES[profile], seed)
    counts: dict[str, int] = {}
    with transaction(db) as conn:
        if conn.execute("SELECT EXISTS (SELECT 1 FROM users)").fetchone() != (False,):
            raise DalError("the database already holds users: run `dal reset` before seeding")
        for area in AREAS:
            for step in area(ctx):
                if step.before is not None:
                    step.before(conn)
                counts[step.table] = counts.get(step.table, 0) + copy_rows(
                    conn,
                    step.table,
                    step.columns,
                    step.rows(),
                    total=step.expected_rows,
                    progress=progress,
                )
                if step.after is not None:
                    step.after(conn)
                _advance_sequences(conn, step.table, step.columns)
        for table in counts:  # fresh statistics, so the first queries get the right plans
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
    return counts


def _advance_sequences(conn: psycopg.Connection[Any], table: str, columns: Sequence[str]) -> None:
    """Move the sequence behind any identity/serial column the seed filled explicitly past
    the largest value copied, so the application's next INSERT gets a fresh id."""
    for column in columns:
        found = conn.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column]).fetchone()
        if found is None or found[0] is None:
            continue
        conn.execute(
            sql.SQL("SELECT setval({}, coalesce(max({}), 0) + 1, false) FROM {}").format(
                sql.Literal(found[0]), sql.Identifier(column), sql.Identifier(table)
            )
        )


@checked
def reset(db: Db) -> list[str]:
    """Empty every application table (bookkeeping of migrations is kept)."""
    with transaction(db) as conn:
        tables = table_names(conn)
        if tables:
            conn.execute(
                sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                    sql.SQL(", ").join(map(sql.Identifier, tables))
                )
            )
    return tables
