"""Faults injected into a real server the tests own (tests/owned_server.py): restarts,
kills, read-only servers and a failover to a promoted standby.

Each test is bounded in seconds. What was injected and what was observed is written to
docs/RELIABILITY.md, kept in step with these tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

import dal
from dal import migrate, users
from dal.config import Settings
from dal.errors import ReadOnlyServer
from tests.owned_server import OwnedServer

pytestmark = pytest.mark.reliability


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnedServer]:
    owned = OwnedServer(tmp_path_factory.mktemp("owned")).init()
    owned.start()
    migrate.migrate(owned.conninfo)
    yield owned
    owned.stop("immediate")


def _calls_after(pool: Any, count: int) -> list[float]:
    """`count` DAL calls in a row; the seconds each took."""
    took = []
    for _ in range(count):
        started = time.monotonic()
        users.count(pool)
        took.append(time.monotonic() - started)
    return took


@pytest.mark.parametrize("how", ["restart", "kill -9", "terminate"])
def test_a_pool_whose_idle_connections_all_died_serves_the_next_call(
    server: OwnedServer, how: str
) -> None:
    # The documented defaults: 10 connections, 30 s pool timeout.
    pool = dal.open_pool(server.conninfo, Settings())
    try:
        users.count(pool)
        time.sleep(1.2)  # every connection idle, none lent a moment ago
        if how == "restart":
            server.restart()
        elif how == "kill -9":
            server.kill9()
            server.start()  # crash recovery, then accepting connections again
        else:
            with psycopg.connect(server.conninfo, autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = 'dal' AND pid <> pg_backend_pid()"
                )
        # The next call, and every one after it, succeeds: no pool timeout, no error.
        took = _calls_after(pool, 20)
        assert pool.get_stats()["pool_size"] >= 1
        first, later = took[0] * 1000, max(took[1:]) * 1000
        print(f"{how}: first call {first:.0f} ms, slowest later {later:.0f} ms")
    finally:
        pool.close()


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[OwnedServer, OwnedServer]]:
    """A primary with the DAL's schema and a streaming standby of it."""
    primary = OwnedServer(tmp_path / "primary").init()
    primary.start()
    migrate.migrate(primary.conninfo)
    standby = OwnedServer(tmp_path / "standby").standby_of(primary)
    standby.start()
    yield primary, standby
    standby.stop("immediate")
    primary.stop("immediate")


def _two_hosts(first: OwnedServer, second: OwnedServer) -> str:
    return (
        f"postgresql://postgres@127.0.0.1:{first.port},127.0.0.1:{second.port}/postgres"
        "?target_session_attrs=read-write"
    )


def test_a_write_to_a_standby_is_read_only_server(pair: tuple[OwnedServer, OwnedServer]) -> None:
    _, standby = pair
    with dal.open_connection(standby.conninfo, Settings(), autocommit=True) as conn:
        with pytest.raises(ReadOnlyServer) as refused:
            users.create(conn, email="w@example.com", username="w")
        assert refused.value.sqlstate == "25006"
        assert users.count(conn) == 0  # reads still work there


def test_the_pool_follows_a_failover_to_the_promoted_standby(
    pair: tuple[OwnedServer, OwnedServer],
) -> None:
    primary, standby = pair
    # The standby is listed first: target_session_attrs=read-write skips it.
    pool = dal.open_pool(_two_hosts(standby, primary), Settings(pool_size=4))
    try:
        users.create(pool, email="before@example.com", username="before")
        # The old primary turns read-only (as a demoted primary does), and the
        # standby is promoted: the pool's connections still point at the old one.
        with psycopg.connect(primary.conninfo, autocommit=True) as admin:
            admin.execute("ALTER SYSTEM SET default_transaction_read_only = on")
            admin.execute("SELECT pg_reload_conf()")
        time.sleep(0.3)  # the backends read the reloaded setting
        standby.promote()
        with pytest.raises(ReadOnlyServer):
            users.create(pool, email="refused@example.com", username="refused")

        def work(conn: Any) -> Any:
            return users.create(conn, email="after@example.com", username="after")

        made = dal.retry(pool, work, transient=(ReadOnlyServer,), base_delay=0.05)
        with psycopg.connect(standby.conninfo) as new_primary:
            rows = new_primary.execute("SELECT username FROM users ORDER BY 1").fetchall()
        assert rows == [("after",), ("before",)]  # on the new primary; the refused one nowhere
        assert made.username == "after"
        assert users.count(pool) == 2  # later calls go there too
    finally:
        pool.close()


def test_kill_9_under_32_threads_loses_no_acknowledged_write(server: OwnedServer) -> None:
    pool = dal.open_pool(server.conninfo, Settings(pool_size=8, max_overflow=8, pool_timeout=20))
    acknowledged: list[str] = []
    failures: dict[str, int] = {}
    stop = threading.Event()
    lock = threading.Lock()
    first_after_restart: list[float] = []
    restarted_at: list[float] = []

    def worker(n: int) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            name = f"w{n}x{i}"
            try:
                if i % 3 == 0:
                    users.count(pool)  # a read among the writes
                    continue
                users.create(pool, email=f"{name}@example.com", username=name)
            except dal.DalError as exc:  # refused while the server is down: not acknowledged
                with lock:
                    failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
                time.sleep(0.05)
                continue
            with lock:
                acknowledged.append(name)
                if restarted_at and not first_after_restart:
                    first_after_restart.append(time.monotonic() - restarted_at[0])

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(32)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        before_kill = len(acknowledged)
        server.kill9()
        server.start()
        restarted_at.append(time.monotonic())
        time.sleep(1.5)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert not [t for t in threads if t.is_alive()]  # no thread hung
        with psycopg.connect(server.conninfo) as check:
            saved = {row[0] for row in check.execute("SELECT username FROM users").fetchall()}
        missing = [name for name in acknowledged if name not in saved]
        assert missing == []  # every acknowledged write survived the kill
        assert before_kill > 0 and len(acknowledged) > before_kill  # writes went on after it
        assert first_after_restart
        print(
            f"kill -9 under 32 threads: {len(acknowledged)} acknowledged writes, 0 lost; "
            f"refused while down: {failures}; first write {first_after_restart[0]:.2f} s "
            "after the server accepted connections again"
        )
    finally:
        stop.set()
        pool.close()
