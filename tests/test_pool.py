"""The pool, transactions, retries and prepared statements on a real server."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool

from dal import db, observe, users
from dal.config import Settings
from dal.db import Pool, open_pool, retry, transaction
from dal.errors import (
    ConcurrentUpdate,
    DalError,
    InvalidData,
    PoolExhausted,
    ReadOnlyServer,
    Unavailable,
)


def user_count(db: Any) -> int:
    return users.count(db)


def test_pool_sizes_follow_the_settings(db_url: str) -> None:
    settings = Settings.from_env({"DATABASE_POOL_SIZE": "3", "DATABASE_MAX_OVERFLOW": "2"})
    pool = open_pool(db_url, settings)
    try:
        assert (pool.min_size, pool.max_size) == (3, 5)
        held = [pool.getconn() for _ in range(5)]  # grows past min_size up to size + overflow
        assert pool.get_stats()["pool_size"] == 5
        for conn in held:
            pool.putconn(conn)
    finally:
        pool.close()


def test_pool_reconnects_after_the_server_drops_connections(pool: Pool, db_url: str) -> None:
    assert user_count(pool) == 0
    with psycopg.connect(db_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    assert user_count(pool) == 0  # the check replaced the dead connections


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The connections psycopg-pool's check (a round trip) was run on."""
    seen: list[Any] = []
    real = ConnectionPool.check_connection

    def counting(conn: Any) -> None:
        seen.append(conn)
        real(conn)

    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(counting))
    return seen


