"""`dal check` (dal.drift): a migrated database is as designed; each kind of drift is named."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from dal import drift
from tests.test_cli import _as_url, run


def test_a_migrated_database_is_as_designed(conn: psycopg.Connection[Any], db_url: str) -> None:
    assert drift.differences(conn, db_url) == []


@pytest.mark.parametrize(
    ("change", "reported"),
    [
        ("GRANT TRUNCATE ON users TO dal_app", "grants: dal_app has TRUNCATE on users"),
        ("REVOKE DELETE ON tasks FROM dal_app", "grants: dal_app lacks DELETE on tasks"),
        ("GRANT INSERT ON events TO dal_readonly", "grants: dal_readonly has INSERT on events"),
        ("GRANT SELECT ON moods_default TO dal_app", "grants: dal_app has SELECT on moods_default"),
        ("GRANT CREATE ON SCHEMA public TO dal_app", "grants: dal_app may CREATE in schema public"),
        (
            "ALTER TABLE tasks NO FORCE ROW LEVEL SECURITY",
            "row-level security: tasks should have it enabled and forced",
        ),
        ("ALTER TABLE users ENABLE ROW LEVEL SECURITY", "row-level security: users has it"),
        ("ALTER TABLE app_config OWNER TO postgres", "owner: app_config belongs to postgres"),
        ("ALTER TABLE users ADD COLUMN nickname text", "schema: +    nickname text"),
        ("UPDATE dal_migration_checksums SET sha256 = 'x' WHERE migration_id = '0001_users'",
         "migrations: 0001_users was edited after it was applied"),
    ],
)  # fmt: skip
def test_each_drift_is_named(
    conn: psycopg.Connection[Any], db_url: str, change: str, reported: str
) -> None:
    conn.execute(change)
    found = drift.differences(conn, db_url)
    assert any(line.startswith(reported) for line in found), found


def test_the_cli_exits_1_on_drift(conn: psycopg.Connection[Any], db_url: str) -> None:
    env = {"DATABASE_URL": _as_url(db_url)}
    clean = run("check", env=env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "the database is as designed" in clean.stdout
    conn.execute("GRANT TRUNCATE ON tasks TO dal_app")
    drifted = run("check", env=env)
    assert drifted.returncode == 1
    assert "grants: dal_app has TRUNCATE on tasks" in drifted.stdout
