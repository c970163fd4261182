"""docs/SCALING.md's plan for Citus, held to Citus's documented rules by the live schema.

The document's table names every table's distribution (reference, or distributed by a
column in a co-location group); its "What would change" section names every place where
today's schema breaks a rule for that plan. This test computes those places from the
catalog of a migrated database, and the two lists must be equal: a migration that adds a
key, a constraint or a table without the plan in mind fails here, and so does a fix that
leaves the document claiming a change still needed. The rules (Citus, "Creating and
Modifying Distributed Objects"):

- a distributed table's distribution column holds a value in every row (NOT NULL);
- every primary key, unique constraint and unique index of a distributed table includes
  its distribution column (as a key column);
- a foreign key between distributed tables joins tables of one co-location group and
  includes the distribution column on both sides, at the same position;
- a reference table never references a distributed table (the other way is fine);
- a foreign key whose columns include the distribution column has no ON DELETE SET
  NULL or SET DEFAULT (even with a column list that leaves it out) and no ON UPDATE
  SET NULL, SET DEFAULT or CASCADE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

SCALING = Path(__file__).resolve().parent.parent / "docs" / "SCALING.md"

_ROW = re.compile(r"^\| `(\w+)` \| (reference|distributed) \| (?:`(\w+)`|-) \| (\w+|-) \|")
_CHANGE = re.compile(r"^- `([\w.]+)`")


@dataclass(frozen=True)
class Placement:
    """Where the plan puts a table."""

    kind: str  # "reference" or "distributed"
    column: str | None  # the distribution column of a distributed table
    group: str | None  # its co-location group


def _plan() -> tuple[dict[str, Placement], set[str]]:
    """The document's placement of every table, and the names it says would change."""
    placements: dict[str, Placement] = {}
    changes: set[str] = set()
    section = ""
    for line in SCALING.read_text().splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        if (row := _ROW.match(line)) is not None:
            table, kind, column, group = row.groups()
            placements[table] = Placement(kind, column, None if group == "-" else group)
        elif section == "What would change" and (change := _CHANGE.match(line)) is not None:
            changes.add(change.group(1))
    return placements, changes


def _tables(conn: psycopg.Connection[Any]) -> dict[str, dict[str, tuple[int, bool]]]:
    """Every table of the schema (partitions counted as their parent): its columns'
    numbers and whether each is NOT NULL."""
    rows = conn.execute(
        """SELECT c.relname, a.attname, a.attnum, a.attnotnull
             FROM pg_class c
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
              AND NOT c.relispartition AND c.relname !~ '^(_yoyo|yoyo|dal_)'"""
    ).fetchall()
    tables: dict[str, dict[str, tuple[int, bool]]] = {}
    for table, column, number, not_null in rows:
        tables.setdefault(table, {})[column] = (number, not_null)
    return tables


def _breaches(conn: psycopg.Connection[Any], plan: dict[str, Placement]) -> set[str]:
    """Every place where the schema breaks Citus's rules for `plan`."""
    tables = _tables(conn)
    found: set[str] = set()

    def number(table: str) -> int | None:
        """The distribution column's number in `table`, None when it has none."""
        column = plan[table].column
        if plan[table].kind != "distributed" or column is None:
            return None
        return tables[table].get(column, (None, False))[0]

    for table, place in plan.items():
        if place.kind == "distributed":
            column = place.column or ""
            if not tables[table].get(column, (0, False))[1]:
                found.add(f"{table}.{column}")  # missing, or nullable
    for index, table, keys in conn.execute(
        """SELECT i.indexrelid::regclass::text, c.relname,
                  (i.indkey::int2[])[0:i.indnkeyatts - 1]
             FROM pg_index i
             JOIN pg_class c ON c.oid = i.indrelid
            WHERE c.relnamespace = 'public'::regnamespace AND i.indisunique
              AND NOT c.relispartition"""
    ).fetchall():
        if table in plan and plan[table].kind == "distributed" and number(table) not in keys:
            found.add(index)
    for name, child, parent, keys, refs, on_delete, on_update in conn.execute(
        """SELECT k.conname, c.relname, p.relname, k.conkey, k.confkey,
                  k.confdeltype, k.confupdtype
             FROM pg_constraint k
             JOIN pg_class c ON c.oid = k.conrelid
             JOIN pg_class p ON p.oid = k.confrelid
            WHERE k.contype = 'f' AND k.connamespace = 'public'::regnamespace
              AND k.conparentid = 0"""
    ).fetchall():
        mine, theirs = plan[child], plan[parent]
        if mine.kind == "reference":
            if theirs.kind == "distributed":
                found.add(name)
            continue
        if number(child) in keys and (on_delete in ("n", "d") or on_update in ("n", "d", "c")):
            found.add(name)  # Citus refuses these actions on a key holding the column
        elif theirs.kind == "distributed":
            pairs = set(zip(keys, refs, strict=True))
            if mine.group != theirs.group or (number(child), number(parent)) not in pairs:
                found.add(name)
    return found


def test_every_table_has_its_place_in_the_plan(conn: psycopg.Connection[Any]) -> None:
    plan, _ = _plan()
    assert set(plan) == set(_tables(conn)), "docs/SCALING.md must place every table, no other"
    for table, place in plan.items():
        assert (place.kind == "distributed") == (place.column is not None), table
        assert (place.kind == "distributed") == (place.group is not None), table


def test_the_paper_names_every_change_the_schema_needs(conn: psycopg.Connection[Any]) -> None:
    plan, changes = _plan()
    breaches = _breaches(conn, plan)
    assert breaches - changes == set(), "breaks Citus's rules, not in docs/SCALING.md"
    assert changes - breaches == set(), "docs/SCALING.md says would change, but holds already"


def test_the_rules_catch_what_they_should(conn: psycopg.Connection[Any]) -> None:
    """Each rule, broken on purpose in a plan that is wrong, is caught."""
    plan, _ = _plan()
    wrong = dict(plan)
    # A table put in another group: its foreign keys to its group break.
    wrong["server_members"] = Placement("distributed", "server_id", "user")
    assert "server_members_server_id_fkey" in _breaches(conn, wrong)
    # users distributed: the reference tables that point to it would point across shards.
    wrong = dict(plan) | {"users": Placement("distributed", "id", "user")}
    assert "servers_owner_id_fkey" in _breaches(conn, wrong)
    # A distribution column outside a unique key.
    wrong = dict(plan) | {"servers": Placement("distributed", "owner_id", "server")}
    assert {"servers_pkey", "servers_snowflake_id_key"} <= _breaches(conn, wrong)
