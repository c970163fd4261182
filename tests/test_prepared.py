"""Named queries run through dal.prepared: prepared after the threshold, robust to
what drops or bypasses prepared statements, the same answers as a cursor."""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.pq import TransactionStatus

from dal import prepared, queries, tasks, users
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


def names_of(conn: Conn, statement: str) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM pg_prepared_statements WHERE statement = %s", [statement]
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
    for _ in range(4):  # two unnamed (the first after a BEGIN), then prepared
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
    assert users.get(dal_conn, user.id) == user  # after a BEGIN, prepared again
    assert len(ours(dal_conn)) == 1


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
    """A NULL has no type, so a call with one is prepared apart from one with a
    timestamptz; both give the right rows."""
    owner = factories.user(conn)
    task = tasks.create(conn, owner_id=owner.id, title="Due")
    due = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    update = queries.get("tasks.update").raw
    before = ours(conn).count(update)
    assert tasks.update(conn, task.id, due_at=due).due_at == due
    assert tasks.update(conn, task.id, due_at=None).due_at is None
    assert ours(conn).count(update) == before + 2


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


def test_a_statement_the_server_already_holds_is_taken_as_prepared(conn: Conn) -> None:
    """Should the DAL lose track of a statement it prepared (an interrupt between
    PREPARE and its note of it), preparing it again is not an error."""
    user = factories.user(conn)
    users.get(conn, user.id)
    prepared._adopted[conn].prepared.clear()
    assert users.get(conn, user.id) == user
    prepared.adopt(conn, 0)  # a second adoption keeps what the first knew
    assert prepared._adopted[conn].prepared


def test_notifications_read_during_a_call_reach_the_handlers(conn: Conn, db_url: str) -> None:
    heard: list[str] = []
    conn.add_notify_handler(lambda notify: heard.append(notify.payload))
    conn.execute("LISTEN dal_test")
    with psycopg.connect(db_url, autocommit=True) as other:
        other.execute("NOTIFY dal_test, 'hello'")
    users.count(conn)
    users.count(conn)
    assert heard == ["hello"]


def test_the_begin_carries_the_connections_transaction_characteristics(dal_conn: Conn) -> None:
    dal_conn.isolation_level = psycopg.IsolationLevel.SERIALIZABLE
    dal_conn.read_only = True
    for _ in range(3):  # unnamed twice, then prepared: each the first of its transaction
        assert users.count(dal_conn) == 0
        settings = (
            "current_setting('transaction_isolation'), current_setting('transaction_read_only')"
        )
        shown = dal_conn.execute(f"SELECT {settings}").fetchone()
        assert shown == ("serializable", "on")
        dal_conn.rollback()
    assert ours(dal_conn) == [queries.get("users.count_all").raw]


def test_a_column_whose_type_changed_gets_a_new_statement(conn: Conn, dal_conn: Conn) -> None:
    """A migration that alters a column a prepared query returns: inside a
    transaction that statement fails the transaction, and the query gets a new
    statement, which the next transaction and every other connection prepare."""
    user = factories.user(conn)
    dal_conn.commit()
    for _ in range(3):
        users.get(conn, user.id)
        users.get(dal_conn, user.id)
    dal_conn.commit()
    conn.execute("ALTER TABLE users ALTER COLUMN display_name TYPE varchar(100)")
    users.count(dal_conn)
    with pytest.raises(DalError, match="result type"):
        users.get(dal_conn, user.id)
    dal_conn.rollback()
    users.count(dal_conn)
    assert users.get(dal_conn, user.id) == user
    assert users.get(conn, user.id) == user  # the new name reaches every connection


def test_under_gevent_a_call_waits_through_psycopg(
    conn: Conn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gevent's patched select is what psycopg waits on cooperatively; a blocking
    libpq call would stall every greenlet, so the DAL leaves it to the cursor."""
    monkey = types.ModuleType("gevent.monkey")
    monkey.is_module_patched = lambda name: name == "select"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "gevent.monkey", monkey)
    user = factories.user(conn)
    assert prepared.run(conn, queries.get("users.count_all"), []) is None
    assert users.get(conn, user.id) == user


def test_after_a_column_type_changed_a_call_outside_a_transaction_succeeds(conn: Conn) -> None:
    user = factories.user(conn)
    for _ in range(2):
        users.get(conn, user.id)
    before = names_of(conn, queries.get("users.get_by_id").raw)
    conn.execute("ALTER TABLE users ALTER COLUMN display_name TYPE varchar(100)")
    assert users.get(conn, user.id) == user
    after = names_of(conn, queries.get("users.get_by_id").raw)
    assert len(before) == len(after) == 1
    assert before != after  # the stale statement deallocated, a new one in its place


def test_one_statement_deallocated_costs_no_transaction(db_url: str) -> None:
    """A call that began its own transaction and found its statement gone rolls that
    back, reads back what the server holds, prepares and runs: the other statements
    are known to be there, so none of them fails a PREPARE inside a transaction."""
    with open_connection(db_url, Settings(prepare_threshold=0)) as conn:
        user = factories.user(conn)
        assert users.count(conn) == 1
        assert users.get(conn, user.id) == user
        conn.commit()
        [name] = names_of(conn, queries.get("users.get_by_id").raw)
        conn.execute(sql.SQL("DEALLOCATE {}").format(sql.Identifier(name)))
        conn.commit()
        assert users.get(conn, user.id) == user
        assert users.count(conn) == 1
        assert conn.info.transaction_status == TransactionStatus.INTRANS
        conn.commit()
        assert len(ours(conn)) == 3  # users.insert, users.count_all, users.get_by_id
