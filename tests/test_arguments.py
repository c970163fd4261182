"""Every public function checks its arguments at the boundary (`dal.arguments`).

The functions are found, not listed: every function an area module (both flavours),
a package or a workflow module exports. Each must be checked; then, driven by each
function's own annotations, hypothesis gives one parameter a value of a wrong kind and
expects InvalidData naming that parameter with every table as it was; and gives each
text parameter hostile text (NUL, lone surrogates, quotes, placeholders, long text)
and expects a result or a `DalError`, never another exception, and no write when it
refuses.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import os
import types
import typing
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql
from psycopg_pool import AsyncConnectionPool, ConnectionPool

import dal
from dal import aio
from dal._unset import UNSET, _Unset
from dal.arguments import checked, is_checked
from dal.config import Settings
from dal.errors import DalError, InvalidData
from dal.testing import create_database, drop_database

WORKFLOW_MODULES = (
    "dal.config",
    "dal.health",
    "dal.migrate",
    "dal.schema",
    "dal.server",
)
PACKAGES = ("dal", "dal.aio", "dal.importers", "dal.seed")


def _public_functions() -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}

    def add(fn: Any) -> None:
        if inspect.isfunction(fn) and fn.__module__.startswith("dal"):
            found[f"{fn.__module__}.{fn.__name__}"] = fn

    for area in aio.AREAS:
        for name in (f"dal.{area}", f"dal.aio.{area}"):
            module = importlib.import_module(name)
            for attr in module.__all__:
                if getattr(getattr(module, attr), "__module__", None) == name:
                    add(getattr(module, attr))
    for name in PACKAGES:
        module = importlib.import_module(name)
        for attr in module.__all__:
            add(getattr(module, attr))
    for name in WORKFLOW_MODULES:
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if not attr.startswith("_") and getattr(value, "__module__", None) == name:
                add(value)
    return found


PUBLIC = _public_functions()
AREA_FUNCTIONS = sorted(
    name for name in PUBLIC if name.rsplit(".", 1)[0] in {f"dal.{a}" for a in aio.AREAS}
) + sorted(name for name in PUBLIC if name.rsplit(".", 1)[0] in {f"dal.aio.{a}" for a in aio.AREAS})


def test_every_public_function_checks_its_arguments() -> None:
    assert len(PUBLIC) > 300  # both flavours of every area, and the workflows
    assert [name for name, fn in PUBLIC.items() if not is_checked(fn)] == []


def test_a_parameter_without_a_rule_fails_at_import() -> None:
    def untyped(db, user_id: UUID) -> None:  # type: ignore[no-untyped-def]
        """No annotation on `db`."""

    def unknown(value: typing.LiteralString) -> None:
        """An annotation no rule expresses."""

    with pytest.raises(TypeError, match="db has no annotation"):
        checked(untyped)
    with pytest.raises(TypeError, match="no argument rule"):
        checked(unknown)


# --- what an annotation accepts, told independently of dal.arguments ---------------


def _tags(hint: Any) -> set[str]:
    """The kinds of value `hint` admits: a small vocabulary the candidates below use."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_tags(arg) for arg in args))
    if hint is Any or isinstance(hint, typing.TypeVar):
        return {"any"}
    simple = {str: "str", int: "int", float: "float", bool: "bool", UUID: "uuid"}
    simple |= {datetime: "datetime", date: "date", type(None): "none", _Unset: "unset"}
    if hint in simple:
        return {simple[hint]}
    if origin in (Mapping, dict):
        return {"mapping", "mapping-any"} if args and args[0] is Any else {"mapping"}
    if origin in (Sequence, list, Iterable, Collection):
        return {"list", "list-any"} if args and args[0] is Any else {"list"}
    return {"callable"} if origin is Callable else {"object"}


NAIVE = datetime(2030, 1, 1, 12)
WRONG: list[tuple[Any, set[str]]] = [  # a value, and the kinds that would accept it
    (True, {"bool", "any"}),
    (1.5, {"float", "any"}),
    (7, {"int", "float", "any"}),
    ("7", {"str", "any"}),
    (b"bytes", {"any"}),
    (None, {"none", "any"}),
    (object(), {"any"}),
    (NAIVE, {"any"}),
    ([object()], {"any", "list-any"}),
    ({object(): 1}, {"any", "list-any", "mapping-any"}),
]


def _wrong_values(hint: Any) -> list[Any]:
    tags = _tags(hint)
    return [value for value, accepted in WRONG if not tags & accepted]


