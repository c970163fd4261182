"""Migrations: up/down/up with data, drift, a database ahead of the code, locking."""

from __future__ import annotations

import difflib
import shutil
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from dal import events, migrate, schema, seed, surveys
from dal.errors import MigrationError
from tests import community_helpers as make

REAL = migrate.default_directory()


def copy_migrations(tmp_path: Path, *extra: tuple[str, str, str]) -> Path:
    """The real migrations plus extra (name, forward SQL, rollback SQL) files."""
    folder = tmp_path / "migrations"
    shutil.copytree(REAL, folder)
    last = sorted(p.stem for p in folder.glob("*.sql") if not p.name.endswith(".rollback.sql"))[-1]
    for name, forward, backward in extra:
        (folder / f"{name}.sql").write_text(f"-- test migration\n-- depends: {last}\n{forward}\n")
        (folder / f"{name}.rollback.sql").write_text(backward + "\n")
        last = name
    return folder


def user_tables(conninfo: str) -> set[str]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> ALL(%s)",
            [list(migrate.BOOKKEEPING_TABLES)],
        ).fetchall()
    return {r[0] for r in rows}


def test_up_down_up_on_a_database_holding_rows(empty_db_url: str) -> None:
    applied = migrate.migrate(empty_db_url)
    assert applied == [s.id for s in migrate.status(empty_db_url)]
    tables = user_tables(empty_db_url)
    assert "users" in tables
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        counts = seed.seed(conn, "dev", progress=False)  # rows in every table
    assert all(counts.values())
    rolled = migrate.rollback(empty_db_url, count=len(applied))
    assert rolled == list(reversed(applied))
    assert user_tables(empty_db_url) == set()
    assert migrate.head(empty_db_url) is None
    assert migrate.migrate(empty_db_url) == applied
    assert user_tables(empty_db_url) == tables
    assert all(s.applied and not s.drifted for s in migrate.status(empty_db_url))


# Migrations that change rows, not the schema.
DATA_ONLY = {
    "0044_survey_responses_server_id_backfill",
    "0049_event_rsvps_server_id_backfill",
}


def test_each_rollback_restores_the_schema_it_started_from(
    tmp_path: Path, empty_db_url: str
) -> None:
    """For every migration: the full schema dump before it equals the dump after it
    was applied and rolled back, and applying it again gives the same schema."""
    ids = [p.stem for p in sorted(REAL.glob("*.sql")) if not p.name.endswith(".rollback.sql")]
    folder = tmp_path / "migrations"
    folder.mkdir()
    before = schema.dump(empty_db_url)
    for name in ids:
        for path in REAL.glob(f"{name}*.sql"):
            shutil.copy(path, folder / path.name)
        assert migrate.migrate(empty_db_url, directory=folder) == [name]
        after = schema.dump(empty_db_url)
        assert after != before or name in DATA_ONLY, f"{name} changed nothing"
        assert migrate.rollback(empty_db_url, directory=folder) == [name]
        restored = schema.dump(empty_db_url)
        assert restored == before, f"rolling back {name} left:\n" + "".join(
            difflib.unified_diff(before.splitlines(True), restored.splitlines(True))
        )
        migrate.migrate(empty_db_url, directory=folder)
        assert schema.dump(empty_db_url) == after, f"{name} applied twice differs"
        before = after


def test_migrate_twice_is_a_no_op(empty_db_url: str) -> None:
    migrate.migrate(empty_db_url)
    assert migrate.migrate(empty_db_url) == []


def test_dry_run_prints_sql_and_changes_nothing(empty_db_url: str) -> None:
    lines: list[str] = []
    would = migrate.migrate(empty_db_url, dry_run=True, echo=lines.append)
    assert would and would[0] == "0001_users"
    printed = "\n".join(lines)
    assert "CREATE TABLE users" in printed
    assert "-- 0001_users.sql (transactional)" in printed
    assert user_tables(empty_db_url) == set()
    assert not any(s.applied for s in migrate.status(empty_db_url))
    with psycopg.connect(empty_db_url) as conn:  # not even the bookkeeping tables
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone() == (0,)


