"""Named queries run through dal.prepared: prepared after the threshold, robust to
what drops or bypasses prepared statements, the same answers as a cursor."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.pq import TransactionStatus

from dal import prepared, queries, users
from dal.config import Settings
from dal.db import open_connection
from dal.errors import Conflict, ConnectionLost, DalError
from tests import factories

Conn = psycopg.Connection[Any]


def ours(conn: Conn) -> list[str]:
    """The statements the DAL has prepared on this connection's session."""
    rows = conn.execute(
        "SELECT statement FROM pg_prepared_statements WHERE name LIKE '\\_dal\\_%' ORDER BY name"
    ).fetchall()
    return [row[0] for row in rows]


@pytest.fixture
def dal_conn(db_url: str) -> Iterator[Conn]:
    """A DAL connection outside autocommit, preparing after two runs."""
    with open_connection(db_url, Settings(prepare_threshold=2)) as conn:
        yield conn


def test_a_query_is_prepared_after_the_threshold_and_only_then(db_url: str) -> None:
    with open_connection(db_url, Settings(prepare_threshold=2), autocommit=True) as conn:
        user = factories.user(conn)
        assert users.get(conn, user.id) == user
        assert users.get(conn, user.id) == user
        assert ours(conn) == []
        assert users.get(conn, user.id) == user  # the third run prepares
        assert ours(conn) == [queries.get("users.get_by_id").raw]
        assert users.get(conn, user.id) == user


def test_threshold_none_never_prepares_and_gives_the_same_rows(db_url: str) -> None:
    with open_connection(db_url, Settings(prepare_threshold=None), autocommit=True) as conn:
        user = factories.user(conn)
        for _ in range(10):
            assert users.get_by_email(conn, user.email.upper()) == user
        rows = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
        assert rows == (0,)


def test_psycopg_does_not_prepare_on_a_dal_connection(dal_conn: Conn) -> None:
    """psycopg answers a ROLLBACK with DEALLOCATE ALL when it has prepared anything:
    on a DAL connection it never has, so a rollback keeps the DAL's statements."""
    assert dal_conn.prepare_threshold is None
    user = factories.user(dal_conn)
    dal_conn.commit()
    for _ in range(4):  # BEGIN and the first through a cursor, two unnamed, then prepared
        users.get(dal_conn, user.id)
    for _ in range(6):
        dal_conn.execute("SELECT 1 FROM users WHERE id = %s", [user.id])
    dal_conn.rollback()
    assert len(ours(dal_conn)) == 1
    dal_conn.rollback()
    # In the next transaction, the call after BEGIN runs the prepared statement.
    assert users.get(dal_conn, user.id) == user
    assert users.get(dal_conn, user.id) == user
    assert dal_conn.info.transaction_status == TransactionStatus.INTRANS


def test_a_call_on_an_idle_connection_outside_autocommit_opens_the_transaction(
    dal_conn: Conn,
) -> None:
    for _ in range(3):
        users.count(dal_conn)
        dal_conn.rollback()
    before = dal_conn.info.transaction_status
    factories.user(dal_conn, "rolled_back")
    assert (before, dal_conn.info.transaction_status) == (
        TransactionStatus.IDLE,
        TransactionStatus.INTRANS,
    )
    dal_conn.rollback()
    assert users.count(dal_conn) == 0


def test_deallocate_all_outside_a_transaction_prepares_again(conn: Conn) -> None:
    user = factories.user(conn)
    users.get(conn, user.id)
    conn.execute("DEALLOCATE ALL")
    assert users.get(conn, user.id) == user
    assert queries.get("users.get_by_id").raw in ours(conn)


def test_deallocate_all_inside_a_transaction_fails_that_transaction_only(dal_conn: Conn) -> None:
    user = factories.user(dal_conn)
    dal_conn.commit()
    for _ in range(4):
        users.get(dal_conn, user.id)
    assert len(ours(dal_conn)) == 1
    dal_conn.execute("DEALLOCATE ALL")
    with pytest.raises(DalError, match="does not exist"):
        users.get(dal_conn, user.id)
    dal_conn.rollback()
    users.count(dal_conn)  # BEGIN, through a cursor
    assert users.get(dal_conn, user.id) == user  # prepared again


def test_a_constraint_violation_is_typed_and_writes_nothing(conn: Conn) -> None:
    factories.user(conn, "taken")
    for _ in range(2):  # unnamed, then prepared
        with pytest.raises(Conflict) as caught:
            users.create(conn, email="TAKEN@example.com", username="other")
        assert caught.value.constraint == "users_email_lower_key"
    assert users.count(conn) == 1


def test_a_dropped_connection_is_connection_lost(conn: Conn, db_url: str) -> None:
    user = factories.user(conn)
    users.get(conn, user.id)
    with psycopg.connect(db_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [conn.info.backend_pid])
    with pytest.raises(ConnectionLost):
        users.get(conn, user.id)
    assert conn.broken


def test_pipeline_mode_falls_back_to_a_cursor(conn: Conn) -> None:
    user = factories.user(conn)
    with conn.pipeline():
        assert users.get(conn, user.id) == user
        assert users.count(conn) == 1


def test_a_connection_the_dal_did_not_open_keeps_psycopg_preparing(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as plain:
        user = factories.user(plain)
        for _ in range(7):
            assert users.get(plain, user.id) == user
        assert ours(plain) == []
        names = plain.execute("SELECT name FROM pg_prepared_statements").fetchall()
        assert names and all(name.startswith("_pg3_") for (name,) in names)


def test_arguments_of_other_types_get_their_own_statement(conn: Conn) -> None:
    """A NULL has no type, so a call with one is prepared apart from one without."""
    user = factories.user(conn)
    with_name = users.update(conn, user.id, display_name="Ada")
    without = users.update(conn, user.id, display_name=None)
    assert (with_name.display_name, without.display_name) == ("Ada", None)
    assert len(ours(conn)) >= 2


def test_threads_sharing_a_connection_each_get_their_own_rows(conn: Conn) -> None:
    people = [factories.user(conn) for _ in range(4)]
    wrong: list[str] = []

    def look_up(person: users.User) -> None:
        for _ in range(50):
            if users.get(conn, person.id) != person:
                wrong.append(person.username)

    threads = [threading.Thread(target=look_up, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert wrong == []
    assert ours(conn).count(queries.get("users.get_by_id").raw) == 1


def test_statements_per_connection_are_capped(conn: Conn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prepared, "MAX_PER_CONNECTION", 1)
    user = factories.user(conn)  # users.insert takes the one slot
    assert users.get(conn, user.id) == user  # runs unnamed past the cap
    assert ours(conn) == [queries.get("users.insert").raw]
