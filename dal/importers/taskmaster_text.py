"""Task Master's plain-text task files (`task-master generate`): text to raw task dicts.

The text is turned into the same dicts a `tasks.json` holds, so one validator
(`taskmaster._build`) gives both formats the same guarantees. A file holds one task or
several concatenated; each starts with a ``# Task ID:`` line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from dal.importers._tm_ids import default_id
from dal.importers.model import TaskFileError

TASK_HEADER: Final = "# Task ID:"

# Only these labels start a field; any other "# ..." line is part of the text above it
# (details often hold Markdown headings).
_TASK_FIELD = re.compile(
    r"# (Task ID|Title|Status|Dependencies|Priority|Description|Details|Test Strategy|Subtasks):"
    r"[ \t]?(.*)"
)
_SUBTASK_HEADING = re.compile(r"## (\S+?)\. (.*?)(?: \[([^\]]*)\])?\s*")
_SUBTASK_FIELD = re.compile(r"### (Dependencies|Description|Details):[ \t]?(.*)")
_DEP_TOKEN = re.compile(r"[A-Za-z0-9][\w.-]*")

_JSON_NAMES: Final = {
    "Task ID": "id",
    "Title": "title",
    "Status": "status",
    "Dependencies": "dependencies",
    "Priority": "priority",
    "Description": "description",
    "Details": "details",
    "Test Strategy": "testStrategy",
}
"""Field label to `tasks.json` key, in the order `tasks.json` writes them."""


@dataclass
class _Block:
    """Lines of one task or subtask, by field label, as they are collected."""

    line: int
    fields: dict[str, list[str]] = field(default_factory=dict)
    heading: re.Match[str] | None = None
    subtasks: list[_Block] = field(default_factory=list)


def text_to_raw(text: str, *, filename: str) -> list[dict[str, Any]]:
    """The tasks of a plain-text task file as `tasks.json`-shaped dicts."""
    tasks: list[_Block] = []
    current: list[str] | None = None  # the field whose lines we are collecting
    in_subtasks = False
    for number, line in enumerate(text.splitlines(), 1):
        top = _TASK_FIELD.fullmatch(line)
        if top and top[1] == "Task ID":
            tasks.append(_Block(number))
            in_subtasks = False
        if not tasks:
            if line.strip():
                raise TaskFileError(filename, f"expected {TASK_HEADER!r}", line=number)
            continue
        task = tasks[-1]
        heading = _SUBTASK_HEADING.fullmatch(line) if in_subtasks else None
        sub = _SUBTASK_FIELD.fullmatch(line) if in_subtasks and task.subtasks else None
        if top and (not in_subtasks or top[1] == "Task ID"):
            in_subtasks = top[1] == "Subtasks"
            current = _start(task, top[1], top[2], filename, number)
        elif heading:
            task.subtasks.append(_Block(number, heading=heading))
            current = None
        elif sub:
            current = _start(task.subtasks[-1], sub[1], sub[2], filename, number)
        elif current is not None:
            current.append(line)
        elif line.strip():
            raise TaskFileError(filename, f"unexpected text {line.strip()[:40]!r}", line=number)
    return [_task_dict(task, filename) for task in tasks]


def _start(block: _Block, label: str, first: str, filename: str, line: int) -> list[str]:
    if label in block.fields:
        raise TaskFileError(filename, f"has a second {label!r} field", line=line)
    block.fields[label] = [first]
    return block.fields[label]


def _value(lines: list[str]) -> str:
    """A field's text without the blank lines the generator puts around it."""
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return "\n".join(lines[start:end])


def _deps(text: str, *, numbers_are_ids: bool) -> list[int | str]:
    """Ids from "1, 2", "None" or decorated forms like "✅ 1 (done)"."""
    if text.strip().lower() in ("", "none"):
        return []
    out: list[int | str] = []
    for part in text.split(","):
        match = _DEP_TOKEN.search(part)
        if match:
            out.append(default_id(match[0]) if numbers_are_ids else match[0])
    return out


def _task_dict(task: _Block, filename: str) -> dict[str, Any]:
    values = {label: _value(lines) for label, lines in task.fields.items() if label != "Subtasks"}
    raw: dict[str, Any] = {}
    for label, name in _JSON_NAMES.items():
        if values.get(label):
            raw[name] = values[label]
    if "id" not in raw:
        raise TaskFileError(filename, "has a '# Task ID:' line with no id", line=task.line)
    raw["id"] = default_id(raw["id"])
    # Top-level ids are written as numbers. `generate` writes a subtask's sibling
    # dependencies dotted ("12.1") and anything else as the task's id ("11"), so those
    # stay strings: a string names exactly that key, never a sibling.
    raw["dependencies"] = _deps(values.get("Dependencies", ""), numbers_are_ids=True)
    if task.subtasks:
        raw["subtasks"] = [_subtask_dict(sub) for sub in task.subtasks]
    return raw


def _subtask_dict(sub: _Block) -> dict[str, Any]:
    assert sub.heading is not None
    values = {label: _value(lines) for label, lines in sub.fields.items()}
    raw: dict[str, Any] = {"id": default_id(sub.heading[1]), "title": sub.heading[2]}
    if values.get("Description"):
        raw["description"] = values["Description"]
    raw["status"] = sub.heading[3] or "pending"
    raw["dependencies"] = _deps(values.get("Dependencies", ""), numbers_are_ids=False)
    if values.get("Details"):
        raw["details"] = values["Details"]
    return raw