def test_rollback_dry_run_changes_nothing(db_url: str) -> None:
    lines: list[str] = []
    head = migrate.head(db_url)
    assert migrate.rollback(db_url, dry_run=True, echo=lines.append) == [head]
    rendered = "\n".join(lines)
    # A rollback runs as its migration does: outside a transaction when the forward
    # file says so (CREATE INDEX CONCURRENTLY), where its timeouts are plain SETs.
    forward = (migrate.default_directory() / f"{head}.sql").read_text()
    outside = "-- transactional: false" in forward
    mode = "non-transactional" if outside else "transactional"
    assert rendered.startswith(f"-- {head}.rollback.sql ({mode})")
    assert ("SET lock_timeout" if outside else "SET LOCAL lock_timeout") in rendered
    assert migrate.head(db_url) == head


def test_edited_applied_migration_is_refused(tmp_path: Path, empty_db_url: str) -> None:
    folder = copy_migrations(tmp_path)
    migrate.migrate(empty_db_url, directory=folder)
    edited = folder / "0001_users.sql"
    edited.write_text(edited.read_text() + "\n-- sneaky edit\n")
    (folder / "0999_new.sql").write_text("-- new\nCREATE TABLE t_new (id int);\n")
    (folder / "0999_new.rollback.sql").write_text("DROP TABLE t_new;\n")
    with pytest.raises(MigrationError, match=r"0001_users\.sql was edited after it was applied"):
        migrate.migrate(empty_db_url, directory=folder)
    assert "t_new" not in user_tables(empty_db_url)
    drifted = [s.id for s in migrate.status(empty_db_url, folder) if s.drifted]
    assert drifted == ["0001_users"]


def test_database_ahead_of_the_code_is_refused(tmp_path: Path, empty_db_url: str) -> None:
    newer = copy_migrations(
        tmp_path, ("0999_newer", "CREATE TABLE t_newer (id int);", "DROP TABLE t_newer;")
    )
    migrate.migrate(empty_db_url, directory=newer)
    with pytest.raises(MigrationError, match=r"does not have \(0999_newer\).*ahead of the code"):
        migrate.migrate(empty_db_url)
    with pytest.raises(MigrationError, match="ahead of the code"):
        migrate.status(empty_db_url)
    with pytest.raises(MigrationError, match="ahead of the code"):
        migrate.rollback(empty_db_url)
    assert "t_newer" in user_tables(empty_db_url)


def test_second_concurrent_migrate_is_refused(empty_db_url: str) -> None:
    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def pause(_line: str) -> None:
        started.set()
        release.wait(10)

    def slow_first() -> None:
        try:
            migrate.migrate(empty_db_url, echo=pause)
        except BaseException as exc:  # pragma: no cover - surfaced below
            errors.append(exc)

    first = threading.Thread(target=slow_first)
    first.start()
    try:
        assert started.wait(10)
        with pytest.raises(MigrationError, match="another `dal migrate`"):
            migrate.migrate(empty_db_url)
    finally:
        release.set()
        first.join(20)
    assert not errors
    assert all(s.applied for s in migrate.status(empty_db_url))


def test_lock_timeout_stops_ddl_behind_a_busy_table(tmp_path: Path, db_url: str) -> None:
    folder = copy_migrations(
        tmp_path,
        (
            "0999_add_column",
            "ALTER TABLE users ADD COLUMN nickname text;",
            "ALTER TABLE users DROP COLUMN nickname;",
        ),
    )
    with psycopg.connect(db_url) as reader:
        reader.execute("SELECT count(*) FROM users").fetchone()  # holds ACCESS SHARE
        with pytest.raises(MigrationError, match=r"0999_add_column failed: .*lock timeout"):
            migrate.migrate(db_url, directory=folder, lock_timeout_ms=100)
        reader.rollback()
    assert "0999_add_column" not in {s.id for s in migrate.status(db_url, folder) if s.applied}
    with psycopg.connect(db_url) as conn:
        cols = conn.execute(
            "SELECT count(*) FROM information_schema.columns WHERE column_name = 'nickname'"
        ).fetchone()
    assert cols == (0,)


