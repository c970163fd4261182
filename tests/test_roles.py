"""The three roles of migration 0038: the owner owns the schema, the application may
only read and write rows, the read-only role only read. Connected as each role."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

import dal
from dal import (
    categories,
    config_store,
    dependencies,
    events,
    migrate,
    moods,
    projects,
    recommendations,
    servers,
    surveys,
    sync_history,
    tasks,
    users,
)
from dal.config import Roles, Settings
from dal.errors import MigrationError, PermissionDenied
from dal.testing import create_database, drop_database
from tests.fix_db import as_role

SCHEMA_CHANGES = [
    "CREATE TABLE scratch (id int)",
    "ALTER TABLE users ADD COLUMN nickname text",
    "DROP TABLE sync_history",
    "TRUNCATE users",
    "CREATE INDEX users_scratch_idx ON users (created_at)",
    "ALTER TABLE events DISABLE TRIGGER events_set_updated_at",
    "DELETE FROM _yoyo_migration",
    "UPDATE dal_migration_checksums SET sha256 = 'x'",
    "CREATE FUNCTION scratch() RETURNS int LANGUAGE sql AS 'SELECT 1'",
]


@pytest.mark.parametrize("statement", SCHEMA_CHANGES)
def test_the_application_role_cannot_change_the_schema(db_url: str, statement: str) -> None:
    with dal.open_connection(as_role(db_url, Roles.app), Settings()) as conn:
        with pytest.raises(PermissionDenied) as refused, dal.transaction(conn):
            conn.execute(statement)
        assert refused.value.sqlstate == "42501"


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO app_config (key, value) VALUES ('a.b', '1')",
        "UPDATE users SET display_name = 'x'",
        "DELETE FROM tasks",
        "SELECT moods_ensure_partitions(date '2031-01-01', 1)",
        *SCHEMA_CHANGES[:4],
    ],
)
def test_the_read_only_role_cannot_write(db_url: str, statement: str) -> None:
    with dal.open_connection(as_role(db_url, Roles.readonly), Settings()) as conn:
        assert users.count(conn) == 0  # it reads
        with pytest.raises(PermissionDenied), dal.transaction(conn):
            conn.execute(statement)


def test_the_owner_owns_every_object_and_the_application_none(
    conn: psycopg.Connection[Any],
) -> None:
    rows = conn.execute(
        "SELECT c.relname, c.relowner::regrole::text FROM pg_class c"
        " WHERE c.relnamespace = 'public'::regnamespace"
        " UNION ALL SELECT p.proname, p.proowner::regrole::text FROM pg_proc p"
        " WHERE p.pronamespace = 'public'::regnamespace"
    ).fetchall()
    assert len(rows) > 100
    assert {owner for _, owner in rows} == {Roles.owner}


def test_the_application_role_runs_every_area(app_pool: dal.db.Pool) -> None:
    """A tour of every area's writes and reads, as the application connects."""
    soon = datetime.now(UTC) + timedelta(days=1)
    alice = users.create(app_pool, email="alice@example.com", username="alice")
    bob = users.create(app_pool, email="bob@example.com", username="bob")
    with dal.acting_as(alice.id):  # row-level security: alice's rows, as alice
        project = projects.create(app_pool, owner_id=alice.id, name="Roles")
        projects.add_member(app_pool, project.id, bob.id)
        first = tasks.create(app_pool, owner_id=alice.id, title="first", project_id=project.id)
        second = tasks.create(app_pool, owner_id=alice.id, title="second", project_id=project.id)
        dependencies.add(app_pool, second.id, first.id)
        tasks.update(app_pool, first.id, status="done")
        categories.create(app_pool, owner_id=alice.id, name="home")
        run = sync_history.start(app_pool, project.id, "a" * 40)
        sync_history.finish(app_pool, run.id)
        srv = servers.create(app_pool, snowflake_id=4242, name="Guild", owner_id=alice.id)
        servers.add_member(app_pool, srv.id, bob.id)
        later = soon + timedelta(hours=1)
        show = events.create(app_pool, server_id=srv.id, creator_id=alice.id, title="Meet",
                             starts_at=soon, ends_at=later, capacity=2)  # fmt: skip
        surveys.create(app_pool, server_id=srv.id, title="How was it?", opens_at=soon,
                       closes_at=soon + timedelta(days=1), creator_id=alice.id)  # fmt: skip
        # A partition made at run time (the owner's function) takes moods through moods.
        far = date(2031, 1, 1)
        assert moods.ensure_partitions(app_pool, months_ahead=0, start=far) == ["moods_y2031m01"]
        mood = moods.record(app_pool, alice.id, mood="calm", intensity=3,
                            recorded_at=datetime(2031, 1, 5, tzinfo=UTC))  # fmt: skip
        recommendations.create(app_pool, alice.id, kind="activity", content="walk",
                               relevance_score=0.5, mood=(mood.id, mood.recorded_at))  # fmt: skip
        config_store.set(app_pool, "roles.ok", True)
        config_store.set_user_setting(app_pool, alice.id, "theme", "dark")
        tasks.delete(app_pool, second.id)
    with dal.acting_as(bob.id):  # each member answers for themselves
        events.rsvp(app_pool, show.id, bob.id, "going")
    with dal.acting_as(alice.id):
        assert events.get(app_pool, show.id).going_count == 1
        assert config_store.get(app_pool, "roles.ok") is True


