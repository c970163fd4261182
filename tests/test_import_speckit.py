"""spec-kit tasks.md parsing: phases, markers, nesting, repeated codes, paths."""

from __future__ import annotations

from pathlib import Path

from dal.importers.export import to_taskmaster_json
from dal.importers.model import TITLE_MAX
from dal.importers.speckit import parse_speckit

FIXTURE = Path(__file__).parent / "fixtures" / "speckit_tasks.md"


def test_tasks_phases_and_markers() -> None:
    file = parse_speckit(FIXTURE.read_text(encoding="utf-8"), filename="tasks.md")
    assert file.source_format == "speckit"
    assert file.metadata == {
        "title": "Tasks: Demo feature",
        "fields": {"Feature ID": "042-demo", "Status": "Draft"},
    }
    assert [t.key for t in file.tasks] == ["T001", "T002", "T003", "T003a", "T004", "T004#2"]
    tasks = {t.key: t for t in file.tasks}
    assert [t.status for t in file.tasks] == [
        "done",
        "done",
        "pending",
        "done",
        "pending",
        "pending",
    ]

    first = tasks["T001"]
    assert first.title == "Create the layout in `src/app/` and `tests/`"
    assert first.data == {
        "code": "T001",
        "phase": "1",
        "phase_name": "Setup",
        "phase_completed": True,
        "parallel": False,
        "paths": ["src/app/", "tests/"],
    }
    assert tasks["T002"].data["parallel"] is True
    assert tasks["T002"].data["paths"] == ["src/app/settings.py"]

    login = tasks["T003"]
    assert login.data["story"] == "US1"
    assert login.data["phase"] == "2"
    assert login.data["phase_name"] == "User Story 1 - Sign in (Priority: P1)"
    assert login.data["section"] == "Tests for User Story 1"
    assert "phase_completed" not in login.data


def test_nested_tasks_notes_and_repeated_codes() -> None:
    tasks = {t.key: t for t in parse_speckit(FIXTURE.read_text(), filename="tasks.md").tasks}
    nested = tasks["T003a"]
    assert nested.parent_key == "T003"
    assert nested.data["notes"] == ["- covers the locked account case"]
    assert nested.data["paths"] == ["tests/conftest.py"]
    assert tasks["T004"].parent_key is None
    assert tasks["T004"].data["paths"] == ["src/app/auth.py"]  # the URL is not a path
    again = tasks["T004#2"]
    assert (again.data["code"], again.data["occurrence"]) == ("T004", 2)
    assert again.data["section"] == "Implementation for User Story 1"
    assert "paths" not in again.data  # `argon2` is code, not a file


def test_checkboxes_without_a_code_are_not_tasks() -> None:
    file = parse_speckit("## Done when\n\n- [ ] all green\n- [x] reviewed\n", filename="t.md")
    assert file.tasks == ()
    assert file.metadata is None


def test_long_lines_empty_text_and_other_labels() -> None:
    text = f"- [ ] T001 [FR-002] {'word ' * 60}\n- [x] T002\n"
    long_task, bare = parse_speckit(text, filename="t.md").tasks
    assert len(long_task.title) == TITLE_MAX
    assert long_task.description == ("word " * 60).strip()
    assert long_task.data["labels"] == ["FR-002"]
    assert "phase" not in long_task.data
    assert (bare.title, bare.status) == ("T002", "done")


def test_export_to_task_master_keeps_spec_kit_fields() -> None:
    file = parse_speckit(FIXTURE.read_text(), filename="tasks.md")
    exported = to_taskmaster_json(file)["tasks"]
    assert [t["id"] for t in exported] == ["T001", "T002", "T003", "T004", "T004#2"]
    assert exported[2]["subtasks"][0]["id"] == "T003a"
    assert exported[0]["phase_completed"] is True