def test_a_migrations_session_settings_do_not_leak_into_the_next(
    tmp_path: Path, db_url: str
) -> None:
    """A non-transactional migration's plain SET ends with it: each runs on its own session."""
    check = (
        "DO $$ BEGIN IF current_setting('lock_timeout') <> '100ms' "
        "OR current_setting('statement_timeout') <> '0' THEN "
        "RAISE EXCEPTION 'leaked: %', current_setting('lock_timeout'); END IF; END $$;"
    )
    folder = copy_migrations(
        tmp_path,
        (
            "0998_session_set",
            "-- transactional: false\nSET lock_timeout = '1min';\nSET statement_timeout = '30min';",
            "SELECT 1;",
        ),
        ("0999_check_settings", check, "SELECT 1;"),
    )
    applied = migrate.migrate(db_url, directory=folder, lock_timeout_ms=100)
    assert applied == ["0998_session_set", "0999_check_settings"]


def test_failed_transactional_migration_leaves_nothing(tmp_path: Path, db_url: str) -> None:
    folder = copy_migrations(
        tmp_path,
        (
            "0999_broken",
            "CREATE TABLE t_half (id int);\nSELECT no_such_function();",
            "DROP TABLE t_half;",
        ),
    )
    with pytest.raises(MigrationError, match="0999_broken failed"):
        migrate.migrate(db_url, directory=folder)
    assert "t_half" not in user_tables(db_url)


def test_non_transactional_migration_builds_index_concurrently(tmp_path: Path, db_url: str) -> None:
    folder = copy_migrations(
        tmp_path,
        (
            "0999_concurrent_index",
            "-- transactional: false\n"
            "CREATE INDEX CONCURRENTLY users_last_login_at_idx ON users (last_login_at);",
            "DROP INDEX CONCURRENTLY users_last_login_at_idx;",
        ),
    )
    assert migrate.migrate(db_url, directory=folder) == ["0999_concurrent_index"]

    def valid_index() -> Any:
        with psycopg.connect(db_url) as conn:
            return conn.execute(
                "SELECT indisvalid FROM pg_index WHERE indexrelid = "
                "to_regclass('users_last_login_at_idx')"
            ).fetchone()

    assert valid_index() == (True,)
    assert migrate.rollback(db_url, directory=folder) == ["0999_concurrent_index"]
    assert valid_index() is None


