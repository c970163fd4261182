"""Tasks: a user's work items, optionally in a project, nested as subtasks.

Queries are in `sql/tasks.sql`; the dynamic `list_for_user` is built in
`dal._task_list`.

Concurrency: optimistic, with a version column. Every UPDATE of a task bumps
``version`` (a trigger, so no writer can forget). A plain `update()` changes
only the columns it is given, in one statement, so concurrent partial updates
never undo each other. For read-modify-write (e.g. merging into ``data``)
pass ``expected_version=task.version``: if someone changed the task since it
was read, `ConcurrentUpdate` is raised and nothing is written; re-read and try
again, e.g. with `dal.db.retry`. We chose this over ``SELECT ... FOR UPDATE``
because it holds no lock between the read and the write (which may be a user
editing a form) and works across requests, not only inside one transaction.

A task's project and parent are fixed at creation (so the subtask tree cannot
grow a cycle); statuses cover TaskTracker and Task Master without loss.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

from dal._json import jsonb
from dal._keys import NaturalKey, natural_key
from dal._task_list import (
    DEFAULT_DESCENDING,
    PRIORITY_RANK,
    SORT_KEYS,
    STATUSES,
    Filters,
    build,
)
from dal._unset import UNSET, _Unset, any_given, update_params
from dal.aio import queries
from dal.aio.db import Db, snapshot, transaction
from dal.arguments import checked, instant
from dal.errors import ConcurrentUpdate, InvalidData, NotFound, not_allowed
from dal.many import Many, array_literal, many, unique_ids
from dal.pagination import Page, check_limit, decode_cursor, encode_cursor
from dal.rows.tasks import Task, TaskNode

CLOSED_STATUSES: Final = frozenset({"completed", "done", "cancelled"})
PRIORITIES: Final = tuple(PRIORITY_RANK)  # low, medium, high, critical

__all__ = [
    "CLOSED_STATUSES",
    "PRIORITIES",
    "PRIORITY_RANK",
    "STATUSES",
    "UNSET",
    "Filters",
    "Task",
    "TaskNode",
    "bulk_set_status",
    "counts_by_status",
    "create",
    "delete",
    "get",
    "get_many",
    "list_for_project",
    "list_for_user",
    "overdue",
    "project_tree",
    "update",
]


def _found(task: Task | None, task_id: UUID) -> Task:
    if task is None:
        raise NotFound(f"no task with id {task_id}", table="tasks")
    return task


@checked
async def create(
    db: Db,
    *,
    owner_id: UUID,
    title: str,
    project_id: UUID | None = None,
    key: str | None = None,
    parent_id: UUID | None = None,
    category_id: UUID | None = None,
    description: str | None = None,
    status: str = "pending",
    priority: str = "medium",
    due_at: datetime | None = None,
    data: Mapping[str, Any] | None = None,
) -> Task:
    """Create a task.

    Errors name the rule: InvalidData (tasks_title_length, tasks_title_not_blank,
    tasks_status_valid, tasks_key_format ...), Conflict (tasks_project_id_key_key),
    ReferenceMissing (tasks_category_owner_fkey when the category is another
    user's, tasks_parent_same_project_fkey for a parent in another project ...).
    """
    params = {
        "owner_id": owner_id,
        "project_id": project_id,
        "key": key,
        "parent_id": parent_id,
        "category_id": category_id,
        "title": title,
        "description": description,
        "status": status,
        "priority": priority,
        "due_at": due_at,
        "data": jsonb(
            {} if data is None else data, "data", object_constraint="tasks_data_is_object"
        ),
    }
    task = await queries.fetch_one(db, "tasks.insert", params, Task)
    assert task is not None
    return task


@checked
async def get(db: Db, task_id: UUID) -> Task:
    """The task with this id; NotFound otherwise."""
    return _found(await queries.fetch_one(db, "tasks.get_by_id", {"id": task_id}, Task), task_id)


@checked
async def get_many(db: Db, task_ids: Iterable[UUID]) -> Many[UUID, Task]:
    """The tasks with these ids in one statement: `rows` in the order asked (each id
    once), and the ids that matched no row in `missing`. At most 1,000 ids."""
    ids = unique_ids(task_ids, "task_ids")
    if not ids:
        return Many([], [])
    found = await queries.fetch_all(db, "tasks.get_many", {"ids": array_literal(ids)}, Task)
    return many(ids, found, lambda row: row.id)


@checked
async def update(
    db: Db,
    task_id: UUID,
    *,
    expected_version: int | None = None,
    key: str | _Unset | None = UNSET,
    category_id: UUID | _Unset | None = UNSET,
    title: str | _Unset = UNSET,
    description: str | _Unset | None = UNSET,
    status: str | _Unset = UNSET,
    priority: str | _Unset = UNSET,
    due_at: datetime | _Unset | None = UNSET,
    data: Mapping[str, Any] | _Unset = UNSET,
) -> Task:
    """Change only the fields given; version and updated_at move.

    With `expected_version`, the write happens only if the task still has that
    version, else ConcurrentUpdate. NotFound if there is no such task.
    """
    fields: dict[str, Any] = {
        "key": key,
        "category_id": category_id,
        "title": title,
        "description": description,
        "status": status,
        "priority": priority,
        "due_at": due_at,
        "data": data,
    }
    params: dict[str, Any] = {
        "id": task_id,
        "check_version": expected_version is not None,
        "expected_version": expected_version,
    } | update_params(fields)
    if params["set_data"]:
        params["data"] = jsonb(params["data"], "data", object_constraint="tasks_data_is_object")
    async with transaction(db) as conn:
        if any_given(fields):
            task = await queries.fetch_one(conn, "tasks.update", params, Task)
            if task is not None:
                return task
        current = await get(conn, task_id)  # NotFound if it does not exist
    if expected_version in (None, current.version):
        if not any_given(fields):
            return current  # nothing to set: the task as it is
        # Visible, the version matching: the update was refused by row-level security.
        raise not_allowed(f"task {task_id}", table="tasks")
    raise ConcurrentUpdate(
        f"task {task_id} was changed concurrently: version is {current.version}, "
        f"expected {expected_version}",
        table="tasks",
        column="version",
    )


@checked
async def delete(db: Db, task_id: UUID) -> None:
    """Delete the task with its subtasks and dependency edges. NotFound if there is no
    such task (or the acting user may not see it), PermissionDenied if they may see it
    but not change it."""
    if await queries.execute(db, "tasks.delete", {"id": task_id}) == 0:
        await get(db, task_id)  # NotFound when it is not there to see
        raise not_allowed(f"task {task_id}", table="tasks")


@checked
async def bulk_set_status(db: Db, owner_id: UUID, task_ids: Collection[UUID], status: str) -> int:
    """Set `status` on those of `task_ids` the user owns; return how many changed.

    One statement. A status outside STATUSES raises InvalidData (column status,
    constraint tasks_status_valid) before it runs, even when no row would change.
    """
    if status not in STATUSES:
        raise InvalidData(
            f"unknown task status {status!r}; use one of {', '.join(STATUSES)}",
            constraint="tasks_status_valid",
            table="tasks",
            column="status",
        )
    params = {"owner_id": owner_id, "ids": list(task_ids), "status": status}
    return await queries.execute(db, "tasks.bulk_set_status", params)


def _cursor_key(task: Task, sort: str) -> Any:
    if sort == "due":
        return None if task.due_at is None else task.due_at.isoformat()
    if sort == "priority":
        return PRIORITY_RANK[task.priority]
    return (task.created_at if sort == "created" else task.updated_at).isoformat()


def _decode(cursor: str, sort: str, descending: bool) -> tuple[Any, UUID]:
    cursor_sort, cursor_descending, key, task_id = decode_cursor(cursor, 4)
    if cursor_sort != sort or cursor_descending != descending:
        raise InvalidData("cursor belongs to another sort order", column="cursor")
    try:
        if sort == "priority":
            if not isinstance(key, int):
                raise TypeError(key)
            value: Any = key
        else:
            value = None if key is None and sort == "due" else datetime.fromisoformat(key)
            if value is not None:
                instant(value, "cursor")
        return value, UUID(task_id)
    except (TypeError, ValueError, AttributeError):  # UUID(5) is an AttributeError
        raise InvalidData("cursor is not a valid page cursor", column="cursor") from None


@checked
async def list_for_user(
    db: Db,
    owner_id: UUID,
    *,
    filters: Filters | None = None,
    sort: str = "due",
    descending: bool | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Task]:
    """A user's tasks, filtered and sorted, one keyset page at a time.

    `sort` is ``due`` (soonest first, no due date last), ``priority`` (most
    urgent first), ``created`` or ``updated`` (newest first); `descending`
    reverses the default. Ties are broken by id, so the order is total: rows
    inserted while paging never make another row appear twice or go missing.
    """
    if sort not in SORT_KEYS:
        raise InvalidData(f"unknown sort {sort!r}; use one of {sorted(SORT_KEYS)}", column="sort")
    desc = DEFAULT_DESCENDING[sort] if descending is None else descending
    after = None if cursor is None else _decode(cursor, sort, desc)
    query, params = build(
        owner_id,
        filters or Filters(),
        sort=sort,
        descending=desc,
        after=after,
        limit=check_limit(limit) + 1,
    )
    rows = await queries.fetch_all(db, query, params, Task)
    if len(rows) <= limit:
        return Page(rows, None)
    last = rows[limit - 1]
    return Page(rows[:limit], encode_cursor([sort, desc, _cursor_key(last, sort), str(last.id)]))


def _key_order(task: Task) -> tuple[int, NaturalKey, datetime, UUID]:
    """Keys in natural order (as the export: "2" before "10" before "T001"); keyless last."""
    return (0 if task.key else 1, natural_key(task.key or ""), task.created_at, task.id)


@checked
async def project_tree(db: Db, project_id: UUID) -> list[TaskNode]:
    """A project's tasks as a tree: top-level tasks in key order ("2" before "10"),
    each with its subtasks nested and the ids of the tasks it depends on.

    NotFound if there is no such project. Tasks and edges are read from one snapshot
    (see `dal.db.snapshot`: inside a caller's transaction, from the caller's).
    """
    params = {"project_id": project_id}
    async with snapshot(db) as conn:  # the three reads in one round trip
        (exists,), rows, edges = await queries.pipelined(
            conn,
            [
                queries.Call("tasks.project_exists", params),
                queries.Call("tasks.list_for_project", params, Task),
                queries.Call("tasks.list_dependency_edges", params),
            ],
        )
    if not exists[0]:
        raise NotFound(f"no project with id {project_id}", table="projects")
    depends: dict[UUID, list[UUID]] = {}
    for task_id, depends_on_id in edges:
        depends.setdefault(task_id, []).append(depends_on_id)
    children: dict[UUID | None, list[Task]] = {}
    for task in sorted(rows, key=_key_order):
        children.setdefault(task.parent_id, []).append(task)

    def node(task: Task) -> TaskNode:
        subtasks = [node(child) for child in children.get(task.id, [])]
        return TaskNode(task, subtasks, sorted(depends.get(task.id, []), key=str))

    return [node(task) for task in children.get(None, [])]


@checked
async def list_for_project(db: Db, project_id: UUID) -> list[Task]:
    """Every task of a project, in no particular order (an empty list for a project
    with none, or none at all: see `project_tree` for a checked, ordered read)."""
    return await queries.fetch_all(db, "tasks.list_for_project", {"project_id": project_id}, Task)


@checked
async def overdue(
    db: Db, owner_id: UUID, *, as_of: datetime | None = None, limit: int = 100
) -> list[Task]:
    """The user's open tasks (not completed, done or cancelled) due before `as_of`
    (default: now), most overdue first."""
    params = {
        "owner_id": owner_id,
        "as_of": as_of or datetime.now(UTC),
        "limit": check_limit(limit),
    }
    return await queries.fetch_all(db, "tasks.overdue", params, Task)


@checked
async def counts_by_status(db: Db, owner_id: UUID) -> dict[str, int]:
    """How many tasks the user has in each status (every status present, zeros included)."""
    counts = dict.fromkeys(STATUSES, 0)
    rows = await queries.fetch_tuples(db, "tasks.counts_by_status", {"owner_id": owner_id})
    for status, number in rows:
        counts[status] = int(number)
    return counts
