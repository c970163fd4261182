"""`dal backup` and `dal restore`: a round trip with every table holding rows, verified."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dal import backup, seed
from dal.errors import DalError
from tests.test_cli import _as_url, run


@pytest.fixture
def seeded(conn: psycopg.Connection[Any]) -> dict[str, int]:
    return seed.seed(conn, "small", progress=False)


def test_a_round_trip_restores_every_row(
    seeded: dict[str, int], db_url: str, empty_db_url: str, tmp_path: Path
) -> None:
    archive = tmp_path / "app.dump"
    made = backup.backup(db_url, archive)
    assert archive.stat().st_size > 0
    assert made.migration_head is not None and made.checksums
    for table, count in seeded.items():  # every table of the seed, counted exactly
        # A partitioned table's rows are its partitions' (moods_y2026m12, moods_default).
        parts = sum(n for t, n in made.row_counts.items() if t.startswith(f"{table}_"))
        assert (made.row_counts[table] or parts) == count > 0, table
    assert backup.restore(empty_db_url, archive) == []
    with psycopg.connect(empty_db_url) as restored:
        row = restored.execute("SELECT count(*) FROM tasks").fetchone()
        assert row == (seeded["tasks"],)
        forced = restored.execute(
            "SELECT relforcerowsecurity FROM pg_class WHERE relname = 'tasks'"
        ).fetchone()
        assert forced == (True,)  # row-level security came back with the tables


def test_verify_names_what_differs(
    seeded: dict[str, int], db_url: str, empty_db_url: str, tmp_path: Path
) -> None:
    archive = tmp_path / "app.dump"
    backup.backup(db_url, archive)
    backup.restore(empty_db_url, archive)
    with psycopg.connect(empty_db_url, autocommit=True) as restored:
        restored.execute("DELETE FROM feedback WHERE id IN (SELECT id FROM feedback LIMIT 1)")
    found = backup.verify(empty_db_url, backup.read_manifest(archive))
    assert len(found) == 1 and found[0].startswith("rows: feedback has ")


def test_restore_refuses_a_database_that_is_not_empty(
    seeded: dict[str, int], db_url: str, tmp_path: Path
) -> None:
    archive = tmp_path / "app.dump"
    backup.backup(db_url, archive)
    with pytest.raises(DalError, match="not empty"):
        backup.restore(db_url, archive)


def test_the_cli_round_trip(conn: psycopg.Connection[Any], db_url: str, empty_db_url: str,
                            tmp_path: Path) -> None:  # fmt: skip
    seed.seed(conn, "dev", progress=False)
    archive = tmp_path / "cli.dump"
    made = run("backup", str(archive), env={"DATABASE_URL": _as_url(db_url)})
    assert made.returncode == 0, made.stderr
    manifest = json.loads(backup.manifest_path(archive).read_text())
    assert manifest["row_counts"]["users"] > 0
    back = run("restore", str(archive), env={"DATABASE_URL": _as_url(empty_db_url)})
    assert back.returncode == 0, back.stdout + back.stderr
    assert "as backed up" in back.stdout