def test_new_creates_the_numbered_pair(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    first, first_back = migrate.new("create_things", directory=folder)
    assert first.name == "0001_create_things.sql"
    assert first_back.name == "0001_create_things.rollback.sql"
    second, _ = migrate.new("index_things", directory=folder, transactional=False)
    assert second.name == "0002_index_things.sql"
    text = second.read_text()
    assert "-- depends: 0001_create_things" in text
    assert "-- transactional: false" in text
    assert "SET LOCAL" not in text
    assert "SET LOCAL lock_timeout" in first.read_text()
    with pytest.raises(MigrationError, match="lower_snake_case"):
        migrate.new("Bad Name", directory=folder)


def test_every_migration_reads_like_a_reviewed_one() -> None:
    forward = sorted(p for p in REAL.glob("*.sql") if not p.name.endswith(".rollback.sql"))
    assert forward, "no migrations found"
    earlier: set[str] = set()
    for path in forward:
        text = path.read_text()
        assert (
            path.with_suffix("").with_suffix(".rollback.sql").exists()
            or (REAL / f"{path.stem}.rollback.sql").exists()
        ), f"{path.name} has no rollback"
        assert text.startswith("-- "), f"{path.name} must open with a comment saying why"
        assert "Why" in text or "why" in text, f"{path.name}: say why"
        depends = [line for line in text.splitlines() if line.startswith("-- depends:")]
        assert depends, f"{path.name} has no depends line"
        named = set(depends[0].removeprefix("-- depends:").split())
        assert named <= earlier, f"{path.name} depends on unknown or later {named - earlier}"
        assert named or not earlier, f"{path.name} must depend on an earlier migration"
        earlier.add(path.stem)


def migrations_up_to(tmp_path: Path, last: str) -> Path:
    """The real migrations up to and including `last`."""
    folder = tmp_path / "migrations"
    shutil.copytree(REAL, folder)
    for path in folder.glob("*.sql"):
        if path.name.split(".")[0] > last:
            path.unlink()
    return folder


def test_answers_written_before_0043_get_their_server_in_batches(
    tmp_path: Path, empty_db_url: str
) -> None:
    migrate.migrate(empty_db_url, directory=migrations_up_to(tmp_path, "0042_z"))
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        expected = {}
        for jump in (None, 450):  # two servers, their questions ids batches apart
            if jump is not None:
                conn.execute("SELECT setval('survey_questions_id_seq', %s)", [jump])
            poll = make.survey(conn)
            question = surveys.add_question(conn, poll.id, position=1, kind="text", prompt="?")
            surveys.publish(conn, poll.id)
            for _ in range(3):
                surveys.answer(conn, question.id, make.user(conn).id, "fine")
            expected[question.id] = poll.server_id
        # The window closes: the backfill must not re-judge answers against it.
        conn.execute("UPDATE surveys SET closes_at = opens_at + interval '1 second'")
    migrate.migrate(empty_db_url)
    _assert_servers_copied(empty_db_url, "survey_responses", "question_id", expected, 3)


def _assert_servers_copied(
    url: str, table: str, key: str, expected: dict[int, int], rows_per_key: int
) -> None:
    """Every row of `table` holds the server `expected` gives its `key`, and the
    column is NOT NULL now."""
    with psycopg.connect(url) as conn:
        query = sql.SQL("SELECT {}, server_id FROM {}").format(
            sql.Identifier(key), sql.Identifier(table)
        )
        rows = conn.execute(query).fetchall()
        nullable = conn.execute(
            "SELECT is_nullable FROM information_schema.columns"
            " WHERE table_name = %s AND column_name = 'server_id'",
            [table],
        ).fetchone()
    assert sorted(rows) == sorted((k, s) for k, s in expected.items() for _ in range(rows_per_key))
    assert nullable == ("NO",)


def test_rsvps_written_before_0048_get_their_server_in_batches(
    tmp_path: Path, empty_db_url: str
) -> None:
    """0049 fills event_rsvps.server_id a range of events at a time; RSVPs to events
    no longer scheduled are filled too, and no seat is counted again."""
    migrate.migrate(empty_db_url, directory=migrations_up_to(tmp_path, "0047_z"))
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        expected = {}
        for jump in (None, 250):  # two servers, their event ids batches apart
            if jump is not None:
                conn.execute("SELECT setval('events_id_seq', %s)", [jump])
            srv = make.server(conn)
            event = make.event(conn, srv, capacity=5)
            for response in ("going", "going", "maybe"):
                events.rsvp(conn, event.id, make.user(conn).id, response)
            expected[event.id] = srv.id
        # One event is called off: its answers are closed, yet they get their server.
        events.cancel(conn, min(expected))
        seats = conn.execute("SELECT id, going_count FROM events ORDER BY id").fetchall()
    migrate.migrate(empty_db_url)
    _assert_servers_copied(empty_db_url, "event_rsvps", "event_id", expected, 3)
    with psycopg.connect(empty_db_url) as conn:
        after = conn.execute("SELECT id, going_count FROM events ORDER BY id").fetchall()
    assert after == seats


def test_0058_keeps_the_old_membership_indexes_unless_their_replacements_are_valid(
    tmp_path: Path, empty_db_url: str
) -> None:
    migrate.migrate(empty_db_url, directory=migrations_up_to(tmp_path, "0057_z"))
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        # As a failed CREATE INDEX CONCURRENTLY leaves it: there, but INVALID.
        conn.execute(
            "UPDATE pg_index SET indisvalid = false"
            " WHERE indexrelid = 'server_members_user_id_joined_at_idx'::regclass"
        )
    with pytest.raises(MigrationError, match="must both be valid"):
        migrate.migrate(empty_db_url)
    with psycopg.connect(empty_db_url) as conn:
        kept = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relname IN"
            " ('project_members_user_id_idx', 'server_members_user_id_idx')"
        ).fetchone()
    assert kept == (2,)
    assert migrate.head(empty_db_url) == "0057_server_members_user_join_order"
