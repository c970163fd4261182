"""`dal migrate` killed (SIGKILL) in the middle of a migration, then run again.

The kill comes while the migration is held at a known point by another session: a
transactional one waiting for a table lock, a non-transactional one (CREATE INDEX
CONCURRENTLY) waiting for an old snapshot to end. The killed run's server session
must not linger holding its locks, nothing half-done may be recorded as applied, and
the rerun must finish with `dal schema check` clean.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dal import migrate
from tests.owned_server import OwnedServer

pytestmark = pytest.mark.reliability

KILLED = "killed-migrate"  # the application_name the killed run's sessions carry


@pytest.fixture
def owned(tmp_path: Path) -> Iterator[OwnedServer]:
    # Each log line names its session's application: the killed run's are told apart.
    server = OwnedServer(tmp_path / "server", settings={"log_line_prefix": "%a: "}).init()
    server.start()
    yield server
    server.stop("immediate")


def _migrated_up_to(server: OwnedServer, last: str, folder: Path) -> None:
    """Apply the project's migrations up to and including `last`, as an older release."""
    folder.mkdir()
    for path in sorted(migrate.default_directory().glob("*.sql")):
        if path.name.split(".")[0] <= last:
            shutil.copy(path, folder)
    migrate.migrate(server.conninfo, directory=folder)


def _dal(server: OwnedServer, *args: str, app: str = "dal") -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "PG"))}
    url = f"postgresql://postgres@127.0.0.1:{server.port}/postgres"
    env |= {"DATABASE_URL": url, "PGAPPNAME": app}
    return subprocess.Popen(
        [sys.executable, "-m", "dal.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finished(process: subprocess.Popen[str]) -> tuple[int, str]:
    out, _ = process.communicate(timeout=120)
    return process.returncode, out


def _wait_for(admin: psycopg.Connection[Any], query: str, *, within: float = 30) -> float:
    """Poll until `query` returns true; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        row = admin.execute(query).fetchone()
        if row and row[0]:
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"still false after {within} s: {query}")


KILLED_SESSIONS_GONE = (
    f"SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = '{KILLED}'"
)


def _kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)  # reaped, its pipe read to the end and closed


def _ended_for_its_lost_client(server: OwnedServer) -> bool:
    """Whether the killed run's session ended because it found its client gone (the
    migration connection's client_connection_check_interval), not by running on until
    the statement failed or finished."""
    said = [line for line in (server.root / "log").read_text().splitlines()
            if line.startswith(f"{KILLED}: ")]  # fmt: skip
    # Left to run on, it would have ended later, in its own lock_timeout, then failed
    # to send that error to the client it had lost.
    return f"{KILLED}: FATAL:  connection to client lost" in said and not any(
        "canceling statement" in line or "could not send data" in line for line in said
    )


def _rerun_is_clean(server: OwnedServer) -> str:
    code, out = _finished(_dal(server, "migrate"))
    assert code == 0, out
    code, checked = _finished(_dal(server, "schema", "check"))
    assert code == 0, checked
    assert "matches" in checked
    return out


def test_killed_in_a_transactional_migration_leaves_nothing_and_reruns_clean(
    owned: OwnedServer, tmp_path: Path
) -> None:
    _migrated_up_to(owned, "0036_moods_partition_attach_locks", tmp_path / "older")
    with (
        psycopg.connect(owned.conninfo, autocommit=True) as admin,
        psycopg.connect(owned.conninfo) as blocker,
    ):
        # A long write transaction on tasks: 0037's foreign key to tasks must wait for it.
        blocker.execute("LOCK TABLE tasks IN ROW EXCLUSIVE MODE")
        run = _dal(owned, "migrate", app=KILLED)
        _wait_for(admin, "SELECT EXISTS (SELECT FROM pg_locks WHERE NOT granted"
                         " AND relation = 'tasks'::regclass)")  # fmt: skip
        _kill(run)
        # Its session notices the dead client within a second (the migration's
        # client_connection_check_interval) and rolls back, though the lock it waits
        # for is still held: no session of the killed run lingers with its locks.
        gone_after = _wait_for(admin, KILLED_SESSIONS_GONE)
        assert _ended_for_its_lost_client(owned)
        blocker.rollback()
        applied = {s.id for s in migrate.status(owned.conninfo) if s.applied}
        assert "0037_task_pending_dependencies" not in applied
        row = admin.execute("SELECT to_regclass('task_pending_dependencies')").fetchone()
        assert row == (None,)  # nothing of the half-run migration remains
    out = _rerun_is_clean(owned)
    assert "applying 0037_task_pending_dependencies" in out
    print(f"dal migrate killed in a transactional migration: its session was gone "
          f"{gone_after:.2f} s later; the rerun applied it, schema check clean")  # fmt: skip


def test_killed_in_a_concurrent_index_build_leaves_an_invalid_index_the_rerun_replaces(
    owned: OwnedServer, tmp_path: Path
) -> None:
    _migrated_up_to(owned, "0024_configuration", tmp_path / "older")
    index = "server_members_server_id_joined_at_idx"
    with (
        psycopg.connect(owned.conninfo, autocommit=True) as admin,
        psycopg.connect(owned.conninfo) as blocker,
    ):
        # An old snapshot: CREATE INDEX CONCURRENTLY waits for it before the index is valid.
        blocker.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        blocker.execute("SELECT count(*) FROM users")
        run = _dal(owned, "migrate", app=KILLED)
        _wait_for(admin, "SELECT EXISTS (SELECT FROM pg_stat_progress_create_index"
                         " WHERE phase LIKE 'waiting for old snapshots%')")  # fmt: skip
        _kill(run)
        gone_after = _wait_for(admin, KILLED_SESSIONS_GONE)
        assert _ended_for_its_lost_client(owned)
        valid = admin.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [index]
        ).fetchone()
        assert valid == (False,)  # the half-built index is left behind, INVALID
        applied = {s.id for s in migrate.status(owned.conninfo) if s.applied}
        assert "0025_server_members_join_order" not in applied
        blocker.rollback()
        out = _rerun_is_clean(owned)
        assert "applying 0025_server_members_join_order" in out
        valid = admin.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [index]
        ).fetchone()
        assert valid == (True,)  # dropped and built again by the rerun
    print(f"dal migrate killed in CREATE INDEX CONCURRENTLY: its session was gone "
          f"{gone_after:.2f} s later, the index INVALID; the rerun rebuilt it, schema "
          "check clean")  # fmt: skip
