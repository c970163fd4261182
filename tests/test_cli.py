"""The `dal` command: exit codes and one-line messages for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dal import cli


def run(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    answer: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`dal ARGS` in a subprocess, with `answer` on its standard input."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "dal.cli", *args],
        input=answer,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense", "DATABASE_URL must start with postgresql://"),
        (
            "postgresql://app:hunter2@127.0.0.1:1/db",
            "cannot connect to PostgreSQL at app@127.0.0.1:1/db",
        ),
    ],
)
def test_bad_database_url_is_one_line_and_non_zero(url: str, message: str) -> None:
    done = run("status", env={"DATABASE_URL": url})
    assert done.returncode == (1 if url == "nonsense" else cli.EXIT_UNREACHABLE)
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "hunter2" not in done.stderr
    assert "Traceback" not in done.stderr


def test_migrate_status_and_rollback_via_the_command(empty_db_url: str) -> None:
    env = {"DATABASE_URL": _as_url(empty_db_url)}
    dry = run("migrate", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "CREATE TABLE users" in dry.stdout
    assert "pending  0001_users" in run("status", env=env).stdout
    assert run("migrate", env=env).returncode == 0
    status = run("status", env=env)
    assert "applied  0001_users" in status.stdout
    assert "0 pending" in status.stdout
    back = run("rollback", "--count", "1", env=env)
    assert back.returncode == 0
    assert "rolled back 1 migration(s)" in back.stdout


def test_health_reports_head_and_tables(db_url: str) -> None:
    done = run("health", env={"DATABASE_URL": _as_url(db_url)})
    assert done.returncode == 0, done.stderr
    assert "migrations: head " in done.stdout
    assert "users" in done.stdout
    assert "pool:" in done.stdout


def test_schema_check_passes_on_a_migrated_database(db_url: str) -> None:
    done = run("schema", "check", env={"DATABASE_URL": _as_url(db_url)})
    assert done.returncode == 0, done.stdout + done.stderr


def test_usage_errors_exit_2() -> None:
    assert run("frobnicate").returncode == 2
    assert cli.build_parser().parse_args(["rollback", "--count", "3"]).count == 3


def _as_url(conninfo: str) -> str:
    """The fixtures give key=value strings; DATABASE_URL must be a URL."""
    parts = psycopg.conninfo.conninfo_to_dict(conninfo)
    host = str(parts.get("host", "localhost"))
    user = parts.get("user", "postgres")
    query = f"?host={host}" if host.startswith("/") else ""
    netloc = "" if query else f"{host}:{parts.get('port', 5432)}"
    return f"postgresql://{user}@{netloc}/{parts['dbname']}{query}"


def test_demo_starts_an_embedded_server_and_stops_it(tmp_path: Path) -> None:
    """The first README command, with no DATABASE_URL: a private server, reused, stopped."""
    data_dir = tmp_path / "pgdata"
    env = {"DAL_DATA_DIR": str(data_dir)}
    first = run("demo", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "applying 0001_users" in first.stdout
    assert "seed: dev profile loaded" in first.stdout
    assert "server:     18." in first.stdout
    assert not (data_dir / "postmaster.pid").exists(), "the server was left running"
    again = run("demo", env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "migrations: 0 applied this run" in again.stdout
    assert "seed: the database already has data; skipped" in again.stdout


def test_unreachable_server_gives_health_one_line() -> None:
    done = run("health", env={"DATABASE_URL": "postgresql://app:hunter2@127.0.0.1:1/db"})
    assert done.returncode == cli.EXIT_UNREACHABLE
    assert done.stderr.strip().splitlines() == [
        "dal: cannot connect to PostgreSQL at app@127.0.0.1:1/db: Connection refused; "
        "check that the server is running and that DATABASE_URL is right"
    ]


def _tables(conninfo: str) -> set[str]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r[0] for r in rows}


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (
            "UPDATE dal_migration_checksums SET sha256 = 'x' WHERE migration_id = '0002_projects'",
            "dal: migration 0002_projects.sql was edited after it was applied",
        ),
        (
            "INSERT INTO _yoyo_migration (migration_hash, migration_id, applied_at_utc) "
            "VALUES ('h', '9999_from_the_future', now())",
            "dal: the database has 1 migration(s) this code does not have (9999_from_the_future)",
        ),
    ],
)
def test_refused_migrations_exit_3_and_change_nothing(
    empty_db_url: str, tamper: str, message: str
) -> None:
    env = {"DATABASE_URL": _as_url(empty_db_url)}
    assert run("migrate", env=env).returncode == 0
    assert run("rollback", "--count", "2", env=env).returncode == 0
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        conn.execute(tamper)
    before = _tables(empty_db_url)
    for command in (["migrate"], ["rollback"], ["migrate", "--dry-run"]):
        done = run(*command, env=env)
        assert done.returncode == 3, command
        assert done.stderr.startswith(message), done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    assert _tables(empty_db_url) == before


def test_a_second_concurrent_migrate_exits_3(db_url: str) -> None:
    from dal.migrate import _LOCK_KEY

    with psycopg.connect(db_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [_LOCK_KEY])
        done = run("migrate", env={"DATABASE_URL": _as_url(db_url)})
    assert done.returncode == 3
    assert "another `dal migrate` or `dal rollback` is running" in done.stderr


def test_a_bad_lock_timeout_is_a_usage_error(db_url: str) -> None:
    done = run("migrate", "--lock-timeout", "soon", env={"DATABASE_URL": _as_url(db_url)})
    assert done.returncode != 0
    assert "--lock-timeout" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_version_and_python_dash_m() -> None:
    for command in (
        [sys.executable, "-m", "dal", "--version"],
        [sys.executable, "-m", "dal.cli", "--version"],
    ):
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
        assert done.returncode == 0 and done.stdout.startswith("dal "), done.stderr


def test_help_imports_nothing_heavy() -> None:
    """`dal --help` loads neither psycopg, Redis's client nor argon2 (python -X importtime)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import dal.cli; dal.cli.build_parser()"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "dal.cli" in imported
    assert not imported & {"psycopg", "psycopg_pool", "redis", "argon2", "yoyo", "orjson"}