def test_a_connection_back_a_moment_ago_is_lent_without_a_round_trip(
    db_url: str, checks: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = open_pool(db_url, Settings(pool_size=1, max_overflow=0))
    try:
        user_count(pool)
        assert len(checks) == 1  # a connection the DAL has not used yet is checked
        user_count(pool)
        user_count(pool)
        assert len(checks) == 1
        monkeypatch.setattr(db, "RECENTLY_USED_S", 0.0)  # now every one is "long idle"
        user_count(pool)
        assert len(checks) == 2
    finally:
        pool.close()


def test_a_connection_the_server_ended_a_moment_ago_is_checked_and_replaced(
    db_url: str, checks: list[Any]
) -> None:
    pool = open_pool(db_url, Settings(pool_size=2, max_overflow=0))
    try:
        user_count(pool)
        with psycopg.connect(db_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'dal' AND datname = current_database()"
            )
        before = len(checks)
        for _ in range(3):  # however recent its last use, each dead one is found out
            assert user_count(pool) == 0
        assert len(checks) > before
    finally:
        pool.close()


def test_after_a_broken_connection_every_connection_is_checked_again(
    db_url: str, checks: list[Any]
) -> None:
    pool = open_pool(db_url, Settings(pool_size=2, max_overflow=0))
    try:
        healthy, doomed = db.borrow(pool), db.borrow(pool)
        db.hand_back(pool, healthy)
        checks.clear()  # (each was checked as it was first lent)
        db._check(healthy)
        assert healthy not in checks  # back a moment ago: lent without a round trip
        with psycopg.connect(db_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [doomed.info.backend_pid])
        with pytest.raises(psycopg.OperationalError):
            doomed.execute("SELECT 1")
        db.hand_back(pool, doomed)  # the DAL sees it come back broken
        db._check(healthy)
        assert healthy in checks  # its peer broke: it may be dead too
        assert user_count(pool) == 0
    finally:
        pool.close()


def test_transaction_commits_or_rolls_back(pool: Pool) -> None:
    with transaction(pool) as conn:
        users.create(conn, email="a@example.com", username="alice")
    with pytest.raises(InvalidData):  # noqa: PT012, SIM117 - the whole transaction is under test
        with transaction(pool) as conn:
            users.create(conn, email="b@example.com", username="bob")
            users.create(conn, email="bad", username="carol")
    assert user_count(pool) == 1  # bob went with the failed transaction


def test_nested_transaction_is_a_savepoint(pool: Pool) -> None:
    with transaction(pool) as conn:
        users.create(conn, email="a@example.com", username="alice")
        with pytest.raises(InvalidData), transaction(conn):
            users.create(conn, email="bad", username="bob")
        users.create(conn, email="c@example.com", username="carol")
    assert user_count(pool) == 2


def test_retry_repeats_a_serialization_failure(pool: Pool, db_url: str) -> None:
    alice = users.create(pool, email="a@example.com", username="alice")
    attempts: list[int] = []

    def rename(conn: psycopg.Connection[Any]) -> str:
        attempts.append(1)
        users.get(conn, alice.id)  # the snapshot is taken here
        if len(attempts) == 1:  # a concurrent writer commits in between
            with psycopg.connect(db_url, autocommit=True) as other:
                other.execute("UPDATE users SET display_name = 'Other' WHERE id = %s", [alice.id])
        return users.update(conn, alice.id, display_name="Mine").display_name or ""

    result = retry(pool, rename, isolation=psycopg.IsolationLevel.REPEATABLE_READ)
    assert result == "Mine"
    assert len(attempts) == 2
    assert users.get(pool, alice.id).display_name == "Mine"


def test_retry_gives_up_after_its_attempts(pool: Pool) -> None:
    attempts: list[int] = []

    def always_conflicts(conn: psycopg.Connection[Any]) -> None:
        attempts.append(1)
        raise ConcurrentUpdate("simulated conflict")

    with pytest.raises(ConcurrentUpdate):
        retry(pool, always_conflicts, attempts=3, base_delay=0.001)
    assert len(attempts) == 3


def test_retry_does_not_repeat_bad_input(pool: Pool) -> None:
    attempts: list[int] = []

    def bad(conn: psycopg.Connection[Any]) -> None:
        attempts.append(1)
        users.create(conn, email="bad", username="bob")

    with pytest.raises(InvalidData):
        retry(pool, bad)
    assert attempts == [1]


def test_retry_survives_a_dropped_connection(pool: Pool, db_url: str) -> None:
    attempts: list[int] = []

    def work(conn: psycopg.Connection[Any]) -> int:
        attempts.append(1)
        if len(attempts) == 1:
            with psycopg.connect(db_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", [conn.info.backend_pid])
        return user_count(conn)

    assert retry(pool, work, base_delay=0.001) == 0
    assert len(attempts) == 2


def test_retry_runs_again_work_whose_cut_off_commit_was_found_aborted(pool: Pool) -> None:
    attempts: list[int] = []

    def work(conn: psycopg.Connection[Any]) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            # A deferred trigger fires at COMMIT and ends this very backend before the
            # commit is written: the client sees the connection drop during COMMIT.
            conn.execute("CREATE TEMP TABLE commit_probe (x int)")
            conn.execute(
                "CREATE FUNCTION pg_temp.die() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NULL; END $$"
            )
            conn.execute(
                "CREATE CONSTRAINT TRIGGER die_at_commit AFTER INSERT ON commit_probe "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pg_temp.die()"
            )
            conn.execute("INSERT INTO commit_probe VALUES (1)")
        users.create(conn, email="once@example.com", username="once")

    retry(pool, work, base_delay=0.001)
    assert attempts == [1, 1]  # asked after the cut: aborted, so safe to run again
    assert user_count(pool) == 1


def prepared_statements(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(("threshold", "expect_prepared"), [(0, True), (None, False)])
def test_prepared_statements_can_be_switched_off(
    db_url: str, threshold: int | None, expect_prepared: bool
) -> None:
    pool = open_pool(db_url, Settings(pool_size=1, max_overflow=0, prepare_threshold=threshold))
    try:
        with pool.connection() as conn:
            for _ in range(3):
                user_count(conn)
            assert (prepared_statements(conn) > 0) is expect_prepared
    finally:
        pool.close()


def test_unreachable_server_is_one_clear_error() -> None:
    url = "postgresql://app:hunter2@127.0.0.1:1/nowhere"
    with pytest.raises(Unavailable) as caught:
        open_pool(url, Settings(pool_size=1, max_overflow=0, pool_timeout=1.0))
    assert "127.0.0.1:1/nowhere" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_max_waiting_rejects_excess_requests(db_url: str) -> None:
    settings = Settings(pool_size=1, max_overflow=0, pool_timeout=2.0, pool_max_waiting=1)
    pool = open_pool(db_url, settings)
    waiting = threading.Event()
    try:
        with pool.connection():

            def wait_for_a_connection() -> None:
                waiting.set()
                user_count(pool)

            waiter = threading.Thread(target=wait_for_a_connection)
            waiter.start()
            waiting.wait(5)
            deadline = time.monotonic() + 5
            while pool.get_stats().get("requests_waiting", 0) < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            with pytest.raises(PoolExhausted, match="max_waiting"):
                user_count(pool)
        waiter.join(5)
    finally:
        pool.close()


def test_a_call_given_the_pool_runs_in_autocommit_and_hands_the_connection_back_as_lent(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No BEGIN and COMMIT around one statement; the user's own block still gets a
    connection outside autocommit, so its statements share one transaction."""
    pool = open_pool(db_url, Settings(pool_size=1, max_overflow=0))
    seen: list[tuple[bool, TransactionStatus]] = []
    real = observe.span

    def spy(query: Any, conn: psycopg.Connection[Any]) -> Any:
        seen.append((conn.autocommit, conn.info.transaction_status))
        return real(query, conn)

    monkeypatch.setattr(observe, "span", spy)
    try:
        users.create(pool, email="pooled@example.com", username="pooled")
        assert user_count(pool) == 1
        assert seen == [(True, TransactionStatus.IDLE)] * 2
        with pool.connection() as conn:
            assert conn.autocommit is False
            conn.execute("DELETE FROM users")
            assert conn.info.transaction_status == TransactionStatus.INTRANS
            conn.rollback()
        with transaction(pool) as conn:
            users.create(conn, email="in_tx@example.com", username="in_tx")
            assert conn.info.transaction_status == TransactionStatus.INTRANS
        assert user_count(pool) == 2
        with pool.connection() as conn:
            assert conn.autocommit is False
    finally:
        pool.close()


def _prepared(conn: psycopg.Connection[Any]) -> int:
    with psycopg.ClientCursor(conn) as cursor:  # a simple query: itself never prepared
        found = cursor.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
    assert found is not None
    return int(found[0])


def test_a_refused_call_in_autocommit_keeps_the_prepared_statements(conn: Any) -> None:
    """The seam's docstring: a call given the pool fails alone, with no ROLLBACK, so
    psycopg keeps its prepared statements; a failed transaction() makes it drop them."""
    someone = users.create(conn, email="kept@example.com", username="kept")
    for _ in range(3):
        users.get(conn, someone.id)
    before = _prepared(conn)
    assert before > 0
    with pytest.raises(InvalidData):
        users.create(conn, email="not an email", username="refused")
    assert _prepared(conn) >= before  # (the INSERT, run twice now, is prepared too)
    with pytest.raises(InvalidData), transaction(conn):
        users.create(conn, email="also not an email", username="refused")
    assert _prepared(conn) == 0


def test_a_connection_goes_back_to_the_pool_as_it_was_lent(db_url: str) -> None:
    """A snapshot's REPEATABLE READ READ ONLY, or a borrower's own isolation, does not
    stay on the connection for the next call."""
    from dal.db import snapshot

    pool = open_pool(db_url, Settings(pool_size=1, max_overflow=0))
    try:
        with snapshot(pool) as conn:
            assert conn.execute("SHOW transaction_read_only").fetchone() == ("on",)
        borrowed = db.borrow(pool)
        borrowed.isolation_level = psycopg.IsolationLevel.SERIALIZABLE
        db.hand_back(pool, borrowed)
        with pool.connection() as conn:
            assert (conn.isolation_level, conn.read_only, conn.autocommit) == (None, None, False)
            assert conn.execute("SHOW transaction_isolation").fetchone() == ("read committed",)
    finally:
        pool.close()


def test_a_write_inside_the_callers_read_only_snapshot_is_no_read_only_server(
    pool: Pool,
) -> None:
    with pytest.raises(DalError) as refused, db.snapshot(pool) as conn:
        users.create(conn, email="ro@example.com", username="ro")
    assert not isinstance(refused.value, ReadOnlyServer)  # the server takes writes
    assert "read-only transaction" in str(refused.value)
    assert user_count(pool) == 0


def test_the_callers_own_read_only_transaction_is_no_read_only_server(pool: Pool) -> None:
    with transaction(pool) as conn:
        conn.execute("SET TRANSACTION READ ONLY")
        with pytest.raises(DalError) as refused, transaction(conn):  # (a savepoint)
            users.create(conn, email="ro2@example.com", username="ro2")
    assert not isinstance(refused.value, ReadOnlyServer)
    assert user_count(pool) == 0
