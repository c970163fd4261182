"""Task Master parsing (JSON and plain text), validation errors and JSON round trips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dal import InvalidData
from dal.importers.export import to_taskmaster_json
from dal.importers.model import IMPORT_KEY, TITLE_MAX, ImportedTask, ImportFile, TaskFileError
from dal.importers.taskmaster import load_path, parse_taskmaster

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def parse_one(doc: Any, tag: str | None = None) -> ImportFile:
    """The file parsed strictly: a dependency on a task it lacks is an error here."""
    files = parse_taskmaster(json.dumps(doc), filename="tasks.json", tag=tag, strict=True)
    assert len(files) == 1
    return files[0]


def by_key(file: ImportFile) -> dict[str, ImportedTask]:
    return {task.key: task for task in file.tasks}


def legacy(*tasks: dict[str, Any]) -> dict[str, Any]:
    return {"tasks": list(tasks)}


def task(id_: int | str, **fields: Any) -> dict[str, Any]:
    return {"id": id_, "title": f"Task {id_}", "status": "pending", **fields}


# --- legacy JSON ---------------------------------------------------------------------


def test_legacy_keys_parents_and_order() -> None:
    [file] = load_path(FIXTURES / "tm_legacy.json")
    assert file.source_format == "taskmaster-json-legacy"
    assert file.tag is None
    assert file.metadata == {"projectName": "demo", "totalTasks": 2, "sourceFile": "prd.txt"}
    keys = [t.key for t in file.tasks]
    assert keys == ["1", "2", "2.1", "2.2", "2.3", "2.4", "3", "3.1", "3.1.1"]
    assert [t.position for t in file.tasks] == list(range(9))
    tasks = by_key(file)
    assert tasks["2.3"].parent_key == "2"
    assert tasks["3.1.1"].parent_key == "3.1"  # nested subtasks are flattened, not lost


def test_legacy_fields_statuses_and_priorities() -> None:
    tasks = by_key(load_path(FIXTURES / "tm_legacy.json")[0])
    assert tasks["1"].status == "done"
    assert tasks["2"].status == "in_progress"
    assert tasks["2.3"].status == "review"
    assert tasks["3"].status == "blocked"
    assert tasks["2.2"].status == "pending"  # no status key: pending, absence recorded
    assert "status" not in tasks["2.2"].data[IMPORT_KEY]["keys"]
    assert tasks["1"].priority == "high"
    assert tasks["3"].priority is None
    assert tasks["2.1"].priority is None
    assert tasks["2.3"].description is None
    assert tasks["1"].data["details"] == "Use a src layout."
    assert tasks["1"].data["testStrategy"] == "CI passes."
    assert tasks["2"].data["details"] is None
    assert tasks["2"].data["estimatedHours"] == 5  # unknown fields kept verbatim
    assert tasks["2.2"].data["parentTaskId"] == 2
    assert tasks["2.4"].data["acceptanceCriteria"] == "- readable"


def test_subtask_dependency_forms() -> None:
    tasks = by_key(load_path(FIXTURES / "tm_legacy.json")[0])
    assert tasks["2"].depends_on == ("1",)
    assert tasks["2.2"].depends_on == ("2.1",)  # int: a sibling
    # "P.S" string, int sibling, and a string naming a top-level task
    assert tasks["2.3"].depends_on == ("2.2", "2.1", "1")
    assert tasks["2.3"].data[IMPORT_KEY]["id"] == "2.3"
    assert tasks["2.4"].depends_on == ("2.3",)
    assert tasks["3"].depends_on == ("2", "2.4")  # a top-level task may wait for a subtask


def test_int_matching_no_sibling_means_a_top_level_task() -> None:
    doc = legacy(task(7), task(8, subtasks=[task(1, dependencies=[7])]))
    assert by_key(parse_one(doc))["8.1"].depends_on == ("7",)


def test_ambiguous_int_that_would_close_a_cycle_means_the_top_level_task() -> None:
    subtasks = [task(1), task(2, dependencies=[5]), task(5, dependencies=[1, 2])]
    doc = legacy(task(5), task(7, dependencies=[5], subtasks=subtasks))
    tasks = by_key(parse_one(doc))
    assert tasks["7.2"].depends_on == ("5",)
    assert tasks["7.5"].depends_on == ("7.1", "7.2")
    assert to_taskmaster_json(parse_one(doc)) == doc


def test_repeated_dependency_counts_once_and_round_trips() -> None:
    doc = legacy(task(1), task(2, dependencies=[1, "1", 1]))
    file = parse_one(doc)
    assert by_key(file)["2"].depends_on == ("1",)
    assert to_taskmaster_json(file) == doc


def test_int_and_string_ids_keep_their_type() -> None:
    doc = legacy(task(1), task("2", dependencies=[1]), task("rust-core", dependencies=["2"]))
    file = parse_one(doc)
    assert [t.key for t in file.tasks] == ["1", "2", "rust-core"]
    assert to_taskmaster_json(file) == doc


def test_long_title_is_cut_and_restored() -> None:
    doc = legacy(task(1, title="x" * (TITLE_MAX + 50)))
    file = parse_one(doc)
    assert len(file.tasks[0].title) == TITLE_MAX
    assert to_taskmaster_json(file) == doc


# --- tagged JSON ---------------------------------------------------------------------


def test_tagged_default_skips_an_empty_master() -> None:
    files = load_path(FIXTURES / "tm_tagged.json")
    assert [(f.tag, f.source_format) for f in files] == [("feature-a", "taskmaster-json-tagged")]
    tasks = by_key(files[0])
    assert tasks["1"].priority == "high"
    assert tasks["1"].data[IMPORT_KEY]["priority"] == "High"
    assert tasks["2.2"].depends_on == ("2.1",)
    assert tasks["2.1"].data["parentId"] == "undefined"


def test_tagged_master_is_the_default_when_it_has_tasks() -> None:
    doc = {"other": {"tasks": [task(1)]}, "master": {"tasks": [task(1), task(2)]}}
    assert len(parse_one(doc).tasks) == 2


def test_tagged_pick_one_or_all() -> None:
    text = fixture_text("tm_tagged.json")
    [b] = parse_taskmaster(text, filename="tasks.json", tag="feature-b")
    assert b.metadata is None
    tasks = by_key(b)
    assert tasks["1"].depends_on == ("core-port",)
    assert (tasks["1"].status, tasks["1"].priority) == ("deferred", "critical")
    assert tasks["core-port"].status == "cancelled"
    every = parse_taskmaster(text, filename="tasks.json", tag="*")
    assert [f.tag for f in every] == ["master", "feature-a", "feature-b"]
    assert every[0].tasks == ()
    with pytest.raises(TaskFileError, match=r"has no tag 'nope' \(tags: master, feature-a"):
        parse_taskmaster(text, filename="tasks.json", tag="nope")


def test_ids_restart_in_each_tag() -> None:
    doc = {"a": {"tasks": [task(1)]}, "b": {"tasks": [task(1, dependencies=[1])]}}
    with pytest.raises(TaskFileError, match=r"\(tag 'b'\): task 1 depends on itself"):
        parse_taskmaster(json.dumps(doc), filename="tasks.json", tag="*")


# --- round trips ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tm_legacy.json", "tm_tagged.json"])
def test_export_restores_the_original_document(name: str) -> None:
    text = fixture_text(name)
    files = parse_taskmaster(text, filename=name, tag="*")
    exported = to_taskmaster_json(*files)
    assert exported == json.loads(text)
    again = parse_taskmaster(json.dumps(exported), filename=name, tag="*")
    assert again == files


def test_export_writes_current_values_over_stale_hints() -> None:
    from dataclasses import replace

    file = load_path(FIXTURES / "tm_legacy.json")[0]
    changed = [
        replace(t, status="done", depends_on=()) if t.key == "2.2" else t for t in file.tasks
    ]
    subtask = to_taskmaster_json(replace(file, tasks=tuple(changed)))["tasks"][1]["subtasks"][1]
    assert subtask["status"] == "done"  # absent in the file, but no longer the default
    assert subtask["dependencies"] == []


def test_export_of_tasks_without_hints_uses_task_master_forms() -> None:
    tasks = (
        ImportedTask("4", None, "Top", None, "in_progress", "low", (), {}, 0),
        ImportedTask("4.1", "4", "Sub", "d", "completed", None, (), {"details": "x"}, 1),
        ImportedTask("4.2", "4", "Sub 2", None, "pending", None, ("4.1", "4"), {}, 2),
    )
    file = ImportFile("taskmaster-text", None, None, tasks)
    assert to_taskmaster_json(file) == {
        "tasks": [
            {
                "id": 4,
                "title": "Top",
                "status": "in-progress",
                "priority": "low",
                "dependencies": [],
                "subtasks": [
                    {
                        "id": 1,
                        "title": "Sub",
                        "description": "d",
                        "status": "completed",
                        "dependencies": [],
                        "details": "x",
                    },
                    {"id": 2, "title": "Sub 2", "status": "pending", "dependencies": [1, 4]},
                ],
            }
        ]
    }


# --- validation errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (legacy(task(1), task(2, dependencies=[9])), "task 2 depends on 9, which does not exist"),
        (
            legacy(task(7, subtasks=[task(1), task(2, dependencies=["9.1"])])),
            "task 7.2 depends on 9.1, which does not exist",
        ),
        (legacy(task(1), task(1)), "task 1 is defined twice"),
        (legacy(task(1), task("1")), "task 1 is defined twice"),
        (legacy(task(3, subtasks=[task(1), task("3.1")])), "task 3.1 is defined twice"),
        (legacy(task(1, dependencies=[1])), "task 1 depends on itself"),
        (
            legacy(task(1, dependencies=[3]), task(2, dependencies=[1]), task(3, dependencies=[2])),
            "task 1 is in a dependency cycle: 1 → 3 → 2 → 1",
        ),
        (legacy(task(1, status="todo")), "task 1 has status 'todo', which Task Master does not"),
        (legacy(task(1, priority="urgent")), "task 1 has priority 'urgent'"),
        (legacy(task(1, priority=2)), "task 1 has a priority that is a number"),
        (legacy({"id": 1, "name": "x"}), "task 1 has no title"),
        (legacy(task(1, title="  ")), "task 1 has a blank title"),
        (legacy(task(1, title=5)), "task 1 has a title that is a number"),
        (legacy(task(1, dependencies="2")), "task 1 has 'dependencies' as a string"),
        (legacy(task(1, dependencies=[1.5])), "task 1 has a dependency that is a number"),
        (legacy(task(1, dependencies=[True])), "task 1 has a dependency that is a boolean"),
        (legacy(task(1, subtasks={})), "task 1 has 'subtasks' as an object"),
        (legacy(task(1, description=["x"])), "task 1 has a description that is a list"),
        (legacy(task(1, _import={})), "task 1 has a field named '_import'"),
        (legacy({"title": "no id"}), "task number 1 has no id"),
        (legacy(task(2, subtasks=[{"title": "x"}])), "subtask number 1 of task 2 has no id"),
        ({"tasks": [task(1) | {"id": None}]}, "task number 1 has an id that is null"),
        ({"tasks": ["just text"]}, "task number 1 is a string, not an object"),
        ({"tasks": {}}, "has 'tasks' as an object, not a list"),
        ({"tasks": [], "version": 2}, "unexpected key 'version' beside 'tasks'"),
        ({"tasks": [], "metadata": []}, "has 'metadata' as a list"),
        ([task(1)], "the top level is a list, not an object"),
        ({"todos": [{"id": 1}]}, "top-level key 'todos' is neither 'tasks' nor a tag"),
        ({}, "is an empty object"),
    ],
)
def test_invalid_files_name_the_task_and_problem(doc: Any, message: str) -> None:
    with pytest.raises(TaskFileError) as caught:
        parse_one(doc)
    assert caught.value.message.startswith("tasks.json")
    assert message in caught.value.message
    assert isinstance(caught.value, InvalidData)


def test_error_attributes() -> None:
    with pytest.raises(TaskFileError) as caught:
        parse_one(legacy(task(7, subtasks=[task(1), task(2, dependencies=[9])])))
    error = caught.value
    assert (error.filename, error.task, error.tag) == ("tasks.json", "7.2", None)
    assert error.problem == "depends on 9, which does not exist"
    assert str(error) == "tasks.json: task 7.2 depends on 9, which does not exist"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"tasks": [', "is not valid JSON: Expecting value at line 1, column 12"),
        ('{"tasks": [NaN]}', "task number 1 is NaN, which is not valid JSON"),
        ("hello", "is neither JSON nor a Task Master task file"),
        ("", "is neither JSON nor a Task Master task file"),
    ],
)
def test_not_json(text: str, message: str) -> None:
    with pytest.raises(TaskFileError, match=message):
        parse_taskmaster(text, filename="tasks.json")


def test_unreadable_paths(tmp_path: Path) -> None:
    with pytest.raises(TaskFileError, match="cannot be read"):
        load_path(tmp_path / "missing.json")
    binary = tmp_path / "tasks.json"
    binary.write_bytes(b"\xff\xfe{")
    with pytest.raises(TaskFileError, match="is not UTF-8 text"):
        load_path(binary)
    with pytest.raises(TaskFileError, match=r"holds no task_NNN\.txt files"):
        load_path(tmp_path)


def test_legacy_file_has_only_the_master_tag() -> None:
    with pytest.raises(TaskFileError, match="untagged"):
        parse_taskmaster(json.dumps(legacy(task(1))), filename="tasks.json", tag="feature")
    assert len(parse_one(legacy(task(1)), tag="master").tasks) == 1


# --- plain-text task files -----------------------------------------------------------


def test_text_single_task_with_subtasks() -> None:
    with pytest.raises(TaskFileError, match="task 12 depends on 11, which does not exist"):
        parse_taskmaster(fixture_text("task_012.txt"), filename="task_012.txt", strict=True)
    [alone] = parse_taskmaster(fixture_text("task_012.txt"), filename="task_012.txt")
    assert (alone.tasks[0].depends_on, alone.tasks[0].unresolved) == ((), ("11",))
    text = fixture_text("task_011.txt") + fixture_text("task_012.txt")
    [file] = parse_taskmaster(text, filename="tasks.txt")
    assert file.source_format == "taskmaster-text"
    tasks = by_key(file)
    assert list(tasks) == ["11", "12", "12.1", "12.2", "12.3"]
    assert tasks["11"].depends_on == ()
    assert tasks["11"].description == "PostgreSQL."
    assert "details" not in tasks["11"].data
    twelve = tasks["12"]
    assert (twelve.status, twelve.priority, twelve.depends_on) == ("in_progress", "high", ("11",))
    assert twelve.data["details"] == (
        "Write the tables first.\n# Not a field: a Markdown heading inside the details"
    )
    assert twelve.data["testStrategy"] == "Apply and roll back."
    assert tasks["12.1"].status == "done"
    assert tasks["12.1"].data["details"] == "CREATE TABLE ..."
    assert tasks["12.2"].depends_on == ("12.1",)
    assert "details" not in tasks["12.2"].data
    assert tasks["12.3"].depends_on == ("12.1", "12.2")
    assert tasks["12.3"].description is None


def test_text_directory_and_round_trip_through_json(tmp_path: Path) -> None:
    for name in ("task_011.txt", "task_012.txt"):
        (tmp_path / name).write_text(fixture_text(name), encoding="utf-8")
    (tmp_path / "task_001_other.txt").write_text("# Task ID: 1\n# Title: Other tag\n")
    [file] = load_path(tmp_path)
    assert [t.key for t in file.tasks] == ["11", "12", "12.1", "12.2", "12.3"]
    exported = to_taskmaster_json(file)
    assert exported["tasks"][1]["subtasks"][2]["dependencies"] == [1, 2]
    [again] = parse_taskmaster(json.dumps(exported), filename="tasks.json")
    assert [(t.key, t.status, t.depends_on) for t in again.tasks] == [
        (t.key, t.status, t.depends_on) for t in file.tasks
    ]
    [other] = load_path(tmp_path, tag="other")
    assert (other.tag, other.tasks[0].title) == ("other", "Other tag")


def test_text_decorated_dependencies_and_errors() -> None:
    text = "# Task ID: 1\n# Title: A\n\n# Task ID: 2\n# Title: B\n# Dependencies: ✅ 1 (done)\n"
    [file] = parse_taskmaster(text, filename="t.txt")
    assert by_key(file)["2"].depends_on == ("1",)
    with pytest.raises(TaskFileError, match=r"t.txt: task 2 has no title"):
        parse_taskmaster("# Task ID: 2\n# Status: done\n", filename="t.txt")
    with pytest.raises(TaskFileError, match=r"t.txt:3: has a second 'Title' field"):
        parse_taskmaster("# Task ID: 2\n# Title: A\n# Title: B\n", filename="t.txt")
    with pytest.raises(TaskFileError, match=r"task 2 has status 'todo'"):
        parse_taskmaster("# Task ID: 2\n# Title: A\n# Status: todo\n", filename="t.txt")
