"""Task dependencies: "task_id waits for depends_on_id" (queries in `sql/dependencies.sql`).

The database rejects self-dependencies (task_dependencies_not_self), duplicates
(task_dependencies_pkey) and edges between projects (the composite foreign keys
task_dependencies_task_fkey / task_dependencies_depends_on_fkey). Longer cycles
are rejected here: `add` takes a per-project advisory lock, so two concurrent
additions cannot close a cycle together, and looks for a path back before
inserting.
"""

from __future__ import annotations

from collections import deque
from uuid import UUID

from dal.aio import queries, tasks
from dal.aio.db import Db, transaction
from dal.aio.tasks import Task
from dal.arguments import checked
from dal.errors import NotFound, not_allowed
from dal.rows.dependencies import Dependency, DependencyCycle

__all__ = [
    "Dependency",
    "DependencyCycle",
    "add",
    "dependents",
    "depends_on",
    "list_for_project",
    "lock_project_graph",
    "remove",
]


def _label(task: Task) -> str:
    return f"{task.key or task.id} {task.title!r}"


@checked
async def add(db: Db, task_id: UUID, depends_on_id: UUID) -> Dependency:
    """Make `task_id` depend on `depends_on_id`.

    NotFound for a missing task; DependencyCycle (an InvalidData) naming the
    cycle path; Conflict (task_dependencies_pkey) if the edge exists;
    InvalidData (task_dependencies_not_self, task_dependencies_project_required)
    and ReferenceMissing (task_dependencies_depends_on_fkey: other project).
    """
    async with transaction(db) as conn:
        task = await tasks.get(conn, task_id)
        depends_on = await tasks.get(conn, depends_on_id)
        if task.project_id is not None:
            await lock_project_graph(conn, task.project_id)
        if task_id != depends_on_id and task.project_id is not None:
            # UNION visits each task once: linear in the graph, whatever its shape.
            reach = {"from_id": depends_on_id, "to_id": task_id}
            if await queries.fetch_value(conn, "dependencies.reaches", reach):
                path = [task_id, *await _path(conn, task.project_id, depends_on_id, task_id)]
                by_id = {t.id: t for t in await tasks.list_for_project(conn, task.project_id)}
                chain = " -> ".join(_label(by_id[i]) for i in path)
                raise DependencyCycle(
                    f"task {_label(task)} cannot depend on {_label(depends_on)}: "
                    f"that would make a cycle {chain}",
                    path,
                )
        params = {"task_id": task_id, "depends_on_id": depends_on_id}
        edge = await queries.fetch_one(conn, "dependencies.insert", params, Dependency)
    assert edge is not None
    return edge


async def _path(conn: Db, project_id: UUID, start: UUID, goal: UUID) -> list[UUID]:
    """The shortest chain of dependencies from `start` to `goal` (breadth-first)."""
    edges = await list_for_project(conn, project_id)
    waits_for: dict[UUID, list[UUID]] = {}
    for edge in edges:
        waits_for.setdefault(edge.task_id, []).append(edge.depends_on_id)
    came_from: dict[UUID, UUID | None] = {start: None}
    frontier = deque([start])
    while frontier:
        current = frontier.popleft()
        if current == goal:
            break
        for nxt in waits_for.get(current, ()):
            if nxt not in came_from:
                came_from[nxt] = current
                frontier.append(nxt)
    path: list[UUID] = []
    step: UUID | None = goal
    while step is not None:
        path.append(step)
        step = came_from.get(step)
    return path[::-1]


@checked
async def lock_project_graph(conn: Db, project_id: UUID) -> None:
    """Serialise changes to a project's dependency graph until the caller's transaction
    ends (an advisory lock): `add` takes it, and so must any other writer of edges."""
    await queries.execute(conn, "dependencies.lock_project_graph", {"project_id": project_id})


@checked
async def list_for_project(db: Db, project_id: UUID) -> list[Dependency]:
    """Every dependency edge of a project, in no particular order."""
    params = {"project_id": project_id}
    return await queries.fetch_all(db, "dependencies.list_for_project", params, Dependency)


@checked
async def remove(db: Db, task_id: UUID, depends_on_id: UUID) -> None:
    """Remove the edge; NotFound if it does not exist."""
    params = {"task_id": task_id, "depends_on_id": depends_on_id}
    if await queries.execute(db, "dependencies.delete", params) == 0:
        if depends_on_id in {task.id for task in await depends_on(db, task_id)}:
            # There to see, yet not removed: row-level security allows reading only.
            raise not_allowed(f"the dependency of {task_id}", table="task_dependencies")
        raise NotFound(
            f"task {task_id} does not depend on {depends_on_id}", table="task_dependencies"
        )


@checked
async def depends_on(db: Db, task_id: UUID) -> list[Task]:
    """The tasks `task_id` waits for, in the order the edges were added; NotFound if
    there is no such task."""
    found = await queries.fetch_all(db, "dependencies.list_depends_on", {"task_id": task_id}, Task)
    return found or await _none_of(db, task_id)


@checked
async def dependents(db: Db, task_id: UUID) -> list[Task]:
    """The tasks waiting for `task_id`, in the order the edges were added; NotFound if
    there is no such task."""
    found = await queries.fetch_all(db, "dependencies.list_dependents", {"task_id": task_id}, Task)
    return found or await _none_of(db, task_id)


async def _none_of(db: Db, task_id: UUID) -> list[Task]:
    """No edges: an empty list for a task that exists, else NotFound."""
    await tasks.get(db, task_id)
    return []
