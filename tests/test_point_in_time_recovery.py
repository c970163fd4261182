"""Point-in-time recovery, as docs/OPERATIONS.md tells it, on real server processes:
WAL archiving and a base backup, an accidental DELETE, recovery to a time before it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dal import users
from tests.owned_server import OwnedServer

pytestmark = pytest.mark.reliability


@pytest.fixture
def archived(tmp_path: Path) -> Iterator[tuple[OwnedServer, Path]]:
    """A server archiving every WAL segment into its own directory."""
    archive = tmp_path / "archive"
    server = OwnedServer(tmp_path / "primary", settings={"wal_level": "replica",
                                                        "archive_mode": "on"})  # fmt: skip
    server.own(archive)
    server.settings["archive_command"] = f"test ! -f {archive}/%f && cp %p {archive}/%f"
    server.init()
    server.start()
    yield server, archive
    server.stop("immediate")


def _archived(conn: psycopg.Connection[Any], segment: str, within: float = 30) -> None:
    """Wait until the archiver has copied `segment` (pg_stat_archiver)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        row = conn.execute("SELECT last_archived_wal FROM pg_stat_archiver").fetchone()
        if row and row[0] and row[0] >= segment:
            return
        time.sleep(0.1)
    raise AssertionError(f"segment {segment} was not archived within {within} s")


def test_recovery_to_a_time_before_an_accidental_delete_brings_the_rows_back(
    archived: tuple[OwnedServer, Path], tmp_path: Path
) -> None:
    primary, archive = archived
    from dal import migrate

    migrate.migrate(primary.conninfo)
    with psycopg.connect(primary.conninfo, autocommit=True) as conn:
        for n in range(20):
            users.create(conn, email=f"early{n}@example.com", username=f"early{n}")
        base = OwnedServer(tmp_path / "restored")
        base.base_backup_of(primary)  # step 2: the base backup
        for n in range(20):  # written after the base backup: only the WAL has them
            users.create(conn, email=f"late{n}@example.com", username=f"late{n}")
        row = conn.execute("SELECT clock_timestamp()").fetchone()
        assert row is not None
        before_the_accident = row[0]
        time.sleep(0.2)
        conn.execute("DELETE FROM users")  # step 3: the accident
        row = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()
        assert row is not None
        _archived(conn, str(row[0]))
    primary.stop("fast")

    # Step 4: recover the base backup, replaying the archive up to the chosen time.
    base.configure(
        restore_command=f"cp {archive}/%f %p",
        recovery_target_time=before_the_accident.isoformat(),
        recovery_target_action="promote",
        archive_mode="off",
    )
    (base.data / "recovery.signal").touch()
    base.start()
    try:
        deadline = time.monotonic() + 60
        with psycopg.connect(base.conninfo, autocommit=True) as conn:
            while conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,):
                assert time.monotonic() < deadline, "recovery did not finish"
                time.sleep(0.1)
            names = {r[0] for r in conn.execute("SELECT username FROM users").fetchall()}
        assert names == {f"early{n}" for n in range(20)} | {f"late{n}" for n in range(20)}
        assert not (base.data / "recovery.signal").exists()  # promoted: it takes writes
    finally:
        base.stop("immediate")
