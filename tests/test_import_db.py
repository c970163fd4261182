"""The importer against a real database: idempotence, edits, pruning, errors, round trips."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dal import projects, queries, tasks
from dal.errors import NotFound
from dal.importers import (
    ALL_TAGS,
    TaskFileError,
    export_taskmaster,
    import_speckit,
    import_taskmaster,
)
from tests import factories

Conn = psycopg.Connection[Any]
FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "formats" / "examples"

DOC: dict[str, Any] = {
    "tasks": [
        {
            "id": 1,
            "title": "Set up",
            "description": "Skeleton.",
            "status": "done",
            "dependencies": [],
            "priority": "high",
            "details": "src layout",
            "testStrategy": "CI passes",
            "subtasks": [],
        },
        {
            "id": 3,
            "title": "Ship",
            "status": "blocked",
            "dependencies": ["2", 1],
            "complexity": 7,
            "subtasks": [],
        },
        {
            "id": 2,
            "title": "Parser",
            "description": "Parse.",
            "status": "in-progress",
            "dependencies": [1],
            "priority": "medium",
            "estimatedHours": 5,
            "subtasks": [
                {"id": 1, "title": "Tokens", "status": "done", "dependencies": []},
                {"id": 2, "title": "Grammar", "status": "pending", "dependencies": [1, "1"]},
            ],
        },
    ]
}


@pytest.fixture
def owner(conn: Conn) -> str:
    return factories.user(conn, "alice").username


def write(tmp_path: Path, doc: dict[str, Any], name: str = "tasks.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def snapshot(conn: Conn) -> list[tuple[Any, ...]]:
    """Every task row's identity and change markers, to prove a re-import wrote nothing."""
    return conn.execute(
        "SELECT id, key, version, updated_at, data FROM tasks ORDER BY key"
    ).fetchall()


def edges(conn: Conn) -> set[tuple[str, str]]:
    rows = conn.execute(
        "SELECT t.key, d.key FROM task_dependencies e"
        " JOIN tasks t ON t.id = e.task_id JOIN tasks d ON d.id = e.depends_on_id"
    ).fetchall()
    return {(a, b) for a, b in rows}


def test_legacy_import_stores_every_field_and_is_idempotent(
    conn: Conn, owner: str, tmp_path: Path
) -> None:
    path = write(tmp_path, DOC)
    [first] = import_taskmaster(conn, path, project="demo", owner=owner)
    assert (first.created, first.updated, first.unchanged) == (5, 0, 0)
    assert first.project is not None and first.project.name == "demo"
    row = conn.execute(
        "SELECT t.title, t.status, t.priority, t.data->>'details', t.data->>'testStrategy',"
        " p.key FROM tasks t LEFT JOIN tasks p ON p.id = t.parent_id WHERE t.key = '2.2'"
    ).fetchone()
    assert row == ("Grammar", "pending", "medium", None, None, "2")
    details = conn.execute("SELECT data->>'details' FROM tasks WHERE key = '1'").fetchone()
    assert details == ("src layout",)
    # In a subtask, 1 is sibling 2.1 and "1" is task 1 (Task Master's own convention).
    assert edges(conn) == {("3", "2"), ("3", "1"), ("2", "1"), ("2.2", "2.1"), ("2.2", "1")}
    before = snapshot(conn)

    [again] = import_taskmaster(conn, path, project="demo", owner=owner)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert again.project == first.project
    assert snapshot(conn) == before
    assert factories.count(conn, "projects") == 1


def test_round_trip_gives_back_the_same_document(conn: Conn, owner: str, tmp_path: Path) -> None:
    [result] = import_taskmaster(conn, write(tmp_path, DOC), project="demo", owner=owner)
    assert result.project is not None
    assert export_taskmaster(conn, result.project.id) == DOC


@pytest.mark.parametrize("name", ["tm_legacy.json", "task_011.txt"])
def test_fixture_round_trips_apart_from_metadata(conn: Conn, owner: str, name: str) -> None:
    [result] = import_taskmaster(conn, FIXTURES / name, project="p", owner=owner)
    assert result.project is not None
    exported = export_taskmaster(conn, result.project.id)
    [file] = import_taskmaster(conn, FIXTURES / name, project="p", owner=owner)
    assert (file.created, file.updated) == (0, 0)
    if name.endswith(".json"):
        original = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
        assert exported == {"tasks": original["tasks"]}


