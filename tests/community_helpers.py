"""Shared builders for the community, wellbeing and configuration tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from dal import events, servers, surveys, users

_seq = itertools.count(1)

Conn = psycopg.Connection[Any]


def user(conn: Conn, name: str | None = None) -> users.User:
    n = next(_seq)
    handle = name or f"member{n}"
    return users.create(conn, email=f"{handle}@example.com", username=handle)


def server(conn: Conn, owner: users.User | None = None, **extra: Any) -> servers.Server:
    n = next(_seq)
    fields: dict[str, Any] = {
        "snowflake_id": 1_000_000_000_000 + n,
        "name": f"Server {n}",
        "owner_id": (owner or user(conn)).id,
    }
    return servers.create(conn, **(fields | extra))


def now() -> datetime:
    return datetime.now(UTC)


def event(conn: Conn, srv: servers.Server, *, in_days: float = 1, **extra: Any) -> events.Event:
    starts = now() + timedelta(days=in_days)
    fields: dict[str, Any] = {
        "server_id": srv.id,
        "creator_id": srv.owner_id,
        "title": "Board game night",
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=2),
    }
    return events.create(conn, **(fields | extra))


def survey(conn: Conn, srv: servers.Server | None = None, **extra: Any) -> surveys.Survey:
    """A draft survey of `srv` (a new server by default) open from an hour ago to an
    hour from now; `extra` overrides any field."""
    srv = srv or server(conn)
    fields: dict[str, Any] = {
        "server_id": srv.id,
        "creator_id": srv.owner_id,
        "title": "How was it?",
        "opens_at": now() - timedelta(hours=1),
        "closes_at": now() + timedelta(hours=1),
    }
    return surveys.create(conn, **(fields | extra))


def count(conn: Conn, table: str) -> int:
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
    assert row is not None
    return int(row[0])


def snapshot(conn: Conn, *tables: str) -> dict[str, list[str]]:
    """Every row of each table as JSON text, sorted: equal snapshots mean nothing was written."""
    found: dict[str, list[str]] = {}
    for table in tables:
        query = sql.SQL("SELECT to_jsonb(t)::text FROM {} AS t ORDER BY 1").format(
            sql.Identifier(table)
        )
        found[table] = [row[0] for row in conn.execute(query).fetchall()]
    return found
