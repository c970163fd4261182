"""Write an imported model back as a Task Master `tasks.json` document.

What the parser recorded under `data[IMPORT_KEY]` (key order, absent keys, id type,
spelling, the file's own dependency form) is used only while it still agrees with the
task, so a task changed since the import is written from its current values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from dal.arguments import checked
from dal.importers import _tm_ids as ids
from dal.importers.model import IMPORT_KEY, ImportedTask, ImportFile, fit_title

_ORDER: Final = ("id", "title", "description", "status", "priority", "dependencies")
_ALWAYS: Final = frozenset({"id", "title", "status", "dependencies", "subtasks"})
"""Keys written even when empty for a task with no recorded key list."""


@checked
def to_taskmaster_json(*files: ImportFile) -> dict[str, Any]:
    """A Task Master document: legacy for one untagged file, else tagged (one key per tag)."""
    if not files:
        raise ValueError("to_taskmaster_json needs at least one ImportFile")
    if len(files) == 1 and files[0].source_format != "taskmaster-json-tagged":
        return _tag_object(files[0])
    return {file.tag or "master": _tag_object(file) for file in files}


def _tag_object(file: ImportFile) -> dict[str, Any]:
    doc: dict[str, Any] = {"tasks": tasks_json(file.tasks)}
    if file.metadata is not None:
        doc["metadata"] = file.metadata
    return doc


def tasks_json(tasks: Sequence[ImportedTask]) -> list[dict[str, Any]]:
    """The `tasks` list: top-level tasks with their subtasks nested, in position order."""
    parents = {task.key: task.parent_key for task in tasks}
    children: dict[str | None, list[ImportedTask]] = {}
    for task in sorted(tasks, key=lambda task: task.position):
        children.setdefault(task.parent_key, []).append(task)

    def build(task: ImportedTask) -> dict[str, Any]:
        kids = [build(kid) for kid in children.get(task.key, [])]
        return _task_object(task, kids, parents)

    return [build(task) for task in children.get(None, [])]


def _task_object(
    task: ImportedTask, subtasks: list[dict[str, Any]], parents: Mapping[str, str | None]
) -> dict[str, Any]:
    data = dict(task.data)
    hints: dict[str, Any] = data.pop(IMPORT_KEY, {})
    values: dict[str, Any] = {
        "id": _id(task, hints.get("id")),
        "title": _title(task, hints.get("title")),
        "description": task.description,
        "status": _status(task, hints.get("status")),
        "priority": _priority(task, hints.get("priority")),
        "dependencies": _dependencies(task, hints.get("dependencies"), parents),
        "subtasks": subtasks,
    }
    keys: list[str] = hints.get("keys") or _default_keys(task, values, data)
    out = {
        key: values[key] if key in values else data[key]
        for key in keys
        if key in values or key in data
    }
    # Keys the file did not have, written only when they now say something.
    for key, value in values.items():
        if key not in out and (key in ("id", "title") or _says_something(key, value)):
            out[key] = value
    return out | {key: value for key, value in data.items() if key not in out}


def _says_something(key: str, value: Any) -> bool:
    if key == "status":
        return bool(value != "pending")
    if key in ("dependencies", "subtasks"):
        return bool(value)
    return value is not None


def _default_keys(task: ImportedTask, values: dict[str, Any], data: dict[str, Any]) -> list[str]:
    """Task Master's usual order, for a task that came from elsewhere (or a text file)."""
    wanted = [*_ORDER, *data, "subtasks"]
    always = _ALWAYS if task.parent_key is None else _ALWAYS - {"subtasks"}
    return [
        key for key in wanted if key in data or key in always or _says_something(key, values[key])
    ]


def _id(task: ImportedTask, original: ids.Id | None) -> ids.Id:
    local = ids.local_part(task.key, task.parent_key)
    if original is not None:
        same = str(original) if task.parent_key is None else ids.local_id(original)
        if same == local:
            return original
    return ids.default_id(local)


def _title(task: ImportedTask, original: str | None) -> str:
    return original if original is not None and fit_title(original)[0] == task.title else task.title


def _status(task: ImportedTask, original: str | None) -> str:
    if original is not None and ids.TM_STATUSES.get(original.strip().lower()) == task.status:
        return original
    return ids.STATUS_TO_TM.get(task.status, task.status)


def _priority(task: ImportedTask, original: str | None) -> str | None:
    if original is not None and original.strip().lower() == task.priority:
        return original
    return task.priority


def _dependencies(
    task: ImportedTask, original: list[ids.Id] | None, parents: Mapping[str, str | None]
) -> list[ids.Id]:
    """The file's own list if it still names exactly `depends_on`, else the default form."""
    wanted = set(task.depends_on)
    if original is not None:
        named: set[str] = set()
        for dep in original:
            readings = wanted.intersection(ids.candidates(dep, task.parent_key, parents))
            if not readings:
                break
            named |= readings
        else:
            if named == wanted:
                return original
    return ids.render(task.depends_on, task.parent_key, parents)
