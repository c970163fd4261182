"""Named SQL from `sql/*.sql`, loaded once at import: the same for both flavours.

A query file holds blocks like::

    -- name: get_by_email
    -- Fetch one user by email, case-insensitively.
    SELECT ... WHERE lower(email) = lower(%(email)s);

The block's full name is ``<file stem>.<name>`` (``users.get_by_email``). Each
block is one statement with named, bound parameters; the description line is
required. DAL functions run them through the seam, `dal.queries` (sync) or
`dal.aio.queries` (async), by that name.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, LiteralString

from psycopg.rows import RowFactory, RowMaker, tuple_row

from dal.errors import DalError

Params = Mapping[str, Any]

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$")
_NOT_QUERIES = {"schema.sql"}


def sql_dir() -> Path:
    """The named queries: inside the installed package, else the checkout's `sql/`."""
    from dal.config import packaged, source_checkout

    found = packaged("_sql")
    if found is None and (root := source_checkout()) is not None:
        found = root / "sql"
    if found is None or not found.is_dir():
        raise FileNotFoundError("the named queries (sql/) are missing from the package")
    return found


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
    # INSERT, UPDATE, DELETE, SELECT ...: the statement's own verb, after its WITH
    # clauses. A foreign key error means "still referenced" under a DELETE and "no such
    # row" otherwise; the server's message says which only in its own language.
    verb: str = ""

    @classmethod
    def parse(cls, name: str, description: str, text: LiteralString, source: str) -> Query:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        raw: LiteralString = _PARAM.sub(number, text).replace("%%", "%")
        return cls(name, description, text, source, raw, tuple(names), main_verb(text))


_WORD_OR_PAREN = re.compile(r"--[^\n]*|'(?:[^']|'')*'|\(|\)|[A-Za-z_]+")
_VERBS = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "TABLE"})


def main_verb(text: str) -> str:
    """The verb of the statement `text` at its top level: ``INSERT`` for
    ``WITH moved AS (DELETE ...) INSERT ...``; "" when it has none (``CALL``, DDL)."""
    depth = 0
    for match in _WORD_OR_PAREN.finditer(text):
        token = match.group()
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif depth == 0 and token.upper() in _VERBS:
            return token.upper()
    return ""


_WRITTEN = re.compile(
    r"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM|MERGE\s+INTO|TRUNCATE(?:\s+TABLE)?)\s+"
    r"(?:ONLY\s+)?([A-Za-z_][A-Za-z0-9_]*)",
    re.IGNORECASE,
)


def code_of(text: str) -> str:
    """`text` without its comments and string literals (whose words do nothing)."""
    return re.sub(r"--[^\n]*|'(?:[^']|'')*'", " ", text)


@functools.cache
def written(query: Query) -> list[tuple[str, str]]:
    """(verb, table) of each write in `query`: ``("INSERT", "users")``; [] for a read.
    (``FOR UPDATE`` and ``DO UPDATE SET`` name no table: they match as ``of``, ``set``.)"""
    return [
        (match.group(1).split()[0].upper(), match.group(2).lower())
        for match in _WRITTEN.finditer(code_of(query.text))
        if match.group(2).lower() not in ("of", "set")
    ]


def writes(query: Query) -> bool:
    """Whether `query` changes a row."""
    return bool(written(query))


_LOCKS = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE)\b|\bFOR\s+KEY\s+SHARE\b", re.I)


@functools.cache
def reads_only(query: Query) -> bool:
    """Whether a read-only server (a replica) can run `query`: a SELECT that changes no
    row and locks none (``FOR UPDATE`` needs the primary too)."""
    code = code_of(query.text)
    return (
        query.verb in ("SELECT", "VALUES", "TABLE")
        and not writes(query)
        and not (_LOCKS.search(code))
    )


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
        short = _NAME.sub(r"\1", lines[start])
        block = lines[start + 1 : end]
        where = f"{path.name}:{start + 1}"
        if not block or not block[0].startswith("--") or not block[0].lstrip("- ").strip():
            raise QueryFileError(f"{where}: a one-line description must follow the name")
        description = block[0].lstrip("- ").strip()
        body = "\n".join(block[1:]).strip().rstrip(";").strip()
        if not body:
            raise QueryFileError(f"{where}: query {short!r} has no SQL")
        # The text comes from files shipped with the package, never from input.
        text: LiteralString = body
        queries.append(Query.parse(f"{path.stem}.{short}", description, text, where))
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