class Dbs:
    """A real database and its connections in both flavours, for one module."""

    def __init__(self, conninfo: str) -> None:
        self.runner = asyncio.Runner()
        self.conn = dal.open_connection(conninfo, Settings(), autocommit=True)
        self.pool = dal.open_pool(conninfo, Settings(pool_size=1, max_overflow=1))
        self.aconn = self.runner.run(aio.open_connection(conninfo, Settings(), autocommit=True))
        self.apool = self.runner.run(aio.open_pool(conninfo, Settings(pool_size=1)))

    def valid(self, hint: Any) -> Any:
        """A value `hint` accepts (None where it admits None); `_SKIP` when none is made."""
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin in (typing.Union, types.UnionType):
            if type(None) in args:
                return None
            return next((v for v in map(self.valid, args) if v is not _SKIP), _SKIP)
        made = {
            str: "x",
            int: 1,
            float: 0.5,
            bool: False,
            UUID: uuid4(),
            datetime: datetime.now(UTC),
            date: date(2030, 1, 1),
            _Unset: UNSET,
            Settings: Settings(),
            Path: Path(os.devnull),
            psycopg.IsolationLevel: psycopg.IsolationLevel.SERIALIZABLE,
        }
        if hint in made or hint is Any:
            return made.get(hint)
        kind = origin or hint
        for cls, value in (
            (psycopg.AsyncConnection, self.aconn),
            (psycopg.Connection, self.conn),
            (AsyncConnectionPool, self.apool),
            (ConnectionPool, self.pool),
        ):
            if isinstance(kind, type) and issubclass(cls, kind):
                return value
        if origin in (Mapping, dict):
            return {}
        if origin in (Sequence, list, Iterable, Collection):
            return []
        if origin is tuple:
            return tuple(self.valid(arg) for arg in args)
        if origin is type:
            return dict
        if origin is Callable:
            return lambda *_: None
        return _SKIP

    def digest(self) -> str:
        """Every row of every table, hashed: equal digests mean nothing was written."""
        tables = self.conn.execute(
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON"
            " n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
            " AND NOT c.relispartition ORDER BY 1"
        ).fetchall()
        parts = [
            sql.SQL(
                "(SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {} t)"
            ).format(sql.Identifier(name))
            for (name,) in tables
        ]
        query = sql.SQL("SELECT concat_ws('|', {})").format(sql.SQL(", ").join(parts))
        row = self.conn.execute(query).fetchone()
        assert row is not None
        return str(row[0])

    def call(self, fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        result = fn(**kwargs)
        if inspect.isawaitable(result):
            return self.runner.run(_awaited(result))
        if inspect.isasyncgen(result):
            return self.runner.run(_drained(result))
        if isinstance(result, Iterator):
            return list(result)
        return result

    def close(self) -> None:
        self.conn.close()
        self.pool.close()
        self.runner.run(self.aconn.close())
        self.runner.run(self.apool.close())
        self.runner.close()


_SKIP = object()


async def _awaited(result: Any) -> Any:
    return await result


async def _drained(items: Any) -> list[Any]:
    return [item async for item in items]


@pytest.fixture(scope="module")
def dbs(pg_admin: str, template_db: str) -> Iterator[Dbs]:
    name = f"dal_args_{os.getpid()}"
    made = Dbs(create_database(pg_admin, name, template=template_db))
    yield made
    made.close()
    drop_database(pg_admin, name)


def _parameters(fn: Callable[..., Any]) -> list[tuple[str, Any, inspect.Parameter]]:
    hints = typing.get_type_hints(inspect.unwrap(fn))
    return [
        (p.name, hints[p.name], p)
        for p in inspect.signature(fn).parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def _arguments(dbs: Dbs, fn: Callable[..., Any], bad: str, value: Any) -> dict[str, Any] | None:
    """Keyword arguments: `value` for `bad`, something valid before it (None if nothing
    valid can be made), the default or anything after it (the check stops at `bad`)."""
    kwargs: dict[str, Any] = {}
    before = True
    for name, hint, p in _parameters(fn):
        if name == bad:
            kwargs[name], before = value, False
            continue
        made = dbs.valid(hint)
        if made is _SKIP and before:
            return None
        if made is _SKIP:
            made = p.default if p.default is not p.empty else object()
        kwargs[name] = made
    return kwargs


FUZZ = settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_a_value_of_the_wrong_kind_is_refused_naming_the_parameter(dbs: Dbs, name: str) -> None:
    fn = PUBLIC[name]
    cases = [(p, value) for p, hint, _ in _parameters(fn) for value in _wrong_values(hint)]
    if not cases:  # every parameter admits anything
        assert all(_tags(hint) & {"any"} for _, hint, _ in _parameters(fn))
        return
    before = dbs.digest()

    @FUZZ
    @given(case=st.sampled_from(cases))
    def refused(case: tuple[str, Any]) -> None:
        parameter, value = case
        kwargs = _arguments(dbs, fn, parameter, value)
        if kwargs is None:
            return
        with pytest.raises(InvalidData) as caught:
            dbs.call(fn, kwargs)
        assert caught.value.column == parameter, caught.value

    refused()
    assert dbs.digest() == before


HOSTILE = st.one_of(
    st.sampled_from(
        [
            "a\x00b",
            "\ud800",
            "x\udfffy",
            "'; DROP TABLE users; --",
            "%(id)s %s {0} $1",
            "\u202eevil",
            "😀" * 500,
            "é" * 70_000,
            "",
            " ",
        ]
    ),
    st.text(max_size=60),
    # hypothesis's text never holds a surrogate: code points drawn one by one do
    st.lists(st.integers(0, 0x10FFFF).map(chr), max_size=20).map("".join),
)


TEXT_TAKERS = [
    n for n in AREA_FUNCTIONS if any("str" in _tags(h) for _, h, _ in _parameters(PUBLIC[n]))
]


@pytest.mark.parametrize("name", TEXT_TAKERS)
def test_hostile_text_gets_a_result_or_a_typed_error(dbs: Dbs, name: str) -> None:
    fn = PUBLIC[name]
    texts = [p for p, hint, _ in _parameters(fn) if "str" in _tags(hint)]

    @FUZZ
    @given(parameter=st.sampled_from(texts), text=HOSTILE)
    def survives(parameter: str, text: str) -> None:
        kwargs = _arguments(dbs, fn, parameter, text)
        if kwargs is None or any(v is _SKIP for v in kwargs.values()):
            return
        before = dbs.digest()
        unsendable = "\x00" in text or any("\ud800" <= c <= "\udfff" for c in text)
        try:
            dbs.call(fn, kwargs)
            refused: DalError | None = None
        except DalError as exc:
            refused = exc
        if refused is not None:
            assert dbs.digest() == before, refused
        if unsendable:
            assert isinstance(refused, InvalidData)
            assert refused.column == parameter

    survives()
