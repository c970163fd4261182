"""`dal import` and `dal export` as a user runs them: a subprocess against the test database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg

from tests import factories
from tests.test_cli import _as_url, run

Conn = psycopg.Connection[Any]
FIXTURES = Path(__file__).parent / "fixtures"


def test_import_dry_run_then_real_then_export(conn: Conn, db_url: str, tmp_path: Path) -> None:
    factories.user(conn, "alice")
    env = {"DATABASE_URL": _as_url(db_url)}
    path = str(FIXTURES / "tm_legacy.json")
    args = ("import", "taskmaster", path, "--project", "demo", "--owner", "alice")

    dry = run(*args, "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "project demo (new):" in dry.stdout
    assert "+ 1: Set up the repository" in dry.stdout
    assert "9 to create, 0 to update, 0 unchanged" in dry.stdout
    assert factories.count(conn, "projects") == 0
    assert factories.count(conn, "tasks") == 0

    done = run(*args, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "project demo: 9 created, 0 updated, 0 unchanged"
    again = run(*args[:-1], "alice@example.com", env=env)
    assert again.stdout.strip() == "project demo: 0 created, 0 updated, 9 unchanged"

    # A file without task 3 (and its subtasks): the real run lists what it keeps.
    original = json.loads(Path(path).read_text(encoding="utf-8"))
    shorter = tmp_path / "tasks.json"
    shorter.write_text(json.dumps({"tasks": original["tasks"][:2]}), encoding="utf-8")
    kept = run("import", "taskmaster", str(shorter), *args[3:], env=env)
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout.splitlines() == [
        "project demo: 0 created, 0 updated, 6 unchanged,"
        " 3 only in the project (delete with --prune)",
        "  - 3.1.1",
        "  - 3.1",
        "  - 3",
    ]
    assert factories.count(conn, "tasks") == 9

    out = tmp_path / "out.json"
    exported = run(
        "export", "taskmaster", "--project", "demo", "--owner", "alice", "--output", str(out),
        env=env,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    assert json.loads(out.read_text(encoding="utf-8")) == {"tasks": original["tasks"]}


def test_import_speckit_and_errors_are_one_line(conn: Conn, db_url: str, tmp_path: Path) -> None:
    factories.user(conn, "alice")
    env = {"DATABASE_URL": _as_url(db_url)}
    spec = str(FIXTURES / "speckit_tasks.md")
    done = run("import", "speckit", spec, "--project", "s", "--owner", "alice", env=env)
    assert done.returncode == 0, done.stderr
    assert "6 created" in done.stdout

    broken = tmp_path / "tasks.json"
    broken.write_text('{"tasks": [{"id": 1, "title": "A", "dependencies": [7]}]}')
    for file, owner, message in (
        (broken, "alice", "task 1 depends on 7, which does not exist"),
        (FIXTURES / "tm_legacy.json", "nobody", "owner 'nobody': no user with that username"),
    ):
        args = ("import", "taskmaster", str(file), "--project", "x", "--owner", owner, "--strict")
        failed = run(*args, env=env)
        assert failed.returncode == 1
        assert message in failed.stderr
        assert len(failed.stderr.strip().splitlines()) == 1
    missing = run("export", "taskmaster", "--project", "nope", "--owner", "alice", env=env)
    assert missing.returncode == 1
    assert "'alice' has no project named 'nope'" in missing.stderr
    assert factories.count(conn, "projects") == 1


def test_import_json_lists_what_waits_and_strict_refuses(conn: Conn, db_url: str) -> None:
    factories.user(conn, "alice")
    env = {"DATABASE_URL": _as_url(db_url)}
    args = ("import", "taskmaster", str(FIXTURES / "task_012.txt"), "--project", "p")
    strict = run(*args, "--owner", "alice", "--strict", env=env)
    assert strict.returncode == 1
    assert "task 12 depends on 11, which does not exist" in strict.stderr
    done = run(*args, "--owner", "alice", "--json", env=env)
    assert done.returncode == 0, done.stderr
    [result] = json.loads(done.stdout)
    assert (result["project"], result["created"], result["waiting"]) == ("p", 4, {"12": ["11"]})
