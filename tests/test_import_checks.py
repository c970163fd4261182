"""What the importer must refuse before writing, against a real database: one exact line
naming the task (or tag/project) and the problem, and nothing written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dal import dependencies, tasks
from dal.importers import ALL_TAGS, TaskFileError, import_taskmaster
from tests import factories

Conn = psycopg.Connection[Any]

SEED_DOC: dict[str, Any] = {
    "tasks": [
        {"id": 1, "title": "One", "dependencies": []},
        {"id": 2, "title": "Two", "dependencies": [1]},
    ]
}


@pytest.fixture
def owner(conn: Conn) -> str:
    return factories.user(conn, "alice").username


def write(tmp_path: Path, text: str, name: str = "tasks.json") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def state(conn: Conn) -> tuple[Any, ...]:
    """Everything an import could write."""
    rows = conn.execute(
        "SELECT id, key, parent_id, version, updated_at, data FROM tasks ORDER BY id"
    ).fetchall()
    edges = conn.execute(
        "SELECT task_id, depends_on_id FROM task_dependencies ORDER BY 1, 2"
    ).fetchall()
    names = conn.execute("SELECT id, name FROM projects ORDER BY id").fetchall()
    return rows, edges, names


def refused(conn: Conn, path: Path, owner: str, **options: Any) -> str:
    """The import's error, after checking it wrote nothing, for a real run and a dry run."""
    before = state(conn)
    messages = set()
    for dry_run in (False, True):
        with pytest.raises(TaskFileError) as caught:
            import_taskmaster(conn, path, project="demo", owner=owner, dry_run=dry_run, **options)
        messages.add(str(caught.value))
    assert state(conn) == before
    [message] = messages
    assert "\n" not in message
    return message


SUBTASK_STRING = {
    "tasks": [{"id": 8, "title": "Eight", "subtasks": [
        {"id": 1, "title": "One"},
        {"id": 9, "title": "Nine", "dependencies": ["1"]},
    ]}]
}  # fmt: skip


def test_a_string_dependency_of_a_subtask_names_a_top_level_task(
    conn: Conn, owner: str, tmp_path: Path
) -> None:
    """Only an int means a sibling; "1" is task 1, which is missing."""
    import_taskmaster(conn, write(tmp_path, json.dumps(SEED_DOC), "seed.json"), project="demo",
                      owner=owner)  # fmt: skip
    path = write(tmp_path, json.dumps(SUBTASK_STRING))
    assert refused(conn, path, owner, strict=True) == (
        f"{path}: task 8.9 depends on 1, which does not exist"
    )

    as_int = json.loads(json.dumps(SUBTASK_STRING))
    as_int["tasks"][0]["subtasks"][1]["dependencies"] = [1]
    [result] = import_taskmaster(conn, write(tmp_path, json.dumps(as_int)), project="new",
                                 owner=owner)  # fmt: skip
    assert [t.depends_on for t in result.plan.create if t.key == "8.9"] == [("8.1",)]


TEXT_TASK = """# Task ID: 8
# Title: Eight
# Status: pending
# Dependencies: None
# Priority: medium
# Description: d
# Details:

# Test Strategy:

# Subtasks:
## 1. One [done]
### Dependencies: None
### Description: d
### Details:

## 9. Nine [pending]
### Dependencies: {deps}
### Description: d
### Details:
"""


def test_a_text_file_subtask_dependency_is_dotted_for_a_sibling(
    conn: Conn, owner: str, tmp_path: Path
) -> None:
    """`task-master generate` writes siblings as "8.1"; a bare "1" is top-level task 1."""
    bare = write(tmp_path, TEXT_TASK.format(deps="1"), "task_008.txt")
    assert refused(conn, bare, owner, strict=True) == (
        f"{bare}: task 8.9 depends on 1, which does not exist"
    )
    dotted = write(tmp_path, TEXT_TASK.format(deps="8.1"), "task_008.txt")
    [result] = import_taskmaster(conn, dotted, project="demo", owner=owner)
    assert [t.depends_on for t in result.plan.create if t.key == "8.9"] == [("8.1",)]


LONG = "x" * 101


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        (
            {"tasks": [{"id": 1, "title": "A"}, {"id": "set up", "title": "B"}]},
            "task number 2 has the id 'set up': a task key cannot contain whitespace",
        ),
        (
            {"tasks": [{"id": "tab\there", "title": "B"}]},
            "task number 1 has the id 'tab\\there': a task key cannot contain whitespace",
        ),
        (
            {"tasks": [{"id": LONG, "title": "A"}]},
            "task number 1 has the id 'xxxxxxxxxxxxxxxxxxxxxxx…': its key would be 101 "
            "characters, over the 100 a task key can hold",
        ),
        (
            {"tasks": [{"id": "y" * 98, "title": "A", "subtasks": [{"id": 12, "title": "S"}]}]},
            f"subtask number 1 of task {'y' * 98} has the id '12': its key would be 101 "
            "characters, over the 100 a task key can hold",
        ),
    ],
    ids=["space", "tab", "long", "long-subtask-key"],
)
def test_ids_the_database_would_refuse_are_named(
    conn: Conn, owner: str, tmp_path: Path, doc: dict[str, Any], problem: str
) -> None:
    path = write(tmp_path, json.dumps(doc))
    assert refused(conn, path, owner) == f"{path}: {problem}"
    assert factories.count(conn, "projects") == 0


def test_a_key_of_exactly_100_characters_is_stored(conn: Conn, owner: str, tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps({"tasks": [{"id": "k" * 100, "title": "A"}]}))
    [result] = import_taskmaster(conn, path, project="demo", owner=owner)
    assert result.created == 1


