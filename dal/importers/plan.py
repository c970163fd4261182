"""What an import would change in a project: the pure diff behind idempotent imports.

The database applier reads the project's tasks into `ExistingTask`s, calls
`plan_import`, prints `lines()` for `--dry-run`, and otherwise applies the plan in one
transaction (deleting `plan.delete` only with `--prune`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from dal._keys import natural_key
from dal.arguments import checked
from dal.importers.model import ImportedTask

COMPARED: Final = ("parent_key", "title", "description", "status", "priority", "depends_on", "data")


@dataclass(frozen=True, slots=True)
class ExistingTask:
    """A task of the project as stored, in the model's terms."""

    key: str
    parent_key: str | None
    title: str
    description: str | None
    status: str
    priority: str | None
    depends_on: tuple[str, ...]
    data: dict[str, Any]
    position: int | None = None
    """Compared only when the store keeps it."""


@dataclass(frozen=True, slots=True)
class ImportPlan:
    create: list[ImportedTask] = field(default_factory=list)
    update: list[tuple[ExistingTask, ImportedTask]] = field(default_factory=list)
    unchanged: list[ImportedTask] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    """Keys stored but absent from the file, subtasks before their parents."""

    @property
    def has_changes(self) -> bool:
        """True if applying the plan (with pruning) would write anything."""
        return bool(self.create or self.update or self.delete)

    def summary(self) -> str:
        """One line, e.g. "2 to create, 1 to update, 40 unchanged, 1 only in the project"."""
        parts = [
            f"{len(self.create)} to create",
            f"{len(self.update)} to update",
            f"{len(self.unchanged)} unchanged",
        ]
        if self.delete:
            parts.append(f"{len(self.delete)} only in the project (deleted with --prune)")
        return ", ".join(parts)

    def lines(self) -> list[str]:
        """The plan for `--dry-run`: one line per change, then the summary."""
        out = [f"+ {task.key}: {task.title}" for task in self.create]
        for old, new in self.update:
            out.append(f"~ {new.key}: {', '.join(describe_changes(old, new))}")
        out += [f"- {key}" for key in self.delete]
        return [*out, self.summary()]


def changed_fields(old: ExistingTask, new: ImportedTask) -> list[str]:
    """Names of the compared fields that differ (dependencies compared as sets)."""
    names = [name for name in COMPARED if _value(old, name) != _value(new, name)]
    if old.position is not None and old.position != new.position:
        names.append("position")
    return names


def describe_changes(old: ExistingTask, new: ImportedTask) -> list[str]:
    """Human-readable changes: short values shown as "a -> b", long ones just named."""
    out = []
    for name in changed_fields(old, new):
        before, after = _value(old, name), _value(new, name)
        if name in ("status", "priority", "parent_key"):
            out.append(f"{name} {before} -> {after}")
        elif name == "depends_on":
            added, removed = sorted(after - before), sorted(before - after)
            change = [f"+{key}" for key in added] + [f"-{key}" for key in removed]
            out.append(f"dependencies {' '.join(change)}")
        else:
            out.append(name)
    return out


def _value(task: ExistingTask | ImportedTask, name: str) -> Any:
    value = getattr(task, name)
    return frozenset(value) if name == "depends_on" else value


@checked
def plan_import(tasks: Sequence[ImportedTask], existing: Mapping[str, ExistingTask]) -> ImportPlan:
    """Sort the file's tasks into create / update / unchanged, and list stored extras."""
    plan = ImportPlan()
    for task in tasks:
        old = existing.get(task.key)
        if old is None:
            plan.create.append(task)
        elif changed_fields(old, task):
            plan.update.append((old, task))
        else:
            plan.unchanged.append(task)
    in_file = {task.key for task in tasks}
    gone = [key for key in existing if key not in in_file]
    plan.delete.extend(sorted(gone, key=lambda key: (-_depth(key, existing), natural_key(key))))
    return plan


def _depth(key: str, existing: Mapping[str, ExistingTask]) -> int:
    """How many ancestors a stored task has: deletes go deepest first."""
    depth, parent = 0, existing[key].parent_key
    while parent is not None and parent in existing and depth <= len(existing):
        depth, parent = depth + 1, existing[parent].parent_key
    return depth