def get(name: str) -> Query:
    """The query called `name` (``file.name``)."""
    try:
        return QUERIES[name]
    except KeyError:
        raise KeyError(f"no query named {name!r} in sql/") from None


def arguments(query: Query, params: Params) -> list[Any]:
    """The values of `params` in the order of the query's numbered parameters."""
    try:
        return [params[key] for key in query.param_names]
    except KeyError:
        missing = sorted(set(query.param_names) - set(params))
        raise DalError(f"query {query.name} needs parameters {missing}") from None


def row_factory(name: str, cls: type[Any] | None) -> RowFactory[Any]:
    """A psycopg row factory that builds `cls` from the rows of query `name`.

    Positionally (as psycopg's `args_row`) when the columns are the dataclass's
    fields in order, else by keyword (as `class_row`); plain tuples when `cls` is
    None. A named query always returns the same columns, so the row maker is found
    once, from the first result's description, and reused for every later call.
    """
    if cls is None:
        return tuple_row
    factory = _FACTORIES.get((name, cls))
    if factory is None:
        factory = _FACTORIES[name, cls] = _RowFactory(cls)
    return factory


class _RowFactory:
    __slots__ = ("cls", "maker")

    def __init__(self, cls: type[Any]) -> None:
        self.cls = cls
        self.maker: RowMaker[Any] | None = None

    def __call__(self, cursor: Any) -> RowMaker[Any]:
        if self.maker is not None:
            return self.maker
        cls = self.cls
        columns = tuple(column.name for column in cursor.description or ())
        if columns == tuple(f.name for f in dataclasses.fields(cls)):
            maker: RowMaker[Any] = _slot_maker(cls) or (lambda values: cls(*values))
        else:
            maker = lambda values: cls(**dict(zip(columns, values, strict=True)))  # noqa: E731
        if columns:
            self.maker = maker
        return maker


_FACTORIES: dict[tuple[str, type[Any]], _RowFactory] = {}


def _generated_init(cls: type[Any]) -> bool:
    """Whether the class's __init__ is the one dataclasses wrote (compiled from a
    string inside its `__create_fn__`), not one written by hand that might do more
    than store the fields. Anything else, or another Python's way, is not."""
    code = getattr(vars(cls).get("__init__"), "__code__", None)
    return (
        code is not None
        and code.co_filename == "<string>"
        and getattr(code, "co_qualname", "").startswith("__create_fn__.")
    )


def _slot_maker(cls: type[Any]) -> RowMaker[Any] | None:
    """For a slotted dataclass whose __init__ only stores its fields: a maker that
    stores them straight into the slots, the work of that __init__ without its
    per-field name lookups (a frozen one calls `object.__setattr__` by name for each):
    half the time, for 50 rows of 15 columns a tenth of a page. None for any other
    class, which is then called."""
    fields = dataclasses.fields(cls)
    if (
        hasattr(cls, "__post_init__")
        or any(not f.init for f in fields)
        or tuple(f.name for f in fields) != tuple(cls.__dict__.get("__slots__", ()))
        or not _generated_init(cls)
        or any("__new__" in vars(base) for base in cls.__mro__[:-1])
    ):
        return None
    # Generated, as dataclasses generates __init__: a line per slot, each store (the
    # slot descriptor's __set__) bound once as a default argument.
    scope: dict[str, Any] = {"new": object.__new__, "cls": cls}
    stores = []
    for n, f in enumerate(fields):
        scope[f"s{n}"] = getattr(cls, f.name).__set__
        stores.append(f"    s{n}(row, values[{n}])")
    defaults = ", ".join(f"s{n}=s{n}" for n in range(len(fields)))
    head = f"def make(values, new=new, cls=cls, {defaults}):"
    source = "\n".join([head, "    row = new(cls)", *stores, "    return row"])
    exec(source, scope)  # built from indices only: no name of the class's own in it
    make: RowMaker[Any] = scope["make"]
    return make
