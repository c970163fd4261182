"""How imported tasks are stored in `tasks` rows, and read back into the model.

The model has three things the columns cannot hold; they live in the task's `data`
under ``data["_import"]["db"]`` (the parsers reserve `_import`, so no source field can
collide) and are stripped again on reading, so `data` compares equal to the file's:

- ``position``: the task's place in the file, so export keeps the file's order;
- ``no_priority``: the file gave no priority (the column is NOT NULL, default medium);
- ``depends_on``: the dependency order, when it is not the natural key order (edges
  are a set; export writes them in the file's order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

from dal import queries
from dal._keys import natural_key
from dal.db import Db
from dal.importers._order import Position
from dal.importers.model import IMPORT_KEY, ImportedTask
from dal.importers.plan import ExistingTask

STORE_KEY: Final = "db"
DEFAULT_PRIORITY: Final = "medium"


@dataclass(frozen=True, slots=True)
class StoredRow:
    """A keyed task of a project as `importing.project_tasks` returns it."""

    id: UUID
    key: str
    parent_key: str | None
    title: str
    description: str | None
    status: str
    priority: str
    data: dict[str, Any]
    depends_on: list[str]


@dataclass(frozen=True, slots=True)
class StoredTask:
    """A stored task in the model's terms, with its id and stored position (None if none)."""

    id: UUID
    task: ExistingTask
    position: Position | None


def read_project(db: Db, project_id: UUID) -> dict[str, StoredTask]:
    """Every keyed task of the project, by key."""
    rows = queries.fetch_all(db, "importing.project_tasks", {"project_id": project_id}, StoredRow)
    return {row.key: from_row(row) for row in rows}


def from_row(row: StoredRow) -> StoredTask:
    data = dict(row.data)
    hints = data.get(IMPORT_KEY)
    extras: dict[str, Any] = {}
    if isinstance(hints, dict) and STORE_KEY in hints:
        hints = dict(hints)
        extras = hints.pop(STORE_KEY)
        if hints:
            data[IMPORT_KEY] = hints
        else:
            del data[IMPORT_KEY]
    task = ExistingTask(
        key=row.key,
        parent_key=row.parent_key,
        title=row.title,
        description=row.description,
        status=row.status,
        priority=None if extras.get("no_priority") else row.priority,
        depends_on=_ordered(row.depends_on, extras.get("depends_on")),
        data=data,
    )
    position = extras.get("position")
    return StoredTask(row.id, task, position if isinstance(position, int | float) else None)


def _ordered(keys: list[str], recorded: Any) -> tuple[str, ...]:
    """The stored edges in the recorded order; edges added since then after, by key."""
    rest = sorted(keys, key=natural_key)
    if not isinstance(recorded, list):
        return tuple(rest)
    first = [key for key in recorded if key in keys]
    return tuple(dict.fromkeys([*first, *rest]))


def to_row_data(task: ImportedTask, position: Position) -> dict[str, Any]:
    """The `data` to store for a task: its own data plus the extras above."""
    extras: dict[str, Any] = {"position": position}
    if task.priority is None:
        extras["no_priority"] = True
    if list(task.depends_on) != sorted(task.depends_on, key=natural_key):
        extras["depends_on"] = list(task.depends_on)
    data = dict(task.data)
    data[IMPORT_KEY] = {**data.get(IMPORT_KEY, {}), STORE_KEY: extras}
    return data


def to_imported(stored: StoredTask, position: int) -> ImportedTask:
    """A stored task as the model's task (for export), at `position` in the project."""
    task = stored.task
    return ImportedTask(
        key=task.key,
        parent_key=task.parent_key,
        title=task.title,
        description=task.description,
        status=task.status,
        priority=task.priority,
        depends_on=task.depends_on,
        data=task.data,
        position=position,
    )
