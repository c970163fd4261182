"""What the Redis read-through cache keeps, what each write invalidates, and how a
cached result is written down (`dal.aio.cache` does the talking to Redis).

Invalidation is by generation: every table a cached query depends on has a counter
in Redis, and a cached result is stored under a key that holds the counters it was
read under. A write bumps the counters of the tables it changes once it has
committed, so a reader that fetched the old counters before the write can only
store under a key no later reader asks for (see `dal.aio.cache`).

A query's dependencies are the tables it names and the tables its row-level
security policies read (projects' read policy reads project_members through
`dal_projects`): a new membership changes what `projects.list_for_user` returns.
A write changes the table it names and every table its foreign keys' ON DELETE /
ON UPDATE actions and its triggers reach (`EFFECTS`). `tests/test_cache_plan.py`
holds both maps to the live catalog, so a migration cannot leave them behind.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from typing import Any
from uuid import UUID

import orjson

from dal.query_files import Query, code_of, written

# Format of a cached value: part of every key, so a change here never reads old values.
CACHE_FORMAT = 1

# Cached query -> the tables whose writes can change its result (its own tables and
# those its tables' read policies consult).
CACHED: Mapping[str, frozenset[str]] = {
    "users.get_by_id": frozenset({"users"}),
    "users.get_by_email": frozenset({"users"}),
    "users.get_by_username": frozenset({"users"}),
    "projects.get_member": frozenset({"project_members", "projects"}),
    "projects.list_for_user_first_page": frozenset({"project_members", "projects"}),
    "projects.list_for_user_after": frozenset({"project_members", "projects"}),
    "config.get": frozenset({"app_config"}),
    "config.get_flag": frozenset({"feature_flags"}),
    "config.get_user_setting": frozenset({"user_settings", "app_config"}),
    "config.list_user_settings": frozenset({"user_settings", "app_config"}),
}

CACHED_TABLES: frozenset[str] = frozenset().union(*CACHED.values())
_IN_ORDER = {name: sorted(tables) for name, tables in CACHED.items()}  # a key's order

# Finer counters for a table whose rows are looked up by key and written one at a
# time (a session's user by id, a profile edit). Each row has a counter of its own
# (``users:<id>``), and the table a second one (``users~rows``) that every such row
# write moves. A lookup by key checks the table's counter and its row's; any other
# cached query of the table checks the table's and the rows' counters. A row write
# moves its row's and the rows' counters; every other write the table's, which
# every cached query of the table checks.
#
# Cached query -> (table, parameter holding the row's key).
BY_KEY: Mapping[str, tuple[str, str]] = {"users.get_by_id": ("users", "id")}
# Write of one row -> (table, parameter holding its key, flags that make it a write
# of the table: a change to a column other cached queries search by).
ROW_WRITES: Mapping[str, tuple[str, str, tuple[str, ...]]] = {
    "users.update": ("users", "id", ("set_email", "set_username")),
    "users.set_password_hash": ("users", "id", ()),
    "users.touch_last_login": ("users", "id", ()),
    "users.soft_delete": ("users", "id", ()),
}
ROWS = "~rows"  # the suffix of a table's rows counter
_ROW_TABLES = frozenset(table for table, _key, _flags in ROW_WRITES.values())


def read_counters(query: Query, params: Mapping[str, Any]) -> list[str]:
    """The counters a cached result of `query` with `params` is stamped with."""
    keyed = BY_KEY.get(query.name)
    names = []
    for table in _IN_ORDER[query.name]:
        names.append(table)
        if keyed is not None and keyed[0] == table:
            names.append(f"{table}:{params[keyed[1]]}")
        elif table in _ROW_TABLES:
            names.append(table + ROWS)
    return names


def write_counters(query: Query, params: Mapping[str, Any]) -> frozenset[str]:
    """The counters a committed run of `query` with `params` moves on."""
    tables = invalidates(query)
    row = ROW_WRITES.get(query.name)
    if row is None or any(params.get(flag) for flag in row[2]):
        return tables
    table, key = row[0], row[1]
    return (tables - {table}) | {f"{table}:{params[key]}", table + ROWS}


# (table written, how) -> the cached tables that write may change besides its own:
# through foreign keys' ON DELETE / ON UPDATE actions (transitively) and triggers
# (by the events they fire on). Checked against the catalog by tests/test_cache_plan.py.
EFFECTS: Mapping[tuple[str, str], frozenset[str]] = {
    ("users", "DELETE"): frozenset({"project_members", "user_settings"}),
    ("projects", "DELETE"): frozenset({"project_members"}),
}

_CONFLICT_UPDATE = re.compile(r"\bON\s+CONFLICT\b.*\bDO\s+UPDATE\b", re.IGNORECASE | re.DOTALL)


@cache
def invalidates(query: Query) -> frozenset[str]:
    """The cached tables a run of `query` may change (empty for a read)."""
    code = code_of(query.text)
    touched: set[str] = set()
    for verb, table in written(query):
        hows = {
            "INSERT": ("INSERT", "UPDATE") if _CONFLICT_UPDATE.search(code) else ("INSERT",),
            "UPDATE": ("UPDATE",),
            "DELETE": ("DELETE",),
            "TRUNCATE": ("DELETE",),
            "MERGE": ("INSERT", "UPDATE", "DELETE"),
        }[verb]
        touched.add(table)
        for how in hows:
            touched |= EFFECTS.get((table, how), frozenset())
    return frozenset(touched & CACHED_TABLES)


def key_version(query: Query, row: type[Any] | None) -> str:
    """A short digest of everything that shapes a cached value: the statement, the row
    type's fields, the newest migration shipped and the value format. A deploy that
    changes any of them reads under new keys, never a value of the old shape."""
    found = _VERSIONS.get((query.text, row))
    if found is None:
        fields = [] if row is None else [(f.name, str(f.type)) for f in dataclasses.fields(row)]
        shape = f"{CACHE_FORMAT}|{newest_migration()}|{query.text}|{row and row.__qualname__}"
        found = hashlib.blake2b(f"{shape}|{fields}".encode(), digest_size=6).hexdigest()
        _VERSIONS[query.text, row] = found
    return found


_VERSIONS: dict[tuple[str, type[Any] | None], str] = {}


@cache
def newest_migration() -> str:
    """The name of the newest migration file shipped with the package (inside an
    installed one; a checkout's `migrations/`)."""
    from dal.config import packaged, source_checkout

    folder = packaged("_migrations")
    if folder is None and (root := source_checkout()) is not None:
        folder = root / "migrations"
    names = sorted(path.stem for path in folder.glob("[0-9]*.sql")) if folder else []
    return names[-1] if names else ""


def params_digest(params: Mapping[str, Any]) -> str:
    """A digest of a call's parameters: keys hold no email or name in clear."""
    blob = orjson.dumps(params, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.blake2b(blob, digest_size=12).hexdigest()


class Uncacheable(Exception):
    """A result holds a value the cache does not write down (it is then not stored)."""


def encode(found: Any, many: bool) -> bytes:
    """A result (one row or None, or a list of rows) as bytes for Redis; Uncacheable
    when a value would not come back as it was."""
    data = (
        [_row_values(row) for row in found]
        if many
        else (None if found is None else _row_values(found))
    )
    try:
        return orjson.dumps(data)
    except TypeError as exc:  # an integer past 64 bits inside a jsonb value, say
        raise Uncacheable(str(exc)) from None


def decode(blob: bytes, row: type[Any] | None, many: bool) -> Any:
    """The result `encode` wrote down, rebuilt as `row` objects (tuples when None)."""
    data = orjson.loads(blob)
    if many:
        return [_build(row, values) for values in data]
    return None if data is None else _build(row, data)


def _row_values(found: Any) -> list[Any]:
    if isinstance(found, tuple):
        values: Any = found
    else:
        values = [getattr(found, name) for name in _init_fields(type(found))]
    return [_value(value) for value in values]


def _build(row: type[Any] | None, values: list[Any]) -> Any:
    decoded = [_decoded(value) for value in values]
    if row is None:
        return tuple(decoded)
    return row(**dict(zip(_init_fields(row), decoded, strict=True)))


def _init_fields(row: type[Any]) -> tuple[str, ...]:
    found = _FIELDS.get(row)
    if found is None:
        found = _FIELDS[row] = tuple(f.name for f in dataclasses.fields(row) if f.init)
    return found


_FIELDS: dict[type[Any], tuple[str, ...]] = {}


# Each value is JSON as it is (str, int, bool, None, a finite float) or a pair naming
# its type: ["u", uuid], ["t", timestamp], ... ["j", a jsonb object or array] and
# ["a", an array's encoded elements].
def _value(value: Any) -> Any:
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int):  # JSON's integers stop at 64 bits here
        return value if -(2**63) <= value < 2**64 else ["N", str(value)]
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Uncacheable("a non-finite float")  # JSON has no NaN
        return value
    for kind, tag, write in _TAGGED:
        if isinstance(value, kind):
            return [tag, write(value)]
    if isinstance(value, timedelta):
        return ["i", value.days, value.seconds, value.microseconds]
    if isinstance(value, list):
        return ["a", [_value(item) for item in value]]
    raise Uncacheable(type(value).__name__)


def _plain_json(value: Any) -> Any:
    """`value` (a jsonb object) if JSON gives it back as it is: no float that JSON
    cannot hold (orjson would write null), no integer past 64 bits."""
    if isinstance(value, float) and not math.isfinite(value):
        raise Uncacheable("a non-finite float")
    if isinstance(value, int) and not -(2**63) <= value < 2**64:
        raise Uncacheable("an integer past 64 bits")
    if isinstance(value, dict):
        for item in value.values():
            _plain_json(item)
    elif isinstance(value, list):
        for item in value:
            _plain_json(item)
    return value


# datetime before date: a datetime is a date too.
_TAGGED: tuple[tuple[type[Any], str, Any], ...] = (
    (UUID, "u", str),
    (datetime, "t", datetime.isoformat),
    (date, "d", date.isoformat),
    (time, "h", time.isoformat),
    (Decimal, "n", str),
    (bytes, "b", lambda value: base64.b64encode(value).decode()),
    (dict, "j", _plain_json),
)


_DECODERS: dict[str, Any] = {
    "u": UUID,
    "t": datetime.fromisoformat,
    "d": date.fromisoformat,
    "h": time.fromisoformat,
    "n": Decimal,
    "N": int,
    "b": base64.b64decode,
    "j": lambda value: value,
}


def _decoded(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    tag = value[0]
    if tag == "a":
        return [_decoded(item) for item in value[1]]
    if tag == "i":
        return timedelta(days=value[1], seconds=value[2], microseconds=value[3])
    return _DECODERS[tag](value[1])
