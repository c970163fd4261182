"""The cursor the seam keeps per named query on the DAL's connections: reused, never
shared by two calls at once, dropped after a large result or an error."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from dal import aio, queries, tasks, users
from dal.aio.db import DalConnection as AsyncDalConnection
from dal.config import Settings
from dal.db import DalConnection, open_connection
from dal.errors import InvalidData
from dal.queries import SPARE_ROWS
from dal.query_files import Query
from tests.factories import project, user


def test_a_query_runs_again_on_the_cursor_it_ran_on(conn: Any) -> None:
    assert isinstance(conn, DalConnection)
    someone = user(conn)
    users.get(conn, someone.id)
    key = ("users.get_by_id", users.User)
    kept = conn.spare_cursors[key]
    assert users.get(conn, someone.id) == someone
    assert conn.spare_cursors[key] is kept
    assert users.get_by_email(conn, someone.email) == someone  # another query, its own
    assert conn.spare_cursors[("users.get_by_email", users.User)] is not kept


def test_a_cursor_that_held_a_large_result_is_not_kept(conn: Any) -> None:
    owner = user(conn)
    home = project(conn, owner)
    for n in range(SPARE_ROWS + 1):
        tasks.create(conn, owner_id=owner.id, project_id=home.id, title=f"task {n}")
    conn.spare_cursors.clear()
    assert len(tasks.list_for_project(conn, home.id)) == SPARE_ROWS + 1
    assert not any(name.startswith("tasks.") for name, _row in conn.spare_cursors)


def test_a_cursor_whose_statement_failed_is_not_kept(conn: Any) -> None:
    conn.spare_cursors.clear()
    with pytest.raises(InvalidData):
        users.create(conn, email="not an email", username="nobody")
    assert not conn.spare_cursors


@dataclass(frozen=True)
class Slept:
    pg_sleep: Any


def test_a_cursor_in_use_is_not_lent_to_a_second_call(conn: Any) -> None:
    """While a call runs, its query's cursor is out of the connection's spares: a
    concurrent call of the same query makes a cursor of its own."""
    slow = Query.parse("test.slow", "", "SELECT pg_sleep(%(s)s)", "test")
    key = (slow.name, Slept)
    queries.fetch_all(conn, slow, {"s": 0}, Slept)
    kept = conn.spare_cursors[key]
    running = threading.Thread(target=queries.fetch_all, args=(conn, slow, {"s": 0.5}, Slept))
    running.start()
    try:
        time.sleep(0.2)  # the statement is on the server now
        assert key not in conn.spare_cursors
    finally:
        running.join()
    assert conn.spare_cursors[key] is kept


def test_threads_sharing_a_connection_each_get_their_own_rows(conn: Any) -> None:
    people = [user(conn) for _ in range(8)]
    wrong: list[Any] = []

    def look_up(person: users.User) -> None:
        for _ in range(100):
            found = users.get(conn, person.id)
            if found.id != person.id:
                wrong.append((person.id, found.id))

    threads = [threading.Thread(target=look_up, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_tasks_sharing_an_async_connection_each_get_their_own_rows(conn: Any, db_url: str) -> None:
    people = [user(conn) for _ in range(8)]

    async def main() -> list[Any]:
        aconn = await aio.open_connection(db_url, Settings(prepare_threshold=0), autocommit=True)
        assert isinstance(aconn, AsyncDalConnection)
        try:

            async def look_up(person: users.User) -> list[Any]:
                return [(person.id, (await aio.users.get(aconn, person.id)).id) for _ in range(50)]

            done = await asyncio.gather(*(look_up(person) for person in people))
        finally:
            await aconn.close()
        return [pair for pairs in done for pair in pairs if pair[0] != pair[1]]

    assert asyncio.run(main()) == []


def test_a_plain_psycopg_connection_gets_a_new_cursor_each_call(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as plain:
        assert not isinstance(plain, DalConnection)
        assert users.count(plain) >= 0
    with open_connection(db_url, Settings()) as own:
        assert isinstance(own, DalConnection)
