"""The shape of a "break one constraint" case, shared by the per-area constraint tests.

A case names the tables it touches, the typed error and the constraint it must
name, and a builder that sets up what the write needs and returns the write.
`check` runs it: the error is exactly that type, names that constraint, came from
the database, and every row of the tables is as it was (neither an insert nor a
partial update slipped through).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, LiteralString

import psycopg
import pytest

from dal import DalError
from dal.errors import translating
from tests.community_helpers import snapshot

Conn = psycopg.Connection[Any]
# Builds what a case needs and returns the write that must fail.
Build = Callable[[Conn], Callable[[], object]]
Case = tuple[str | tuple[str, ...], type[DalError], str, Build]


def raw(conn: Conn, statement: LiteralString, params: list[Any]) -> Callable[[], object]:
    """A statement the DAL never sends, with its error mapped as the DAL maps every error."""

    def run() -> object:
        with translating():
            return conn.execute(statement, params)

    return run


def parametrize(cases: Sequence[Case]) -> pytest.MarkDecorator:
    """One test per case, named after its constraint and builder."""
    return pytest.mark.parametrize(
        ("tables", "error", "constraint", "build"),
        cases,
        ids=[f"{constraint}-{build.__name__.strip('_')}" for _, _, constraint, build in cases],
    )


def check(
    conn: Conn,
    tables: str | tuple[str, ...],
    error: type[DalError],
    constraint: str,
    build: Build,
) -> None:
    write = build(conn)
    table = (tables,) if isinstance(tables, str) else tables
    before = snapshot(conn, *table)
    with pytest.raises(error) as caught:
        write()
    assert type(caught.value) is error
    assert caught.value.constraint == constraint
    assert isinstance(caught.value.__cause__, psycopg.Error)  # it came from the database
    assert snapshot(conn, *table) == before
