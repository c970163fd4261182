"""Named SQL from `sql/*.sql`, loaded once at import, and the functions that run it.

A query file holds blocks like::

    -- name: get_by_email
    -- Fetch one user by email, case-insensitively.
    SELECT ... WHERE lower(email) = lower(%(email)s);

The block's full name is ``<file stem>.<name>`` (``users.get_by_email``). Each
block is one statement with named, bound parameters; the description line is
required. DAL functions call `fetch_one`, `fetch_all`, `fetch_value` or
`execute` with that name.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, LiteralString, TypeVar

from psycopg.rows import BaseRowFactory, RowMaker

from dal.db import Db, connection
from dal.errors import translating

if TYPE_CHECKING:
    from psycopg._cursor_base import BaseCursor

T = TypeVar("T")

Params = Mapping[str, Any]

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$")
_NOT_QUERIES = {"schema.sql"}


def sql_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "sql", here / "_sql"):  # source tree, then wheel
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the sql/ directory of named queries is missing")


@dataclass(frozen=True)
class Query:
    """One named statement from a `.sql` file."""

    name: str
    description: str
    text: LiteralString
    source: str  # "users.sql:12", for error messages and the benchmark report


class QueryFileError(ValueError):
    """A `.sql` query file is malformed (raised at import: a bug, not bad input)."""


def parse_file(path: Path) -> list[Query]:
    """Split one query file into its named blocks."""
    queries: list[Query] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if _NAME.match(line)]
    if not starts and any(line.strip() and not line.startswith("--") for line in lines):
        raise QueryFileError(f"{path.name}: SQL found but no '-- name:' header")
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(lines)
        match = _NAME.match(lines[start])
        assert match is not None
        block = lines[start + 1 : end]
        where = f"{path.name}:{start + 1}"
        if not block or not block[0].startswith("--") or not block[0].lstrip("- ").strip():
            raise QueryFileError(f"{where}: a one-line description must follow the name")
        description = block[0].lstrip("- ").strip()
        body = "\n".join(block[1:]).strip().rstrip(";").strip()
        if not body:
            raise QueryFileError(f"{where}: query {match.group(1)!r} has no SQL")
        # The text comes from files shipped with the package, never from input.
        text: LiteralString = body
        queries.append(Query(f"{path.stem}.{match.group(1)}", description, text, where))
    return queries


def load(directory: Path) -> dict[str, Query]:
    """Every named query under `directory`, keyed by its full name."""
    found: dict[str, Query] = {}
    for path in sorted(directory.glob("*.sql")):
        if path.name in _NOT_QUERIES:
            continue
        for query in parse_file(path):
            if query.name in found:
                raise QueryFileError(f"{query.source}: duplicate query name {query.name!r}")
            found[query.name] = query
    return found


QUERIES: dict[str, Query] = load(sql_dir())


def dataclass_row(cls: type[T]) -> BaseRowFactory[T]:
    """Rows as `cls` instances, built positionally when the columns match its fields.

    Like psycopg's `class_row`, but a frozen dataclass built from positional
    arguments costs half as much as from keywords, and a page of rows is built
    row by row in Python. Columns in another order fall back to keywords.
    """
    field_names = tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]

    def factory(cursor: BaseCursor[Any, Any]) -> RowMaker[T]:
        # Read names off the result: cursor.description builds objects we don't need.
        result = cursor.pgresult
        count = result.nfields if result is not None else 0
        names = tuple((result.fname(i) or b"").decode() for i in range(count)) if result else ()
        if names == field_names:
            return lambda values: cls(*values)
        return lambda values: cls(**dict(zip(names, values, strict=True)))

    return factory


def get(name: str) -> Query:
    """The query called `name` (``file.name``)."""
    try:
        return QUERIES[name]
    except KeyError:
        raise KeyError(f"no query named {name!r} in sql/") from None


def fetch_one(db: Db, name: str, params: Params, row: type[T]) -> T | None:
    """Run query `name`; return its first row as `row`, or None."""
    with connection(db) as conn, translating(params):
        cur = conn.cursor(row_factory=dataclass_row(row))
        return cur.execute(get(name).text, params).fetchone()


def fetch_all(db: Db, name: str, params: Params, row: type[T]) -> list[T]:
    """Run query `name`; return every row as `row`."""
    with connection(db) as conn, translating(params):
        cur = conn.cursor(row_factory=dataclass_row(row))
        return cur.execute(get(name).text, params).fetchall()


def fetch_value(db: Db, name: str, params: Params) -> Any:
    """Run query `name`; return the first column of its first row (None if no row)."""
    with connection(db) as conn, translating(params):
        found = conn.execute(get(name).text, params).fetchone()
        return None if found is None else found[0]


def fetch_tuples(db: Db, name: str, params: Params) -> list[tuple[Any, ...]]:
    """Run query `name`; return plain tuples (for small aggregates)."""
    with connection(db) as conn, translating(params):
        return conn.execute(get(name).text, params).fetchall()


def execute(db: Db, name: str, params: Params) -> int:
    """Run statement `name`; return the number of rows it touched."""
    with connection(db) as conn, translating(params):
        return conn.execute(get(name).text, params).rowcount


def stream(db: Db, name: str, params: Params, row: type[T]) -> Iterator[T]:
    """Yield the rows of query `name` without holding them all in memory."""
    with connection(db) as conn, translating(params):
        cur = conn.cursor(row_factory=dataclass_row(row))
        yield from cur.stream(get(name).text, params)
