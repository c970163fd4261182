"""`dal seed` and `dal reset` as a user runs them: a subprocess with DATABASE_URL."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import psycopg
import pytest

from dal import seed
from dal.testing import create_database, drop_database
from tests.factories import count as rows
from tests.test_cli import _as_url, run
from tests.test_seed import fingerprint


def dal(db_url: str, *args: str, answer: str | None = None) -> subprocess.CompletedProcess[str]:
    return run(*args, env={"DATABASE_URL": _as_url(db_url)}, answer=answer)


def counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    return {table: rows(conn, table) for table in seed.table_names(conn)}


@pytest.fixture
def seeded(conn: psycopg.Connection[Any], db_url: str) -> dict[str, int]:
    done = dal(db_url, "seed", "--profile", "dev", "--quiet")
    assert done.returncode == 0, done.stderr
    loaded = counts(conn)
    assert all(loaded.values()), loaded
    return loaded


@pytest.mark.parametrize("answer", ["n\n", "y\n", ""], ids=["n", "y", "eof"])
def test_reset_asks_and_anything_but_yes_cancels(
    conn: psycopg.Connection[Any], db_url: str, seeded: dict[str, int], answer: str
) -> None:
    done = dal(db_url, "reset", answer=answer)
    assert done.returncode == 1
    assert "Delete every row in " in done.stdout
    assert "Type 'yes'" in done.stdout
    assert done.stderr.strip() == "dal: reset cancelled (pass --yes to skip the question)"
    assert counts(conn) == seeded


def test_reset_yes_empties_everything(
    conn: psycopg.Connection[Any], db_url: str, seeded: dict[str, int]
) -> None:
    done = dal(db_url, "reset", "--yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"emptied {len(seeded)} tables"
    assert "Type 'yes'" not in done.stdout
    assert counts(conn) == dict.fromkeys(seeded, 0)
    typed = dal(db_url, "seed", "--profile", "dev", "--quiet")
    assert typed.returncode == 0, typed.stderr  # an emptied database can be seeded again
    assert dal(db_url, "reset", answer="yes\n").returncode == 0  # typing yes also works
    assert counts(conn) == dict.fromkeys(seeded, 0)


def test_seed_with_the_same_seed_twice_gives_identical_rows(
    conn: psycopg.Connection[Any], db_url: str, pg_admin: str, template_db: str
) -> None:
    twin = f"dal_seed_cli_twin_{os.getpid()}"
    twin_url = create_database(pg_admin, twin, template=template_db)
    try:
        for url in (db_url, twin_url):
            done = dal(url, "seed", "--profile", "dev", "--seed", "11", "--quiet")
            assert done.returncode == 0, done.stderr
            assert done.stdout.splitlines()[0].split() == ["users", "12"]
        with psycopg.connect(twin_url, autocommit=True) as other:
            tables = seed.table_names(conn)
            assert tables == seed.table_names(other)
            for table in tables:
                assert rows(conn, table) > 0, table
                assert fingerprint(conn, table) == fingerprint(other, table), table
        again = dal(db_url, "seed", "--profile", "dev", "--seed", "11", "--quiet")
        assert again.returncode == 1
        assert "already holds users: run `dal reset` before seeding" in again.stderr
    finally:
        drop_database(pg_admin, twin)