def test_a_table_a_later_migration_makes_is_granted_by_default(db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as admin:
        admin.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(Roles.owner)))
        admin.execute("CREATE TABLE later (id int PRIMARY KEY)")
    with psycopg.connect(as_role(db_url, Roles.app), autocommit=True) as app:
        app.execute("INSERT INTO later VALUES (1)")
        app.execute("UPDATE later SET id = 2")
    with psycopg.connect(as_role(db_url, Roles.readonly)) as reader:
        assert reader.execute("SELECT id FROM later").fetchall() == [(2,)]


@pytest.fixture
def other_roles(pg_admin: str) -> Iterator[tuple[str, Roles]]:
    """A fresh database and three role names no other test uses; both dropped after."""
    tag = uuid.uuid4().hex[:8]
    names = Roles(owner=f"o_{tag}", app=f"a_{tag}", readonly=f"r_{tag}")
    url = create_database(pg_admin, f"dal_roles_{tag}")
    yield url, names
    drop_database(pg_admin, f"dal_roles_{tag}")
    with psycopg.connect(pg_admin, autocommit=True) as admin:
        for name in (names.owner, names.app, names.readonly):
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def test_role_names_are_configurable_and_rolled_back_cleanly(
    other_roles: tuple[str, Roles],
) -> None:
    url, names = other_roles
    migrate.migrate(url, roles=names)
    with psycopg.connect(as_role(url, names.app), autocommit=True) as app:
        app.execute("INSERT INTO app_config (key, value) VALUES ('x.y', '1')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("DROP TABLE app_config")
    since_0038 = [s for s in migrate.status(url) if s.applied and s.id >= "0038"]
    migrate.rollback(url, count=len(since_0038), roles=names)  # down to 0038: objects back
    with psycopg.connect(url) as admin:
        owners = admin.execute(
            "SELECT DISTINCT relowner::regrole::text FROM pg_class"
            " WHERE relnamespace = 'public'::regnamespace"
        ).fetchall()
        assert owners == [(admin.info.user,)]
    with (
        psycopg.connect(as_role(url, names.app)) as app,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        app.execute("SELECT * FROM app_config")


def test_migrating_as_a_role_outside_the_owner_is_refused(db_url: str, tmp_path: Path) -> None:
    # A newer migration would create objects the owner's default grants do not cover.
    with pytest.raises(MigrationError, match="must run as the owner role"):
        migrate.migrate(as_role(db_url, Roles.app), directory=_one_more(tmp_path))


def _one_more(folder: Path) -> Path:
    """A migrations folder holding the project's and one new, pending migration."""
    for path in migrate.default_directory().glob("*.sql"):
        shutil.copy(path, folder)
    (folder / "0999_later.sql").write_text(
        "-- A later table.\n-- depends: 0038_roles\n\nCREATE TABLE later (id int);\n"
    )
    (folder / "0999_later.rollback.sql").write_text(
        "-- Rollback of 0999_later.\n-- depends: 0038_roles\n\nDROP TABLE later;\n"
    )
    return folder
