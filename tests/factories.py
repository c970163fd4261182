"""Small builders for test rows, and a row counter for "nothing was written" checks."""

from __future__ import annotations

import itertools
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