def test_edited_file_updates_adds_reports_then_prunes(
    conn: Conn, owner: str, tmp_path: Path
) -> None:
    import_taskmaster(conn, write(tmp_path, DOC), project="demo", owner=owner)
    edited = json.loads(json.dumps(DOC))
    edited["tasks"][0]["title"] = "Set up the repo"
    edited["tasks"][2]["subtasks"].insert(
        1, {"id": 3, "title": "AST", "status": "pending", "dependencies": [1]}
    )
    del edited["tasks"][1]  # task 3
    untouched = conn.execute("SELECT version, updated_at FROM tasks WHERE key = '2.2'").fetchone()
    path = write(tmp_path, edited)

    dry = import_taskmaster(conn, path, project="demo", owner=owner, dry_run=True)[0]
    assert (dry.created, dry.updated, dry.would_delete) == (1, 1, 1)
    assert "~ 1: title" in dry.plan.lines()
    assert factories.count(conn, "tasks") == 5

    [result] = import_taskmaster(conn, path, project="demo", owner=owner)
    assert (result.created, result.updated, result.unchanged) == (1, 1, 3)
    assert (result.deleted, result.would_delete) == (0, 1)
    assert result.plan.delete == ["3"]
    assert result.summary() == (
        "project demo: 1 created, 1 updated, 3 unchanged,"
        " 1 only in the project (delete with --prune)\n  - 3"
    )
    assert factories.count(conn, "tasks") == 6  # task 3 is still there
    after = conn.execute("SELECT version, updated_at FROM tasks WHERE key = '2.2'").fetchone()
    assert after == untouched  # inserting 2.3 before it moved nothing
    assert ("2.3", "2.1") in edges(conn)

    [pruned] = import_taskmaster(conn, path, project="demo", owner=owner, prune=True)
    assert (pruned.deleted, pruned.would_delete, pruned.unchanged) == (1, 0, 5)
    assert pruned.summary() == "project demo: 0 created, 0 updated, 5 unchanged, 1 deleted\n  - 3"
    assert factories.count(conn, "tasks") == 5
    assert {key for _, key in edges(conn)} <= {"1", "2", "2.1"}
    assert result.project is not None
    assert export_taskmaster(conn, result.project.id) == edited


def test_reordered_tasks_update_only_the_moved_one(conn: Conn, owner: str, tmp_path: Path) -> None:
    [first] = import_taskmaster(conn, write(tmp_path, DOC), project="demo", owner=owner)
    moved = json.loads(json.dumps(DOC))
    moved["tasks"].append(moved["tasks"].pop(0))  # task 1 to the end
    [result] = import_taskmaster(conn, write(tmp_path, moved), project="demo", owner=owner)
    assert [new.key for _, new in result.plan.update] == ["1"]
    assert "~ 1: position" in result.plan.lines()
    assert first.project is not None
    assert export_taskmaster(conn, first.project.id) == moved


def test_changed_dependencies_replace_the_edge_set(conn: Conn, owner: str, tmp_path: Path) -> None:
    import_taskmaster(conn, write(tmp_path, DOC), project="demo", owner=owner)
    changed = json.loads(json.dumps(DOC))
    changed["tasks"][1]["dependencies"] = [1]  # task 3 no longer waits for 2
    changed["tasks"][0]["priority"] = None
    [result] = import_taskmaster(conn, write(tmp_path, changed), project="demo", owner=owner)
    assert sorted(new.key for _, new in result.plan.update) == ["1", "3"]
    assert ("3", "2") not in edges(conn)
    assert ("3", "1") in edges(conn)
    assert result.project is not None
    assert export_taskmaster(conn, result.project.id) == changed


def test_tagged_file_one_tag_or_every_tag(conn: Conn, owner: str) -> None:
    path = FIXTURES / "tm_tagged.json"
    [default] = import_taskmaster(conn, path, project="web", owner=owner)
    assert default.tag == "feature-a"  # master is empty
    assert default.project is not None and default.project.name == "web"
    assert default.created == 4

    results = import_taskmaster(conn, path, project="web", owner=owner, tag=ALL_TAGS)
    names = [r.project_name for r in results]
    assert names == ["web:master", "web:feature-a", "web:feature-b"]
    assert [r.created for r in results] == [0, 4, 2]
    doc = json.loads(path.read_text(encoding="utf-8"))
    for result in results:
        assert result.project is not None and result.tag is not None
        exported = export_taskmaster(conn, result.project.id, tag=result.tag)
        assert exported == {result.tag: {"tasks": doc[result.tag]["tasks"]}}
    again = import_taskmaster(conn, path, project="web", owner=owner, tag=ALL_TAGS)
    assert [(r.created, r.updated) for r in again] == [(0, 0)] * 3


