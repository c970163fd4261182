"""The import plan: idempotence, updates, creations and what only the project has."""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path

from dal.importers.model import ImportedTask
from dal.importers.plan import ExistingTask, changed_fields, plan_import
from dal.importers.taskmaster import load_path

FIXTURE = Path(__file__).parent / "fixtures" / "tm_legacy.json"


def stored(tasks: tuple[ImportedTask, ...]) -> dict[str, ExistingTask]:
    """What the database would hand back after importing `tasks` (order not kept)."""
    out = {}
    for task in tasks:
        fields = asdict(task) | {"depends_on": tuple(sorted(task.depends_on)), "position": None}
        del fields["unresolved"]  # a file's, not stored on the task
        out[task.key] = ExistingTask(**fields)
    return out


def test_importing_the_same_file_again_changes_nothing() -> None:
    tasks = load_path(FIXTURE)[0].tasks
    plan = plan_import(tasks, stored(tasks))
    assert not plan.has_changes
    assert len(plan.unchanged) == len(tasks)
    assert plan.lines() == ["0 to create, 0 to update, 9 unchanged"]


def test_first_import_creates_everything() -> None:
    tasks = load_path(FIXTURE)[0].tasks
    plan = plan_import(tasks, {})
    assert plan.create == list(tasks)
    assert plan.lines()[0] == "+ 1: Set up the repository"


def test_edited_file_updates_adds_and_reports_deletions() -> None:
    tasks = load_path(FIXTURE)[0].tasks
    before = stored(tasks)
    before["9"] = ExistingTask("9", None, "Old", None, "pending", None, (), {})
    before["9.1"] = ExistingTask("9.1", "9", "Old sub", None, "pending", None, (), {})
    edited = [
        replace(t, status="done", depends_on=("2.1", "1")) if t.key == "2.3" else t for t in tasks
    ]
    edited.append(ImportedTask("4", None, "New", None, "pending", "low", ("3",), {}, 9))
    plan = plan_import(edited, before)
    assert [t.key for t in plan.create] == ["4"]
    assert [(old.key, new.key) for old, new in plan.update] == [("2.3", "2.3")]
    assert plan.delete == ["9.1", "9"]  # subtasks first
    assert plan.lines() == [
        "+ 4: New",
        "~ 2.3: status review -> done, dependencies -2.2",
        "- 9.1",
        "- 9",
        "1 to create, 1 to update, 8 unchanged, 2 only in the project (deleted with --prune)",
    ]


def test_changed_fields_compares_data_and_stored_position() -> None:
    task = load_path(FIXTURE)[0].tasks[0]
    old = stored((task,))[task.key]
    assert changed_fields(old, replace(task, data={})) == ["data"]
    assert changed_fields(replace(old, position=5), task) == ["position"]
