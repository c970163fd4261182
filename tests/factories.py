"""Small builders for test rows, and a row counter for "nothing was written" checks."""

from __future__ import annotations

import itertools
import time
from typing import Any

import psycopg
from psycopg import sql

from dal import projects, users

Conn = psycopg.Connection[Any]
_n = itertools.count()


def user(conn: Conn, name: str | None = None) -> users.User:
    name = name or f"user{next(_n)}"
    return users.create(conn, email=f"{name}@example.com", username=name)


def project(conn: Conn, owner: users.User, name: str = "Project") -> projects.Project:
    return projects.create(conn, owner_id=owner.id, name=name)


def count(conn: Conn, table: str) -> int:
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
    assert row is not None
    return int(row[0])


def wait_until_blocked(conn: Conn, timeout: float = 10.0) -> None:
    """Wait until some other session of this database waits for a lock (a race is staged)."""
    deadline = time.monotonic() + timeout
    query = """SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock'"""
    while time.monotonic() < deadline:
        row = conn.execute(query).fetchone()
        if row is not None and row[0] > 0:
            return
        time.sleep(0.01)
    raise AssertionError(f"no session waited for a lock within {timeout}s")
