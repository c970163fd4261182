"""`dal check`: everything about the live database that should match the code.

- the catalog against the committed snapshot `sql/schema.sql` (tables, constraints,
  indexes, functions, row-level security and its policies: see `dal.schema`);
- the migrations: none pending, none edited since applied, none unknown to the code;
- row-level security enabled and forced on exactly the tables designed for it;
- the grants of the three roles (`dal.config.Roles`): the owner owns every object,
  the application may SELECT, INSERT, UPDATE and DELETE rows and nothing more (no
  TRUNCATE, no CREATE on the schema, only reading the migration bookkeeping and no
  direct access to mood partitions), the reader only SELECT.

Each difference is one line; none means the database is as designed.
"""

from __future__ import annotations

from typing import Any

import psycopg

from dal import migrate, schema
from dal.arguments import checked
from dal.config import Roles
from dal.errors import MigrationError

# The tables under row-level security, FORCEd (migrations 0039, 0046).
ROW_SECURITY = frozenset(
    {
        "categories",
        "moods",
        "recommendations",
        "feedback",
        "user_settings",
        "projects",
        "project_members",
        "tasks",
        "task_dependencies",
        "task_pending_dependencies",
        "sync_history",
        "servers",
        "server_members",
        "events",
        "event_rsvps",
        "surveys",
        "survey_questions",
        "survey_responses",
    }
)

_ROWS = ("SELECT", "INSERT", "UPDATE", "DELETE")
_ALL = (*_ROWS, "TRUNCATE", "REFERENCES", "TRIGGER")

_TABLES = """
SELECT c.relname, c.relkind, c.relispartition, c.relrowsecurity, c.relforcerowsecurity,
       c.relowner::regrole::text
  FROM pg_class c
 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
 ORDER BY c.relname
"""


@checked
def differences(
    conn: psycopg.Connection[Any], conninfo: str, roles: Roles | None = None
) -> list[str]:
    """What in the database at `conn` (`conninfo`: the same, for pg_dump and the
    migrations) differs from the code's design; empty when nothing does."""
    roles = roles or Roles()
    found = [f"schema: {line}" for line in schema.diff(conninfo).splitlines() if _changed(line)]
    found += _migrations(conninfo)
    tables = conn.execute(_TABLES).fetchall()
    found += _row_security(tables)
    found += _grants(conn, tables, roles)
    return found


def _changed(line: str) -> bool:
    return line.startswith(("+", "-")) and not line.startswith(("+++", "---"))


def _migrations(conninfo: str) -> list[str]:
    try:
        states = migrate.status(conninfo)
    except MigrationError as exc:
        return [f"migrations: {exc.message}"]
    found = [f"migrations: {s.id} is not applied" for s in states if not s.applied]
    found += [f"migrations: {s.id} was edited after it was applied" for s in states if s.drifted]
    return found


def _row_security(tables: list[tuple[Any, ...]]) -> list[str]:
    found = []
    for name, kind, partition, enabled, forced, _owner in tables:
        if kind not in ("r", "p") or partition:
            continue
        designed = name in ROW_SECURITY
        if designed and not (enabled and forced):
            found.append(f"row-level security: {name} should have it enabled and forced")
        if not designed and enabled:
            found.append(f"row-level security: {name} has it, which the design does not")
    return found


def _grants(
    conn: psycopg.Connection[Any], tables: list[tuple[Any, ...]], roles: Roles
) -> list[str]:
    known = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles").fetchall()}
    missing = [name for name in (roles.owner, roles.app, roles.readonly) if name not in known]
    if missing:
        return [f"roles: {', '.join(missing)} missing (migration 0038 creates them)"]
    found = []
    for name, kind, partition, _enabled, _forced, owner in tables:
        if owner != roles.owner:
            found.append(f"owner: {name} belongs to {owner}, not {roles.owner}")
        if kind == "S":
            continue
        private = partition  # mood partitions: reached only through moods
        bookkeeping = name in migrate.BOOKKEEPING_TABLES
        app = () if private else ("SELECT",) if bookkeeping else _ROWS
        reader = () if private else ("SELECT",)
        found += _privileges(conn, roles.app, name, app)
        found += _privileges(conn, roles.readonly, name, reader)
    for role in (roles.app, roles.readonly):
        row = conn.execute("SELECT has_schema_privilege(%s, 'public', 'CREATE')", [role]).fetchone()
        if row and row[0]:
            found.append(f"grants: {role} may CREATE in schema public")
    return found


def _privileges(
    conn: psycopg.Connection[Any], role: str, table: str, allowed: tuple[str, ...]
) -> list[str]:
    rows = conn.execute(
        "SELECT p, has_table_privilege(%s, format('%%I', %s::text), p)"
        " FROM unnest(%s::text[]) AS p",
        [role, table, list(_ALL)],
    ).fetchall()
    found = []
    for privilege, has in rows:
        if has and privilege not in allowed:
            found.append(f"grants: {role} has {privilege} on {table}")
        if privilege in allowed and not has:
            found.append(f"grants: {role} lacks {privilege} on {table}")
    return found
