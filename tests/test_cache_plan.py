"""The cache's maps (dal.cache_plan) held to the live catalog and to the named queries,
and its value format to every type a row may hold."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import psycopg
import pytest

from dal import cache_plan
from dal.query_files import QUERIES, Query, code_of, writes, written
from dal.rows.users import User

Conn = psycopg.Connection[Any]

_WRITES_IN_BODY = re.compile(
    r"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(?:ONLY\s+)?([a-z_][a-z0-9_]*)", re.IGNORECASE
)


def _tables(conn: Conn) -> set[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
    ).fetchall()
    return {name for (name,) in rows}


def _named(text: str, tables: set[str]) -> set[str]:
    words = set(re.findall(r"[a-z_][a-z0-9_]*", code_of(text).lower()))
    return words & tables


def _functions_called(conn: Conn, text: str) -> set[str]:
    names = set(re.findall(r"\b(dal_[a-z0-9_]+)\s*\(", text))
    bodies: set[str] = set()
    seen: set[str] = set()
    while names - seen:
        name = (names - seen).pop()
        seen.add(name)
        for (body,) in conn.execute("SELECT prosrc FROM pg_proc WHERE proname = %s", [name]):
            bodies.add(body)
            names |= set(re.findall(r"\b(dal_[a-z0-9_]+)\s*\(", body))
    return bodies


def test_each_cached_query_depends_on_what_it_reads_and_its_policies_read(conn: Conn) -> None:
    tables = _tables(conn)
    for name, declared in cache_plan.CACHED.items():
        named = _named(QUERIES[name].text, tables)
        needed = set(named)
        for table in named:
            policies = conn.execute(
                "SELECT coalesce(qual, '') FROM pg_policies "
                "WHERE schemaname = 'public' AND tablename = %s AND cmd IN ('SELECT', 'ALL')",
                [table],
            ).fetchall()
            for (qual,) in policies:
                needed |= _named(qual, tables)
                for body in _functions_called(conn, qual):
                    needed |= _named(body, tables)
        assert needed <= declared, f"{name} also depends on {sorted(needed - declared)}"
        assert named, f"{name} names no table"


_EVENTS = {"INSERT": 4, "DELETE": 8, "UPDATE": 16}  # pg_trigger.tgtype bits


def _effects(conn: Conn, tables: set[str]) -> dict[tuple[str, str], set[str]]:
    """(table, how) -> the tables a write to it may change: foreign keys' actions and
    triggers, transitively (a cascaded delete deletes, a SET NULL updates)."""
    direct: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for parent, child, on_delete, on_update in conn.execute(
        "SELECT confrelid::regclass::text, conrelid::regclass::text, confdeltype, confupdtype "
        "FROM pg_constraint WHERE contype = 'f'"
    ):
        for how, action in (("DELETE", on_delete), ("UPDATE", on_update)):
            if action == "c":
                direct.setdefault((parent, how), set()).add((child, how))
            elif action in ("n", "d"):
                direct.setdefault((parent, how), set()).add((child, "UPDATE"))
    for table, kind, body in conn.execute(
        "SELECT t.tgrelid::regclass::text, t.tgtype, p.prosrc FROM pg_trigger t "
        "JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal"
    ):
        for match in _WRITES_IN_BODY.finditer(code_of(body)):
            verb = match.group(1).split()[0].upper()
            written = (match.group(2).lower(), verb)
            for how, bit in _EVENTS.items():
                if kind & bit and written[0] in tables:
                    direct.setdefault((table, how), set()).add(written)
    closure: dict[tuple[str, str], set[str]] = {}
    for start in {(t, how) for t in tables for how in _EVENTS}:
        reached: set[tuple[str, str]] = set()
        todo = [start]
        while todo:
            for nxt in direct.get(todo.pop(), set()):
                if nxt not in reached:
                    reached.add(nxt)
                    todo.append(nxt)
        closure[start] = {table for table, _ in reached} - {start[0]}
    return closure


def test_effects_of_writes_match_the_foreign_keys_and_triggers(conn: Conn) -> None:
    computed = {
        key: frozenset(reached & cache_plan.CACHED_TABLES)
        for key, reached in _effects(conn, _tables(conn)).items()
        if reached & cache_plan.CACHED_TABLES
    }
    assert computed == dict(cache_plan.EFFECTS)


def test_every_write_names_its_table() -> None:
    """Every statement that writes names the table it writes where the cache sees it."""
    for query in QUERIES.values():
        if query.verb in ("INSERT", "UPDATE", "DELETE", "MERGE"):
            assert writes(query), query.name
    assert cache_plan.invalidates(QUERIES["users.update"]) == {"users"}
    assert cache_plan.invalidates(QUERIES["users.hard_delete"]) == {
        "users",
        "project_members",
        "user_settings",
    }
    assert cache_plan.invalidates(QUERIES["users.get_by_id"]) == frozenset()
    assert cache_plan.invalidates(QUERIES["config.upsert_user_setting"]) == {"user_settings"}


@pytest.mark.parametrize(
    "value",
    [
        None,
        "text",
        0,
        -(2**70),
        1.5,
        True,
        uuid4(),
        datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5),
        date(2026, 1, 2),
        time(3, 4, 5),
        timedelta(days=-3, seconds=5, microseconds=7),
        Decimal("12.340"),
        b"\x00\xff",
        {"a": [1, "x", None, {"b": True}]},
        [uuid4(), None],
        [[1, 2], [3, 4]],
        ["j", "u"],
    ],
)
def test_values_round_trip_with_their_type(value: Any) -> None:
    blob = cache_plan.encode((value,), many=False)
    (back,) = cache_plan.decode(blob, None, many=False)
    assert back == value and type(back) is type(value)


def test_a_non_finite_float_is_not_cached() -> None:
    with pytest.raises(cache_plan.Uncacheable):
        cache_plan.encode((float("nan"),), many=False)


def test_the_key_version_follows_the_statement_and_the_row() -> None:
    query = QUERIES["users.get_by_id"]
    changed = Query.parse(query.name, query.description, query.text + " ", query.source)
    assert cache_plan.key_version(query, User) != cache_plan.key_version(changed, User)
    assert cache_plan.key_version(query, User) != cache_plan.key_version(query, None)
    assert cache_plan.newest_migration().startswith("00")


def test_row_writes_write_one_row_by_its_key_and_flag_the_searched_columns() -> None:
    """A write counted as one row's names that row by its key in its WHERE, and every
    column another cached query of its table searches by is behind a flag that makes
    it a write of the whole table."""
    for name, (table, key, flags) in cache_plan.ROW_WRITES.items():
        code = code_of(QUERIES[name].text)
        assert re.search(rf"\bWHERE\s+{key}\s*=\s*%\({key}\)s", code), name
        assert [t for _verb, t in written(QUERIES[name])] == [table], name
        searched = {
            column
            for other, tables in cache_plan.CACHED.items()
            if table in tables and other not in cache_plan.BY_KEY
            for column in re.findall(r"lower\((\w+)\)\s*=", QUERIES[other].text)
        }
        changed = set(re.findall(r"\b(\w+)\s*=\s*CASE\b|\bSET\s+(\w+)\s*=", code))
        changed_columns = {a or b for a, b in changed}
        for column in searched & changed_columns:
            assert f"set_{column}" in flags, f"{name} changes {column} without a flag"
    for name, (_table, key) in cache_plan.BY_KEY.items():
        assert re.search(rf"\bWHERE\s+{key}\s*=\s*%\({key}\)s", QUERIES[name].text), name


def test_counters_of_reads_and_writes() -> None:
    some = uuid4()
    by_id = cache_plan.read_counters(QUERIES["users.get_by_id"], {"id": some})
    assert by_id == ["users", f"users:{some}"]
    assert cache_plan.read_counters(QUERIES["users.get_by_email"], {"email": "x"}) == [
        "users",
        "users~rows",
    ]
    update = QUERIES["users.update"]
    assert cache_plan.write_counters(update, {"id": some, "set_email": False}) == {
        f"users:{some}",
        "users~rows",
    }
    assert cache_plan.write_counters(update, {"id": some, "set_email": True}) == {"users"}
    assert cache_plan.write_counters(QUERIES["users.hard_delete"], {"id": some}) >= {"users"}
