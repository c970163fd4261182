"""`dal.health`: the probe's ping and the full report, against a real server."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

import dal
from dal import health, migrate
from dal.config import Settings
from dal.errors import Unavailable
from tests.test_cli import _as_url, run


@pytest.fixture
def small_pool(db_url: str) -> Iterator[dal.db.Pool]:
    pool = dal.open_pool(db_url, Settings(pool_size=1, max_overflow=1))
    yield pool
    pool.close()


def test_ping_is_one_round_trip_reading_no_table(conn: psycopg.Connection[Any]) -> None:
    sent: list[str] = []

    class Counting(psycopg.Cursor[Any]):
        def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
            sent.append(str(query))
            return super().execute(query, *args, **kwargs)

    conn.cursor_factory = Counting
    answer = health.ping(conn)
    assert len(sent) == 1
    assert "FROM" not in sent[0].upper()  # no table, no catalog scan
    assert answer.server_version[:2].isdigit()
    assert answer.in_recovery is False
    assert answer.latency_ms > 0


def test_ping_of_an_unreachable_server_is_unavailable(db_url: str) -> None:
    pool = dal.open_pool(db_url, Settings(pool_size=1, max_overflow=0, pool_timeout=1))
    pool.close()
    with pytest.raises(Unavailable):
        health.ping(pool)


def test_a_migrated_database_is_healthy(small_pool: dal.db.Pool, db_url: str) -> None:
    report = health.check(small_pool, db_url)
    assert report.healthy, report.problems
    assert report.migration_head == report.code_head is not None
    assert report.pending_migrations == [] and report.edited_migrations == []
    assert "users" in report.estimated_rows
    assert report.lines()[0] == "status:     healthy"


def test_pending_migrations_make_it_unhealthy(empty_db_url: str, tmp_path: Path) -> None:
    older = tmp_path / "older"
    older.mkdir()
    for path in migrate.default_directory().glob("0001_*"):
        shutil.copy(path, older)
    migrate.migrate(empty_db_url, directory=older)
    pool = dal.open_pool(empty_db_url, Settings(pool_size=1, max_overflow=0))
    try:
        report = health.check(pool, empty_db_url)
    finally:
        pool.close()
    assert not report.healthy
    assert report.migration_head == "0001_users"
    assert report.pending_migrations and report.pending_migrations[-1] == report.code_head
    assert "not applied" in report.problems[0]
    done = run("health", env={"DATABASE_URL": _as_url(empty_db_url)})
    assert done.returncode == 1
    assert done.stdout.startswith("status:     UNHEALTHY")


def test_long_queries_and_lock_waits_are_reported(small_pool: dal.db.Pool, db_url: str) -> None:
    with psycopg.connect(db_url) as holder, psycopg.connect(db_url, autocommit=True) as sleeper:
        holder.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        holder_pid = holder.info.backend_pid

        def sleep() -> None:
            sleeper.execute("SELECT pg_sleep(3)")

        def wait_for_the_lock() -> None:
            with psycopg.connect(db_url, autocommit=True) as waiter:
                waiter.execute("SELECT count(*) FROM users")

        threads = [threading.Thread(target=sleep), threading.Thread(target=wait_for_the_lock)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        report = health.check(small_pool, db_url, long_running_s=0.5)
        holder.rollback()
        for thread in threads:
            thread.join(timeout=10)
    assert any("pg_sleep" in s.query for s in report.long_running)
    assert [s.blocked_by for s in report.waiting_for_locks] == [[holder_pid]]
    assert report.healthy  # warnings, not problems
    assert any("waiting" in w for w in report.warnings)


def test_the_cli_prints_json_and_pings(db_url: str) -> None:
    env = {"DATABASE_URL": _as_url(db_url)}
    done = run("health", "--json", env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["healthy"] is True and report["migration_head"] == report["code_head"]
    assert {"pool", "long_running", "waiting_for_locks", "estimated_rows"} <= set(report)
    ping = run("health", "--ping", "--json", env=env)
    assert ping.returncode == 0, ping.stderr
    assert set(json.loads(ping.stdout)) == {"latency_ms", "server_version", "in_recovery"}