def test_a_project_name_over_the_limit_is_named(conn: Conn, owner: str, tmp_path: Path) -> None:
    tag = "t" * 196  # "demo:" + 196 = 201 characters
    doc = {
        "master": {"tasks": [{"id": 1, "title": "A"}]},
        tag: {"tasks": [{"id": 1, "title": "B"}]},
    }
    path = write(tmp_path, json.dumps(doc))
    message = refused(conn, path, owner, tag=ALL_TAGS)
    assert message == (
        f"{path} (tag {tag!r}): cannot go to project 'demo:{'t' * 34}…': it is 201"
        " characters, over the 200 a project name can hold"
    )
    before = state(conn)
    with pytest.raises(TaskFileError) as caught:
        import_taskmaster(conn, path, project="p" * 201, owner=owner)
    assert str(caught.value) == (
        f"{path} (tag 'master'): cannot go to project '{'p' * 39}…': it is 201 characters,"
        " over the 200 a project name can hold"
    )
    assert state(conn) == before
    [ok] = import_taskmaster(conn, path, project="d" * 200, owner=owner)
    assert ok.created == 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            '{"tasks": [{"id": 1, "title": "A", "title": "B"}]}',
            "task 1 has the key 'title' twice: JSON keeps only the last value, so one is lost",
        ),
        (
            '{"tasks": [{"id": 1, "title": "A", "subtasks": [{"id": 2, "title": "S",'
            ' "metadata": {"a": [{"b": 1, "b": 2}]}}]}]}',
            "task 1.2 has the key 'b' twice in 'metadata.a[0]': JSON keeps only the last"
            " value, so one is lost",
        ),
        (
            '{"tasks": [{"id": 1, "title": "A"}], "tasks": []}',
            "has the key 'tasks' twice at the top level: JSON keeps only the last value,"
            " so one is lost",
        ),
        (
            '{"tasks": [{"id": 1, "title": "A", "estimatedHours": 1e400}]}',
            "task 1 has 1e400 in 'estimatedHours', a number out of range (infinite)",
        ),
        (
            '{"tasks": [{"id": 1, "title": "A", "complexity": -Infinity}]}',
            "task 1 has -Infinity in 'complexity', which is not valid JSON",
        ),
        (
            '{"tasks": [{"id": 1, "title": "A", "dependencies": [NaN]}]}',
            "task 1 has NaN in 'dependencies[0]', which is not valid JSON",
        ),
        (
            '{"tasks": [{"id": 1e999, "title": "A"}]}',
            "task number 1 has the id 1e999, a number out of range (infinite)",
        ),
    ],
    ids=["duplicate", "nested-duplicate", "top-duplicate", "1e400", "-Infinity", "NaN", "id"],
)
def test_json_that_would_lose_data_or_fail_late_is_refused(
    conn: Conn, owner: str, tmp_path: Path, text: str, problem: str
) -> None:
    import_taskmaster(conn, write(tmp_path, json.dumps(SEED_DOC), "seed.json"), project="demo",
                      owner=owner)  # fmt: skip
    path = write(tmp_path, text)
    assert refused(conn, path, owner, prune=True) == f"{path}: {problem}"


def _hand_made_loop(conn: Conn, owner: str, tmp_path: Path) -> tuple[Path, Any]:
    """Project demo: 1, 2, 3 from a file; by hand, subtask R of 3 without a key that
    waits for 1, and 2 waits for R. A file where 1 waits for 2 closes 1 → 2 → R → 1."""
    doc = {
        "tasks": [{"id": 1, "title": "One"}, {"id": 2, "title": "Two"}, {"id": 3, "title": "Three"}]
    }
    [first] = import_taskmaster(conn, write(tmp_path, json.dumps(doc), "v1.json"), project="demo",
                                owner=owner)  # fmt: skip
    assert first.project is not None
    by_key = {node.task.key: node.task for node in tasks.project_tree(conn, first.project.id)}
    review = tasks.create(
        conn, owner_id=by_key["1"].owner_id, project_id=first.project.id,
        parent_id=by_key["3"].id, title="Review",
    )  # fmt: skip
    dependencies.add(conn, review.id, by_key["1"].id)
    dependencies.add(conn, by_key["2"].id, review.id)
    edited = {"tasks": [{"id": 1, "title": "One", "dependencies": [2]}, {"id": 2, "title": "Two"}]}
    return write(tmp_path, json.dumps(edited)), first.project


def test_a_cycle_through_a_hand_made_task_is_refused(
    conn: Conn, owner: str, tmp_path: Path
) -> None:
    path, _ = _hand_made_loop(conn, owner, tmp_path)
    assert refused(conn, path, owner) == (
        f"{path}: task 1 would make a dependency cycle in the project:"
        " 1 → 2 → the hand-made task 'Review' → 1"
    )


def test_pruning_the_hand_made_tasks_parent_breaks_the_loop(
    conn: Conn, owner: str, tmp_path: Path
) -> None:
    """Pruning 3 deletes its subtask R (ON DELETE CASCADE), so no cycle is left."""
    path, project = _hand_made_loop(conn, owner, tmp_path)
    [result] = import_taskmaster(conn, path, project="demo", owner=owner, prune=True)
    assert (result.deleted, result.updated) == (1, 1)
    titles = conn.execute("SELECT title FROM tasks ORDER BY title").fetchall()
    assert titles == [("One",), ("Two",)]
    waits = conn.execute(
        "SELECT t.key, d.key FROM task_dependencies e JOIN tasks t ON t.id = e.task_id"
        " JOIN tasks d ON d.id = e.depends_on_id WHERE e.project_id = %s",
        [project.id],
    ).fetchall()
    assert waits == [("1", "2")]