def test_text_task_files_import_like_json(conn: Conn, owner: str, tmp_path: Path) -> None:
    for name in ("task_011.txt", "task_012.txt"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    [result] = import_taskmaster(conn, tmp_path, project="txt", owner=owner)
    assert result.created > 2
    assert factories.count(conn, "tasks") == result.created
    before = snapshot(conn)
    [again] = import_taskmaster(conn, tmp_path, project="txt", owner=owner)
    assert (again.created, again.updated) == (0, 0)
    assert snapshot(conn) == before


def test_speckit_keeps_code_state_flags_story_and_phase(conn: Conn, owner: str) -> None:
    path = FIXTURES / "speckit_tasks.md"
    result = import_speckit(conn, path, project="spec", owner=owner)
    assert result.created == 6
    row = conn.execute(
        "SELECT t.status, t.data->>'code', t.data->'parallel', t.data->>'story',"
        " t.data->>'phase', p.key FROM tasks t JOIN tasks p ON p.id = t.parent_id"
        " WHERE t.key = 'T003a'"
    ).fetchone()
    assert row == ("done", "T003a", False, "US1", "2", "T003")
    before = snapshot(conn)
    again = import_speckit(conn, path, project="spec", owner=owner)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)
    assert snapshot(conn) == before


def test_speckit_rejects_a_file_without_tasks(conn: Conn, owner: str, tmp_path: Path) -> None:
    path = tmp_path / "tasks.md"
    path.write_text("# Notes\n\n- [ ] buy milk\n", encoding="utf-8")
    with pytest.raises(TaskFileError, match="no task lines"):
        import_speckit(conn, path, project="spec", owner=owner)
    assert factories.count(conn, "projects") == 0


BROKEN: list[tuple[str, str, str]] = [
    (
        "duplicate id",
        '{"tasks": [{"id": 1, "title": "A"}, {"id": 1, "title": "B"}]}',
        "task 1 is defined twice",
    ),
    (
        "cycle",
        '{"tasks": [{"id": 1, "title": "A", "dependencies": [2]},'
        ' {"id": 2, "title": "B", "dependencies": [1]}]}',
        "task 1 is in a dependency cycle",
    ),
    ("wrong type", '{"tasks": [{"id": 1, "title": 5}]}', "task 1 has a title that is a number"),
    ("not json", "hello there", "is neither JSON nor a Task Master task file"),
    ("broken json", '{"tasks": [', "is not valid JSON"),
    (
        "look-alike",
        '{"tasks": [{"id": 1, "title": "A", "status": "todo"}]}',
        "task 1 has status 'todo', which Task Master does not use",
    ),
    ("nul", '{"tasks": [{"id": 1, "title": "A\\u0000B"}]}', "task 1 contains a NUL character"),
    (
        "lone surrogate in an extra field",
        '{"tasks": [{"id": 1, "title": "A", "notes": "x\\ud800y"}]}',
        "task 1 contains a lone surrogate",
    ),
    (
        "lone surrogate in a title",
        '{"tasks": [{"id": 1, "title": "A\\udfffB"}]}',
        "task 1 contains a lone surrogate",
    ),
]


@pytest.mark.parametrize(
    ("text", "message"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN]
)
def test_a_broken_file_writes_nothing(
    conn: Conn, owner: str, tmp_path: Path, text: str, message: str
) -> None:
    import_taskmaster(conn, write(tmp_path, DOC), project="demo", owner=owner)
    before = snapshot(conn), factories.count(conn, "task_dependencies")
    path = tmp_path / "broken.json"
    path.write_text(text, encoding="utf-8")
    for project in ("demo", "fresh"):
        with pytest.raises(TaskFileError) as caught:
            import_taskmaster(conn, path, project=project, owner=owner, prune=True)
        assert message in str(caught.value)
        assert str(path) in str(caught.value)
    assert (snapshot(conn), factories.count(conn, "task_dependencies")) == before
    assert factories.count(conn, "projects") == 1


def test_owner_by_username_or_email_and_unknown(conn: Conn, tmp_path: Path) -> None:
    alice = factories.user(conn, "alice")
    path = write(tmp_path, DOC)
    [by_name] = import_taskmaster(conn, path, project="demo", owner="ALICE")
    [by_email] = import_taskmaster(conn, path, project="demo", owner="alice@example.com")
    assert by_name.project == by_email.project
    assert by_name.project is not None and by_name.project.owner_id == alice.id
    assert projects.get_member(conn, by_name.project.id, alice.id).role == "owner"
    with pytest.raises(NotFound, match="owner 'bob': no user with that username"):
        import_taskmaster(conn, path, project="demo", owner="bob")
    with pytest.raises(NotFound, match="no user with that email"):
        import_speckit(conn, FIXTURES / "speckit_tasks.md", project="s", owner="bob@x.org")
    assert factories.count(conn, "projects") == 1


