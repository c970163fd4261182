"""The committed diagram (docs/erd.md and the README's copy) matches the migrated schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from dal import erd


def test_the_committed_diagram_is_the_schemas(conn: psycopg.Connection[Any]) -> None:
    diagram = erd.mermaid(conn)
    assert erd.ERD_PATH.read_text() == erd.page(diagram), "docs/erd.md is stale: run dal erd"
    readme = erd.README_PATH.read_text()
    assert erd.with_diagram(readme, diagram) == readme, "the README's diagram is stale: dal erd"


def test_every_table_and_foreign_key_is_drawn(conn: psycopg.Connection[Any]) -> None:
    diagram = erd.mermaid(conn)
    tables = {r[0] for r in conn.execute(
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
        " AND relkind IN ('r', 'p') AND NOT relispartition AND relname !~ '^(_yoyo|yoyo|dal_)'"
    )}  # fmt: skip
    assert tables and all(f"    {t} {{" in diagram for t in tables)
    keys = {r[0] for r in conn.execute(
        "SELECT conname FROM pg_constraint WHERE contype = 'f' AND conparentid = 0"
        " AND connamespace = 'public'::regnamespace"
    )}  # fmt: skip
    assert keys and all(f'"{k}"' in diagram for k in keys)
    # A nullable reference is drawn "zero or one" on the referenced side.
    assert '    projects |o--o{ tasks : "tasks_project_id_fkey"' in diagram
    assert '    users ||--o{ tasks : "tasks_owner_id_fkey"' in diagram


def test_writing_replaces_only_the_marked_block(
    tmp_path: Path, conn: psycopg.Connection[Any]
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("before\n<!-- erd -->\nold\n<!-- /erd -->\nafter\n")
    erd.write(conn, erd=tmp_path / "erd.md", readme=readme)
    text = readme.read_text()
    assert text.startswith("before\n<!-- erd -->\n```mermaid\nerDiagram\n")
    assert text.endswith("```\n<!-- /erd -->\nafter\n") and "old" not in text