def test_json_documents(empty_db_url: str) -> None:
    env = {"DATABASE_URL": _as_url(empty_db_url)}
    dry = json.loads(run("migrate", "--dry-run", "--json", env=env).stdout)
    assert dry["dry_run"] is True and dry["migrations"][0].startswith("0001_")
    assert any("CREATE TABLE users" in line for line in dry["output"])
    done = json.loads(run("migrate", "--json", env=env).stdout)
    assert done["migrations"] == dry["migrations"]
    status = json.loads(run("status", "--json", env=env).stdout)
    assert status["pending"] == 0 and status["applied"] == len(dry["migrations"])
    assert status["migrations"][0]["applied"] is True
    assert status["migrations"][0]["edited_since_applied"] is False
    check = run("check", "--json", env=env)
    assert json.loads(check.stdout) == {"as_designed": True, "differences": []}, check.stderr


def test_a_closed_pipe_ends_quietly(db_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    env["DATABASE_URL"] = _as_url(db_url)
    child = subprocess.Popen(
        [sys.executable, "-m", "dal", "status"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # the reader goes away before the first line
    with child.stderr:
        errors = child.stderr.read().decode()
    child.wait(timeout=60)
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors


def test_writing_commands_refuse_outside_a_checkout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, conn: psycopg.Connection[Any]
) -> None:
    from dal import config, erd, migrate, schema
    from dal.errors import ConfigError

    monkeypatch.setattr(config, "PROJECT_ROOT", tmp_path)  # no pyproject.toml there
    with pytest.raises(ConfigError, match="dal new writes into the project"):
        migrate.new("anything")
    with pytest.raises(ConfigError, match="dal schema dump"):
        schema.write_snapshot(conn.info.dsn)
    with pytest.raises(ConfigError, match="dal erd"):
        erd.write(conn)
    assert not list(tmp_path.iterdir())


def test_the_embedded_servers_data_is_under_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from dal.config import Settings

    monkeypatch.chdir(tmp_path)
    assert Settings.from_env({}, dotenv=Path("/nonexistent")).data_dir == tmp_path / ".pgdata"
    assert Settings().data_dir == tmp_path / ".pgdata"
