"""Small builders for test rows, and a row counter for "nothing was written" checks."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from dal import projects, users
from dal.db import Pool

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


def race(
    pool: Pool,
    observer: Conn,
    hold: Callable[[Conn], object],
    call: Callable[[], object],
    timeout: float = 10.0,
) -> object:
    """Stage a race: `hold(conn)` runs in a transaction left open on one pool connection
    while `call()` runs in a thread. Once `call` waits for a lock (or has finished
    without waiting), `hold` commits. Returns what `call` returned or raised."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(call())
        except Exception as exc:  # the caller's asserts show it
            outcome.append(exc)

    worker = threading.Thread(target=run)
    with pool.connection() as holder, holder.transaction():
        hold(holder)
        worker.start()
        _wait_until_blocked(observer, worker, timeout)
    worker.join(timeout)
    assert len(outcome) == 1, "the racing call did not finish"
    return outcome[0]


def _wait_until_blocked(observer: Conn, worker: threading.Thread, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    query = """SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock'"""
    while worker.is_alive() and time.monotonic() < deadline:
        row = observer.execute(query).fetchone()
        if row is not None and row[0] > 0:
            return
        time.sleep(0.01)
