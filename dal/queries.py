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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, LiteralString, TypeVar

import psycopg
from psycopg import RawCursor, adapt
from psycopg.abc import Transformer
from psycopg.pq import ExecStatus, PipelineStatus
from psycopg.rows import RowMaker

from dal import prepared
from dal.db import Db, connection
from dal.errors import DalError, translate, translating

if TYPE_CHECKING:
    from psycopg.pq.abc import PGresult

T = TypeVar("T")
R = TypeVar("R")

Params = Mapping[str, Any]

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$")
_NOT_QUERIES = {"schema.sql"}


def sql_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "sql", here / "_sql"):  # source tree, then wheel
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the sql/ directory of named queries is missing")


_PARAM = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class Query:
    """One named statement from a `.sql` file."""

    name: str
    description: str
    text: LiteralString  # as written, with %(name)s parameters (EXPLAIN, tools)
    source: str  # "users.sql:12", for error messages and the benchmark report
    # The same statement with $1, $2 ... in the order of `param_names`: run through a
    # RawCursor, psycopg sends it as it is, without parsing the text on every call.
    raw: LiteralString = ""
    param_names: tuple[str, ...] = ()

    @classmethod
    def parse(cls, name: str, description: str, text: LiteralString, source: str) -> Query:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        raw: LiteralString = _PARAM.sub(number, text).replace("%%", "%")
        return cls(name, description, text, source, raw, tuple(names))


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
        queries.append(Query.parse(f"{path.stem}.{match.group(1)}", description, text, where))
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


_MAKERS: dict[tuple[type[Any], tuple[bytes | None, ...]], RowMaker[Any]] = {}


def row_maker(cls: type[T], result: PGresult | None) -> RowMaker[T]:
    """Build `cls` from the rows of `result`: positionally when its columns are the
    class's fields in order, else by keyword. One maker per class and column list.

    Like psycopg's `class_row`, but a frozen dataclass built from positional
    arguments costs half as much as from keywords, and a page of rows is built
    row by row in Python.
    """
    # Names read off the result: cursor.description builds objects we don't need.
    names = tuple(result.fname(i) for i in range(result.nfields)) if result else ()
    maker: RowMaker[T] | None = _MAKERS.get((cls, names))
    if maker is None:
        fields = tuple(f.name.encode() for f in dataclasses.fields(cls))  # type: ignore[arg-type]
        if names == fields:
            maker = _positional_maker(cls)
        else:
            keys = tuple((n or b"").decode() for n in names)
            maker = lambda values: cls(**dict(zip(keys, values, strict=True)))  # noqa: E731
        _MAKERS[cls, names] = maker
    return maker


def _positional_maker(cls: type[T]) -> RowMaker[T]:
    """Build `cls` from a row's values in column order, as fast as Python allows.

    A frozen dataclass's __init__ sets each field through object.__setattr__, which
    costs about 90 ns a field: more than a 15-column row takes to decode. For a
    slotted, frozen dataclass with no base and no __post_init__ (our row types), the
    values go into the slots of a plain twin class of the same layout, whose class is
    then switched to `cls`: the same object `cls(*values)` would make (equal, hashable,
    immutable), five times cheaper. Any other class is simply called.
    """
    slots: tuple[str, ...] = tuple(cls.__dict__.get("__slots__") or ())
    params = getattr(cls, "__dataclass_params__", None)
    plain = (
        not slots
        or params is None
        or not params.frozen
        or cls.__bases__ != (object,)
        or hasattr(cls, "__post_init__")
        or slots != tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    )
    if plain:
        return lambda values: cls(*values)
    twin = type(f"_{cls.__name__}Slots", (), {"__slots__": slots})
    targets = ", ".join(f"row.{name}" for name in slots)
    # Generated from the dataclass's own field names (identifiers), never from data.
    source = (
        "def make(values):\n"
        "    row = new(twin)\n"
        f"    {targets}, = values\n"
        "    row.__class__ = cls\n"
        "    return row\n"
    )
    scope: dict[str, Any] = {"new": object.__new__, "twin": twin, "cls": cls}
    exec(source, scope)
    make: RowMaker[T] = scope["make"]
    return make


def get(name: str) -> Query:
    """The query called `name` (``file.name``)."""
    try:
        return QUERIES[name]
    except KeyError:
        raise KeyError(f"no query named {name!r} in sql/") from None


