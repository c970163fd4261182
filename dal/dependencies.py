"""Task dependencies: "task_id waits for depends_on_id" (queries in `sql/dependencies.sql`).

The database rejects self-dependencies (task_dependencies_not_self), duplicates
(task_dependencies_pkey) and edges between projects (the composite foreign keys
task_dependencies_task_fkey / task_dependencies_depends_on_fkey). Longer cycles
are rejected here: `add` takes a per-project advisory lock, so two concurrent
additions cannot close a cycle together, and looks for a path back before
inserting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from dal import queries, tasks
from dal.db import Db, transaction
from dal.errors import InvalidData, NotFound
from dal.tasks import Task


class DependencyCycle(InvalidData):
    """The new dependency would make a task (indirectly) wait for itself."""

    def __init__(self, message: str, path: list[UUID]) -> None:
        super().__init__(message, table="task_dependencies", column="depends_on_id")
        self.path = path


@dataclass(frozen=True, slots=True)
class Dependency:
    task_id: UUID
    depends_on_id: UUID
    project_id: UUID
    created_at: datetime


def _label(task: Task) -> str:
    return f"{task.key or task.id} {task.title!r}"


def add(db: Db, task_id: UUID, depends_on_id: UUID) -> Dependency:
    """Make `task_id` depend on `depends_on_id`.

    NotFound for a missing task; DependencyCycle (an InvalidData) naming the
    cycle path; Conflict (task_dependencies_pkey) if the edge exists;
    InvalidData (task_dependencies_not_self, task_dependencies_project_required)
    and ReferenceMissing (task_dependencies_depends_on_fkey: other project).
    """
    with transaction(db) as conn:
        task = tasks.get(conn, task_id)
        depends_on = tasks.get(conn, depends_on_id)
        if task.project_id is not None:
            lock = {"project_id": task.project_id}
            queries.execute(conn, "dependencies.lock_project_graph", lock)
        if task_id != depends_on_id:
            found = queries.fetch_value(
                conn, "dependencies.path_between", {"from_id": depends_on_id, "to_id": task_id}
            )
            if found is not None:
                path: list[UUID] = [task_id, *found]
                by_id = {t.id: t for t in (tasks.get(conn, i) for i in set(path))}
                chain = " -> ".join(_label(by_id[i]) for i in path)
                raise DependencyCycle(
                    f"task {_label(task)} cannot depend on {_label(depends_on)}: "
                    f"that would make a cycle {chain}",
                    path,
                )
        params = {"task_id": task_id, "depends_on_id": depends_on_id}
        edge = queries.fetch_one(conn, "dependencies.insert", params, Dependency)
    assert edge is not None
    return edge


def remove(db: Db, task_id: UUID, depends_on_id: UUID) -> None:
    """Remove the edge; NotFound if it does not exist."""
    params = {"task_id": task_id, "depends_on_id": depends_on_id}
    if queries.execute(db, "dependencies.delete", params) == 0:
        raise NotFound(
            f"task {task_id} does not depend on {depends_on_id}", table="task_dependencies"
        )


def depends_on(db: Db, task_id: UUID) -> list[Task]:
    """The tasks `task_id` waits for, in the order the edges were added."""
    return queries.fetch_all(db, "dependencies.list_depends_on", {"task_id": task_id}, Task)


def dependents(db: Db, task_id: UUID) -> list[Task]:
    """The tasks waiting for `task_id`, in the order the edges were added."""
    return queries.fetch_all(db, "dependencies.list_dependents", {"task_id": task_id}, Task)
