"""The named-query loader: file format, names, descriptions, and the shipped files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from psycopg import pq

from dal import DalError, queries, users
from dal.query_files import QueryFileError, load, parse_file


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_blocks_are_named_by_file_and_described(tmp_path: Path) -> None:
    write(
        tmp_path,
        "things.sql",
        "-- Things.\n\n-- name: get\n-- One thing.\nSELECT 1;\n\n"
        "-- name: list_all\n-- Every thing.\nSELECT 2\n  FROM t;\n",
    )
    found = load(tmp_path)
    assert list(found) == ["things.get", "things.list_all"]
    assert found["things.get"].description == "One thing."
    assert found["things.list_all"].text == "SELECT 2\n  FROM t"
    assert found["things.list_all"].source == "things.sql:7"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-- name: a\nSELECT 1;\n", "description must follow"),
        ("-- name: a\n-- Something.\n", "has no SQL"),
        ("SELECT 1;\n", "no '-- name:' header"),
        ("-- name: a\n-- One.\nSELECT 1;\n-- name: a\n-- Two.\nSELECT 2;\n", "duplicate"),
    ],
)
def test_malformed_files_are_rejected(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "bad.sql", text)
    with pytest.raises(QueryFileError, match=message):
        load(tmp_path)


def test_schema_snapshot_is_not_a_query_file() -> None:
    assert not any(name.startswith("schema.") for name in queries.QUERIES)


def test_shipped_queries_use_only_named_parameters() -> None:
    assert queries.QUERIES, "no queries loaded"
    for query in queries.QUERIES.values():
        assert query.description.endswith((".", ")")), f"{query.source}: describe it in a sentence"
        bare = re.findall(r"%s|\$\d+", query.text)
        assert not bare, f"{query.source}: use %(name)s parameters, found {bare}"


def test_unknown_query_name_is_a_clear_key_error() -> None:
    with pytest.raises(KeyError, match=r"no query named 'users\.nope'"):
        queries.get("users.nope")


def test_parse_file_keeps_order(tmp_path: Path) -> None:
    path = write(tmp_path, "x.sql", "-- name: b\n-- B.\nSELECT 2;\n-- name: a\n-- A.\nSELECT 1;\n")
    assert [q.name for q in parse_file(path)] == ["x.b", "x.a"]


def test_named_parameters_become_numbered_ones_in_order_of_first_use() -> None:
    query = queries.Query.parse(
        "t.q",
        "d",
        "SELECT %(b)s, %(a)s, %(b)s WHERE x LIKE 'a%%' AND y = %(c)s",
        "t.sql:1",
    )
    assert query.raw == "SELECT $1, $2, $1 WHERE x LIKE 'a%' AND y = $3"
    assert query.param_names == ("b", "a", "c")


def test_every_shipped_query_prepares_in_its_numbered_form(conn: Any) -> None:
    """The numbered form is what runs: the server must agree on each parameter's type."""
    refused = {}
    for index, (name, query) in enumerate(sorted(queries.QUERIES.items())):
        assert "%(" not in query.raw, name
        result = conn.pgconn.prepare(f"check_{index}".encode(), query.raw.encode())
        if result.status != pq.ExecStatus.COMMAND_OK:
            refused[name] = (result.error_message or b"").decode()
    assert refused == {}


def test_a_missing_parameter_is_a_dal_error_naming_it(conn: Any) -> None:
    with pytest.raises(DalError, match=r"users.get_by_email needs parameters \['email'\]"):
        queries.fetch_one(conn, "users.get_by_email", {"mail": "x"}, users.User)