def test_dry_run_writes_nothing_not_even_the_project(
    conn: Conn, owner: str, tmp_path: Path
) -> None:
    [result] = import_taskmaster(conn, write(tmp_path, DOC), project="d", owner=owner, dry_run=True)
    assert result.project is None
    assert result.created == 5
    assert result.summary().startswith("project d (new): 5 to create")
    assert factories.count(conn, "projects") == 0
    assert factories.count(conn, "tasks") == 0


def test_two_tags_are_written_together_or_not_at_all(
    conn: Conn, owner: str, tmp_path: Path
) -> None:
    doc = {
        "a": {"tasks": [{"id": 1, "title": "A"}]},
        "b": {"tasks": [{"id": 1, "title": "x" * 5, "description": "bad\u0000"}]},
    }
    with pytest.raises(TaskFileError, match="tag 'b'"):
        import_taskmaster(conn, write(tmp_path, doc), project="t", owner=owner, tag=ALL_TAGS)
    assert factories.count(conn, "projects") == 0


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement this process sends through a cursor from now on, by query
    name (or its text)."""
    names = {query.text: name for name, query in queries.QUERIES.items()}  # as sent
    sent: list[str] = []
    real = psycopg.Cursor.execute

    def spy(self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(names.get(query, query) if isinstance(query, str) else str(query))
        return real(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", spy)
    return sent


WRITES = ("importing.insert_", "importing.update_", "importing.delete_", "projects.insert")


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason=f"{EXAMPLES} not present")
def test_the_real_561_task_file_imports_set_based_and_round_trips(
    conn: Conn, owner: str, statements: list[str]
) -> None:
    """A few statements whatever the file's size (speed itself is for benchmarks/)."""
    path = EXAMPLES / "taskmaster-legacy.json"
    [result] = import_taskmaster(conn, path, project="big", owner=owner)
    first = list(statements)
    subtasks = conn.execute("SELECT count(*) FROM tasks WHERE parent_id IS NOT NULL").fetchone()
    assert (result.created, factories.count(conn, "tasks"), subtasks) == (561, 561, (468,))
    # One INSERT per tree level (tasks, then subtasks) and one for all the edges.
    assert [name for name in first if name.startswith(WRITES)] == [
        "projects.insert",
        "importing.insert_tasks",
        "importing.insert_tasks",
        "importing.insert_dependencies",
    ]
    assert len(first) <= 12, first

    before = snapshot(conn)
    statements.clear()
    [again] = import_taskmaster(conn, path, project="big", owner=owner)
    second = list(statements)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 561)
    assert not [name for name in second if name.startswith(WRITES)]
    assert second.count("importing.project_tasks") == 1  # the project is read once
    assert len(second) <= 8, second
    assert snapshot(conn) == before
    assert result.project is not None
    exported = export_taskmaster(conn, result.project.id)
    assert exported["tasks"] == json.loads(path.read_text(encoding="utf-8"))["tasks"]


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason=f"{EXAMPLES} not present")
def test_the_real_tagged_and_speckit_files(conn: Conn, owner: str) -> None:
    path = EXAMPLES / "taskmaster-tagged.json"
    results = import_taskmaster(conn, path, project="wars", owner=owner, tag=ALL_TAGS)
    assert [r.created for r in results] == [0, 12 + 78, 26 + 148, 14 + 70]
    doc = json.loads(path.read_text(encoding="utf-8"))
    for result in results:
        assert result.project is not None and result.tag is not None
        exported = export_taskmaster(conn, result.project.id, tag=result.tag)
        assert exported[result.tag]["tasks"] == doc[result.tag]["tasks"]
    spec = import_speckit(conn, EXAMPLES / "speckit-tasks.md", project="spec", owner=owner)
    assert spec.created == 94
    again = import_speckit(conn, EXAMPLES / "speckit-tasks.md", project="spec", owner=owner)
    assert again.unchanged == 94


def test_tree_and_export_put_hand_made_keys_in_the_same_natural_order(conn: Conn) -> None:
    """Keys made by hand (no stored file position): numbers before words, digit runs
    compared as numbers ("T2" before "T10"), in project_tree and in the export alike."""
    person = factories.user(conn)
    made = factories.project(conn, person)
    for key in ["T10", "10", "T001", "2", "T2", "1.10", "1.2", "1"]:
        tasks.create(conn, owner_id=person.id, project_id=made.id, key=key, title=f"Task {key}")
    expected = ["1", "1.2", "1.10", "2", "10", "T001", "T2", "T10"]
    assert [node.task.key for node in tasks.project_tree(conn, made.id)] == expected
    exported = export_taskmaster(conn, made.id)
    assert [str(task["id"]) for task in exported["tasks"]] == expected


def test_export_of_a_missing_project_is_not_found(conn: Conn) -> None:
    with pytest.raises(NotFound):
        export_taskmaster(conn, uuid.uuid4())
