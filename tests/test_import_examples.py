"""The real example files next to the repository, when present (never copied in)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dal.importers.export import to_taskmaster_json
from dal.importers.speckit import parse_speckit
from dal.importers.taskmaster import load_path, parse_taskmaster

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "formats" / "examples"

pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason=f"{EXAMPLES} not present")


def counts(path: Path) -> list[tuple[str | None, int, int]]:
    """(tag, top-level tasks, subtasks) per tag."""
    files = load_path(path, tag="*")
    return [
        (
            f.tag,
            sum(t.parent_key is None for t in f.tasks),
            sum(t.parent_key is not None for t in f.tasks),
        )
        for f in files
    ]


@pytest.mark.parametrize("name", ["taskmaster-legacy.json", "taskmaster-tagged.json"])
def test_task_master_examples_round_trip_exactly(name: str) -> None:
    path = EXAMPLES / name
    files = load_path(path, tag="*")
    exported = to_taskmaster_json(*files)
    assert exported == json.loads(path.read_text(encoding="utf-8"))
    assert parse_taskmaster(json.dumps(exported), filename=name, tag="*") == files


def test_task_master_example_counts() -> None:
    assert counts(EXAMPLES / "taskmaster-legacy.json") == [(None, 93, 468)]
    assert counts(EXAMPLES / "taskmaster-tagged.json") == [
        ("master", 0, 0),
        ("agent-wars", 12, 78),
        ("agent-wars-frontend", 26, 148),
        ("agent-wars-backend", 14, 70),
    ]
    [default] = load_path(EXAMPLES / "taskmaster-tagged.json")
    assert default.tag == "agent-wars"  # master is empty


def test_speckit_example_counts() -> None:
    path = EXAMPLES / "speckit-tasks.md"
    file = parse_speckit(path.read_text(encoding="utf-8"), filename=path.name)
    assert len(file.tasks) == 94
    assert sum(t.status == "done" for t in file.tasks) == 68
    assert sum(t.data["parallel"] for t in file.tasks) == 20
    assert len({t.data["phase"] for t in file.tasks}) == 7
