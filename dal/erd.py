"""The entity-relationship diagram: a Mermaid ``erDiagram`` read from the live catalog.

Every table of the schema (partitions and the migration bookkeeping left out), its
columns with their types and keys, and one relationship per foreign key, with its
cardinality: the referencing side is "zero or more", or "zero or one" when its
columns are unique; the referenced side is "exactly one", or "zero or one" when a
referencing column may be NULL. `dal erd` writes it to docs/erd.md and into the
README between the ``<!-- erd -->`` markers; a test fails when either is stale.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import psycopg

from dal.arguments import checked
from dal.config import PROJECT_ROOT, checkout_for
from dal.migrate import BOOKKEEPING_TABLES

ERD_PATH = PROJECT_ROOT / "docs" / "erd.md"
README_PATH = PROJECT_ROOT / "README.md"
_BEGIN, _END = "<!-- erd -->", "<!-- /erd -->"

_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       EXISTS (SELECT FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p'
                AND a.attnum = ANY (k.conkey)) AS pk,
       EXISTS (SELECT FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'f'
                AND a.attnum = ANY (k.conkey)) AS fk,
       EXISTS (SELECT FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique
                AND NOT i.indisprimary AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum
                AND i.indexprs IS NULL) AS uk
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
   AND NOT c.relispartition AND a.attnum > 0 AND NOT a.attisdropped
   AND c.relname <> ALL (%(skip)s)
 ORDER BY c.relname, a.attnum
"""

# Each foreign key: its tables, whether every referencing column is NOT NULL, and
# whether the referencing columns are unique (a unique index on exactly them).
_FOREIGN_KEYS = """
SELECT k.conname, child.relname, parent.relname,
       bool_and(a.attnotnull) AS required,
       EXISTS (SELECT FROM pg_index i WHERE i.indrelid = k.conrelid AND i.indisunique
                AND i.indpred IS NULL
                AND (SELECT array_agg(x ORDER BY x) FROM unnest(i.indkey[0:i.indnkeyatts - 1]) x)
                    = (SELECT array_agg(x ORDER BY x) FROM unnest(k.conkey) x)) AS one
  FROM pg_constraint k
  JOIN pg_class child ON child.oid = k.conrelid
  JOIN pg_class parent ON parent.oid = k.confrelid
  JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
 WHERE k.contype = 'f' AND child.relnamespace = 'public'::regnamespace
   AND NOT child.relispartition AND k.conparentid = 0
 GROUP BY k.oid, k.conname, child.relname, parent.relname, k.conrelid, k.conkey
 ORDER BY parent.relname, child.relname, k.conname
"""

_SHORT_TYPES = {
    "timestamp with time zone": "timestamptz",
    "timestamp without time zone": "timestamp",
    "character varying": "varchar",
    "double precision": "float8",
}


def _type(name: str) -> str:
    """A type as one Mermaid word: typmods dropped, spaces gone (``timestamptz``)."""
    name = re.sub(r"\(.*?\)", "", name)
    array = name.endswith("[]")
    name = name.removesuffix("[]")
    name = _SHORT_TYPES.get(name, name).replace(" ", "_")
    return f"{name}_array" if array else name


@checked
def mermaid(conn: psycopg.Connection[Any]) -> str:
    """The diagram of the database `conn` is connected to, as Mermaid text."""
    skip = {"skip": list(BOOKKEEPING_TABLES)}
    columns: dict[str, list[str]] = defaultdict(list)
    for table, column, kind, _not_null, pk, fk, uk in conn.execute(_COLUMNS, skip):
        keys = ",".join(k for k, on in (("PK", pk), ("FK", fk), ("UK", uk)) if on)
        columns[table].append(f"        {_type(kind)} {column}{' ' + keys if keys else ''}")
    lines = ["erDiagram"]
    for name, child, parent, required, one in conn.execute(_FOREIGN_KEYS).fetchall():
        if child not in columns or parent not in columns:
            continue
        parent_side = "||" if required else "|o"
        child_side = "o|" if one else "o{"
        lines.append(f'    {parent} {parent_side}--{child_side} {child} : "{name}"')
    for table in sorted(columns):
        lines += [f"    {table} {{", *columns[table], "    }"]
    return "\n".join(lines) + "\n"


def page(diagram: str) -> str:
    """docs/erd.md: a heading, how it is made, and the diagram."""
    return (
        "# Entity-relationship diagram\n\n"
        "Generated from the live catalog of a migrated database by `dal erd` "
        "(`dal/erd.py`); do not edit by hand. Relationships are named after their "
        "foreign keys.\n\n"
        f"```mermaid\n{diagram}```\n"
    )


def with_diagram(readme: str, diagram: str) -> str:
    """`readme` with the diagram between its ``<!-- erd -->`` markers."""
    start, end = readme.index(_BEGIN) + len(_BEGIN), readme.index(_END)
    return f"{readme[:start]}\n```mermaid\n{diagram}```\n{readme[end:]}"


@checked
def write(conn: psycopg.Connection[Any], erd: Path = ERD_PATH, readme: Path = README_PATH) -> str:
    """Write docs/erd.md and the README's copy from the database; return the diagram.
    ConfigError in an installed package (the files are the checkout's)."""
    if erd == ERD_PATH or readme == README_PATH:
        checkout_for("dal erd")
    diagram = mermaid(conn)
    erd.write_text(page(diagram))
    readme.write_text(with_diagram(readme.read_text(), diagram))
    return diagram
