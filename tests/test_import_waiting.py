"""Dependencies on tasks a file does not have: resolved against the project as the import
leaves it, or kept waiting (stored) until an import brings the task; `strict` refuses.

Task Master's own task_NNN.txt files each hold one task and name their dependencies
by the ids of tasks in other files, as these fixtures do (task 12 depends on 11)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, LiteralString

import psycopg
import pytest

from dal import tasks
from dal.importers import TaskFileError, import_taskmaster
from tests import factories

Conn = psycopg.Connection[Any]
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def owner(conn: Conn) -> str:
    return factories.user(conn, "alice").username


def _pairs(conn: Conn, query: LiteralString) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in conn.execute(query).fetchall()]


def edges(conn: Conn) -> list[tuple[str, str]]:
    return _pairs(
        conn,
        "SELECT t.key, d.key FROM task_dependencies e JOIN tasks t ON t.id = e.task_id"
        " JOIN tasks d ON d.id = e.depends_on_id ORDER BY 1, 2",
    )


def waiting(conn: Conn) -> list[tuple[str, str]]:
    return _pairs(
        conn,
        "SELECT t.key, p.depends_on_key FROM task_pending_dependencies p"
        " JOIN tasks t ON t.id = p.task_id ORDER BY 1, 2",
    )


def state(conn: Conn) -> tuple[Any, ...]:
    tasks = conn.execute("SELECT id, key, version, updated_at FROM tasks ORDER BY id").fetchall()
    pending = conn.execute("SELECT * FROM task_pending_dependencies ORDER BY 1, 3").fetchall()
    return tasks, edges(conn), pending


def test_single_text_files_imported_one_by_one(conn: Conn, owner: str) -> None:
    [first] = import_taskmaster(conn, FIXTURES / "task_012.txt", project="p", owner=owner)
    assert first.waiting == {"12": ("11",)}
    assert "? 12 waits for 11" in first.summary()
    assert waiting(conn) == [("12", "11")]
    assert ("12.2", "12.1") in edges(conn)  # the file's own edges are real at once

    [second] = import_taskmaster(conn, FIXTURES / "task_011.txt", project="p", owner=owner)
    assert (second.created, second.resolved, second.waiting) == (1, 1, {})
    assert ("12", "11") in edges(conn)
    assert waiting(conn) == []

    before = state(conn)  # task 11 is in the project now: 12's dependency is a real one
    [again] = import_taskmaster(conn, FIXTURES / "task_012.txt", project="p", owner=owner)
    assert (again.created, again.updated, again.waiting) == (0, 0, {})
    assert state(conn) == before  # the same file again writes nothing


def test_a_dependency_on_a_task_imported_earlier_is_a_real_edge_at_once(
    conn: Conn, owner: str
) -> None:
    import_taskmaster(conn, FIXTURES / "task_011.txt", project="p", owner=owner)
    [result] = import_taskmaster(conn, FIXTURES / "task_012.txt", project="p", owner=owner)
    assert result.waiting == {}
    assert ("12", "11") in edges(conn)
    assert waiting(conn) == []


def test_strict_refuses_what_would_wait_and_writes_nothing(conn: Conn, owner: str) -> None:
    before = state(conn)
    with pytest.raises(TaskFileError, match="task 12 depends on 11, which does not exist"):
        import_taskmaster(conn, FIXTURES / "task_012.txt", project="p", owner=owner, strict=True)
    assert state(conn) == before


def test_a_waiting_dependency_that_would_close_a_cycle_is_refused(
    conn: Conn, owner: str, tmp_path: Path
) -> None:
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"tasks": [{"id": 1, "title": "One", "dependencies": [2]}]}))
    two = tmp_path / "two.json"
    two.write_text(json.dumps({"tasks": [{"id": 2, "title": "Two", "dependencies": [1]}]}))
    import_taskmaster(conn, one, project="p", owner=owner)
    assert waiting(conn) == [("1", "2")]
    before = state(conn)
    with pytest.raises(TaskFileError, match="dependency cycle"):
        import_taskmaster(conn, two, project="p", owner=owner)
    assert state(conn) == before


def test_a_dry_run_reports_what_would_wait(conn: Conn, owner: str) -> None:
    [result] = import_taskmaster(
        conn, FIXTURES / "task_012.txt", project="p", owner=owner, dry_run=True
    )
    assert result.waiting == {"12": ("11",)}
    assert result.as_dict()["waiting"] == {"12": ["11"]}
    assert waiting(conn) == []


def test_a_subtask_may_name_a_sibling_by_its_string_id(
    conn: Conn, owner: str, tmp_path: Path
) -> None:
    doc = {
        "tasks": [
            {
                "id": "repo-setup",
                "title": "Set up the repository",
                "dependencies": [],
                "subtasks": [
                    {"id": "repo-issue-creation", "title": "Issues", "dependencies": []},
                    {
                        "id": "repo-labels",
                        "title": "Labels",
                        "dependencies": ["repo-issue-creation"],
                    },
                ],
            }
        ]
    }
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps(doc))
    [result] = import_taskmaster(conn, path, project="p", owner=owner, strict=True)
    assert result.waiting == {}
    assert edges(conn) == [("repo-setup.repo-labels", "repo-setup.repo-issue-creation")]


def test_a_key_given_by_hand_resolves_what_waited_at_the_next_import(
    conn: Conn, owner: str, tmp_path: Path
) -> None:
    [first] = import_taskmaster(conn, FIXTURES / "task_012.txt", project="p", owner=owner)
    assert first.project is not None
    owner_id = first.project.owner_id
    tasks.create(conn, owner_id=owner_id, project_id=first.project.id, key="11", title="By hand")
    other = tmp_path / "tasks.json"
    other.write_text(json.dumps({"tasks": [{"id": 40, "title": "Unrelated"}]}))
    [later] = import_taskmaster(conn, other, project="p", owner=owner)
    assert later.resolved == 1
    assert ("12", "11") in edges(conn)
    assert waiting(conn) == []


def test_an_empty_dependency_is_refused(conn: Conn, owner: str, tmp_path: Path) -> None:
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps({"tasks": [{"id": 1, "title": "A", "dependencies": [""]}]}))
    before = state(conn)
    with pytest.raises(TaskFileError, match="cannot be empty"):
        import_taskmaster(conn, path, project="p", owner=owner)
    assert state(conn) == before
