"""Core failures on the way to a database are one typed, clear error."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from dal import migrate
from dal.errors import MigrationError, Unavailable
from dal.server import ensure_database


@pytest.fixture
def plain_role(pg_admin: str) -> Iterator[str]:
    """A login role without CREATEDB or any table privileges."""
    role = f"dal_plain_{os.getpid()}"
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    yield role
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_creating_a_database_without_the_right_is_unavailable(
    pg_admin: str, plain_role: str
) -> None:
    as_plain = psycopg.conninfo.make_conninfo(pg_admin, user=plain_role)
    with pytest.raises(Unavailable, match="cannot create database 'dal_never_made'"):
        ensure_database(as_plain, "dal_never_made")


def test_unreadable_bookkeeping_is_a_migration_error(db_url: str, plain_role: str) -> None:
    as_plain = psycopg.conninfo.make_conninfo(db_url, user=plain_role)
    with pytest.raises(MigrationError, match="cannot read or record migrations"):
        migrate.status(as_plain)