def _run(
    db: Db,
    name: str | Query,
    params: Params,
    row: type[Any] | None,
    consume: Callable[[Transformer, RowMaker[Any]], R],
) -> R:
    """Run query `name` with `params`; hand its result and a row maker to `consume`.
    `name` may be a `Query` built at run time (dal._task_list) instead of a name.

    Given a connection this is the hot path of every DAL call: the statement runs
    prepared, in one call into libpq (dal.prepared), or else through a RawCursor
    with the text as parsed at import; either way no borrowed connection and no
    generator context managers.
    """
    query = name if isinstance(name, Query) else get(name)
    args = _arguments(query, params)
    if isinstance(db, psycopg.Connection):
        try:
            result = prepared.run(db, query, args) or _through_cursor(db, query, args)
            return consume(result, _maker_of(query.name, row, result.pgresult))
        except psycopg.Error as exc:
            raise translate(exc, params) from exc
    with connection(db) as conn:
        return _run(conn, query, params, row, consume)


def _through_cursor(conn: psycopg.Connection[Any], query: Query, args: list[Any]) -> Transformer:
    cursor = RawCursor(conn).execute(query.raw, args)
    if cursor.pgresult is None and conn.pgconn.pipeline_status != PipelineStatus.OFF:
        with conn.pipeline():  # leaving a nested block syncs: the result arrives
            pass
    result = adapt.Transformer(conn)
    result.set_pgresult(cursor.pgresult)
    return result


# A named query always returns the same columns: its maker is found once.
_BY_QUERY: dict[tuple[str, type[Any] | None], RowMaker[Any]] = {}


def _maker_of(name: str, row: type[Any] | None, result: PGresult | None) -> RowMaker[Any]:
    maker = _BY_QUERY.get((name, row))
    if maker is None:
        maker = tuple if row is None else row_maker(row, result)
        if result is not None and result.nfields:
            _BY_QUERY[name, row] = maker
    return maker


def fetch_one(db: Db, name: str, params: Params, row: type[T]) -> T | None:
    """Run query `name`; return its first row as `row`, or None."""
    found: T | None = _run(db, name, params, row, _first)
    return found


def fetch_all(db: Db, name: str | Query, params: Params, row: type[T]) -> list[T]:
    """Run query `name` (or a `Query` built at run time); return every row as `row`."""
    found: list[T] = _run(db, name, params, row, _all)
    return found


def fetch_value(db: Db, name: str, params: Params) -> Any:
    """Run query `name`; return the first column of its first row (None if no row)."""
    found = _run(db, name, params, None, _first)
    return None if found is None else found[0]


def fetch_tuples(db: Db, name: str, params: Params) -> list[tuple[Any, ...]]:
    """Run query `name`; return plain tuples (for small aggregates)."""
    found: list[tuple[Any, ...]] = _run(db, name, params, None, _all)
    return found


def execute(db: Db, name: str, params: Params) -> int:
    """Run statement `name`; return the number of rows it touched."""
    count: int = _run(db, name, params, None, _rowcount)
    return count


def stream(db: Db, name: str, params: Params, row: type[T]) -> Iterator[T]:
    """Yield the rows of query `name` without holding them all in memory."""
    query = get(name)
    args = _arguments(query, params)
    with connection(db) as conn, translating(params):
        cur = RawCursor(conn, row_factory=lambda c: _maker_of(name, row, c.pgresult))
        yield from cur.stream(query.raw, args)


def _arguments(query: Query, params: Params) -> list[Any]:
    """The values of `params` in the order of the query's numbered parameters."""
    try:
        return [params[key] for key in query.param_names]
    except KeyError:
        missing = sorted(set(query.param_names) - set(params))
        raise DalError(f"query {query.name} needs parameters {missing}") from None


def _first(result: Transformer, make: RowMaker[Any]) -> Any:
    pgresult = result.pgresult
    return result.load_row(0, make) if pgresult is not None and pgresult.ntuples else None


def _all(result: Transformer, make: RowMaker[Any]) -> list[Any]:
    pgresult = result.pgresult
    return result.load_rows(0, pgresult.ntuples, make) if pgresult is not None else []


def _rowcount(result: Transformer, _make: RowMaker[Any]) -> int:
    """What a cursor's rowcount says: rows returned, or rows a command touched."""
    pgresult = result.pgresult
    if pgresult is None:
        return -1
    if pgresult.status == ExecStatus.TUPLES_OK:
        return pgresult.ntuples
    touched = pgresult.command_tuples
    return touched if touched is not None else -1
