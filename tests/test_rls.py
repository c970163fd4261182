"""Row-level security (migration 0039) as the application connects: the application
role, an acting user per call (`dal.acting_as`), never a superuser or the owner.

A model of who may see and change what decides each call's expected outcome; a
property-based test runs random calls by random users against it, and compares
every table (read through the read-only role, which sees every row) around each
refused one: nothing may be written.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

import dal
from dal import (
    aio,
    categories,
    config_store,
    dependencies,
    moods,
    projects,
    sync_history,
    tasks,
    users,
)
from dal.config import Roles, Settings
from dal.errors import DalError, NotFound, PermissionDenied
from tests.fix_db import as_role

_names = itertools.count(1)

RLS_TABLES = [
    "categories",
    "moods",
    "user_settings",
    "projects",
    "project_members",
    "tasks",
    "task_dependencies",
    "sync_history",
    "servers",
    "server_members",
    "events",
    "event_rsvps",
    "surveys",
    "survey_questions",
    "survey_responses",
]


def _snapshot(reader: psycopg.Connection[Any]) -> dict[str, list[str]]:
    """Every row of the tables under row-level security, as the reader sees them (all)."""
    found = {}
    for table in RLS_TABLES:
        query = sql.SQL("SELECT to_jsonb(t)::text FROM {} t ORDER BY 1").format(
            sql.Identifier(table)
        )
        found[table] = [row[0] for row in reader.execute(query).fetchall()]
    return found


def _acting(user: UUID | None) -> AbstractContextManager[Any]:
    return dal.acting_as(user) if user is not None else nullcontext()


@dataclass
class World:
    """Four users: `owner` owns a project in which `writer` has write access and
    `viewer` read access; `outsider` is in none. Each has a personal task, a category
    and a mood."""

    pool: Any
    people: dict[str, UUID] = field(default_factory=dict)
    project: UUID = field(default_factory=lambda: UUID(int=0))  # set by build
    access: dict[str, str] = field(default_factory=dict)  # person -> access in the project
    project_tasks: list[UUID] = field(default_factory=list)
    personal: dict[str, UUID] = field(default_factory=dict)  # person -> their task
    category: dict[str, UUID] = field(default_factory=dict)
    deleted: set[UUID] = field(default_factory=set)

    @classmethod
    def build(cls, pool: Any) -> World:
        world = cls(pool)
        for role in ("owner", "writer", "viewer", "outsider"):
            n = next(_names)
            made = users.create(pool, email=f"rls{n}@example.com", username=f"rls{n}")
            world.people[role] = made.id
            with dal.acting_as(made.id):
                world.personal[role] = tasks.create(pool, owner_id=made.id, title="mine").id
                world.category[role] = categories.create(pool, owner_id=made.id, name="c").id
                moods.record(pool, made.id, mood="calm", intensity=3)
                config_store.set_user_setting(pool, made.id, "theme", "dark")
        owner = world.people["owner"]
        with dal.acting_as(owner):
            world.project = projects.create(pool, owner_id=owner, name="shared").id
            projects.add_member(pool, world.project, world.people["writer"], access_level="write")
            projects.add_member(pool, world.project, world.people["viewer"], access_level="read")
            world.project_tasks = [
                tasks.create(pool, owner_id=owner, title=f"p{i}", project_id=world.project).id
                for i in range(2)
            ]
        world.access = {"owner": "admin", "writer": "write", "viewer": "read"}
        return world

    def who(self, person: str | None) -> UUID | None:
        return None if person is None else self.people[person]

    def task_access(self, person: str | None, task_id: UUID) -> str | None:
        """What `person` may do with the task: 'write', 'read' or nothing."""
        if person is None or task_id in self.deleted:
            return None
        if task_id in self.project_tasks:
            level = self.access.get(person)
            return {"admin": "write", "write": "write", "read": "read"}.get(level or "")
        return "write" if self.personal.get(person) == task_id else None


PEOPLE = st.sampled_from(["owner", "writer", "viewer", "outsider", None])
OPS = [
    "get task",
    "update task",
    "delete task",
    "create project task",
    "create personal task for self",
    "create personal task for another",
    "get project",
    "rename project",
    "add member",
    "list members",
    "get category",
    "rename category",
    "moods of",
    "setting of",
]
OPERATIONS = st.sampled_from(OPS)
TARGETS = st.sampled_from(["owner", "writer", "viewer", "outsider"])


def _expect_and_run(
    world: World, person: str | None, op: str, target: str, pick: int
) -> tuple[str, Callable[[], Any]]:
    """The outcome the model expects ('ok', 'missing', 'denied' or 'conflict') and the call."""
    if op.endswith("task") or "task for" in op:
        return _task_case(world, person, op, target, pick)
    if "project" in op or "member" in op:
        return _project_case(world, person, op, target)
    return _own_rows_case(world, person, op, target)


def _task_case(
    world: World, person: str | None, op: str, target: str, pick: int
) -> tuple[str, Callable[[], Any]]:
    pool, me = world.pool, world.who(person)
    level = world.access.get(person or "")
    if op == "create project task":
        expected = "ok" if level in ("admin", "write") else "denied"
        owner = me or world.people["owner"]
        return expected, lambda: tasks.create(
            pool, owner_id=owner, title="new", project_id=world.project
        )
    if op == "create personal task for self":
        owner = me or world.people["owner"]
        return ("ok" if me else "denied"), lambda: tasks.create(pool, owner_id=owner, title="new")
    if op == "create personal task for another":
        other = world.people[target]
        expected = "ok" if me == other else "denied"
        return expected, lambda: tasks.create(pool, owner_id=other, title="new")
    choices = [*world.project_tasks, *world.personal.values()]
    task_id = choices[pick % len(choices)]
    access = world.task_access(person, task_id)
    if op == "get task":
        return ("ok" if access else "missing"), lambda: tasks.get(pool, task_id)
    expected = {"write": "ok", "read": "denied"}.get(access or "", "missing")
    if op == "update task":
        return expected, lambda: tasks.update(pool, task_id, title="changed")

    def delete() -> None:
        tasks.delete(pool, task_id)
        world.deleted.add(task_id)

    return expected, delete


def _project_case(
    world: World, person: str | None, op: str, target: str
) -> tuple[str, Callable[[], Any]]:
    pool = world.pool
    level = world.access.get(person or "")
    if op == "get project":
        return ("ok" if level else "missing"), lambda: projects.get(pool, world.project)
    if op == "rename project":
        expected = {"admin": "ok", None: "missing"}.get(level, "denied")
        return expected, lambda: projects.update(pool, world.project, name="renamed")
    if op == "add member":
        expected = "denied"
        if level == "admin":
            expected = "conflict" if target in world.access else "ok"  # already a member

        def add() -> None:
            projects.add_member(pool, world.project, world.people[target])
            world.access[target] = projects.DEFAULT_ACCESS["member"]

        return expected, add
    count = len(world.access) if level else 0  # "list members"

    def members() -> None:
        assert len(projects.list_members(pool, world.project).items) == count

    return "ok", members


def _own_rows_case(
    world: World, person: str | None, op: str, target: str
) -> tuple[str, Callable[[], Any]]:
    """Categories, moods and settings: each user's own, invisible to everyone else."""
    pool = world.pool
    mine = person == target
    if op in ("get category", "rename category"):
        category = world.category[target]
        expected = "ok" if mine else "missing"
        if op == "get category":
            return expected, lambda: categories.get(pool, category)
        return expected, lambda: categories.update(pool, category, name="renamed")
    if op == "moods of":
        now = datetime.now(UTC)

        def history() -> None:
            page = moods.history(pool, world.people[target], since=now - timedelta(days=1),
                                 until=now + timedelta(days=1))  # fmt: skip
            assert len(page.items) == (1 if mine else 0)

        return "ok", history
    # "setting of": another user's setting is not there to see (no default exists).
    return ("ok" if mine else "missing"), lambda: config_store.get_user_setting(
        pool, world.people[target], "theme"
    )


def _outcome(call: Callable[[], Any]) -> str:
    try:
        call()
    except NotFound:
        return "missing"
    except PermissionDenied:
        return "denied"
    except dal.Conflict:
        return "conflict"
    return "ok"


RUNS = settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_no_call_reaches_a_row_its_acting_user_may_not(
    app_pool: Any, reader: psycopg.Connection[Any]
) -> None:
    @RUNS
    @given(
        steps=st.lists(
            st.tuples(PEOPLE, OPERATIONS, TARGETS, st.integers(0, 3)), min_size=5, max_size=25
        )
    )
    def calls(steps: list[tuple[str | None, str, str, int]]) -> None:
        world = World.build(app_pool)
        for person, op, target, pick in steps:
            expected, call = _expect_and_run(world, person, op, target, pick)
            before = _snapshot(reader) if expected != "ok" else None
            with _acting(world.who(person)):
                got = _outcome(call)
            assert got == expected, (person, op, target)
            if before is not None:
                assert _snapshot(reader) == before, (person, op, target)  # nothing written

    calls()


def _has_target(op: str) -> bool:
    return any(word in op for word in ("member", " of", "category", "another"))


def _every_call() -> list[tuple[str | None, str, str, int]]:
    """Each operation by each acting user (or none) on each of its targets, deletes last."""
    people: list[str | None] = ["owner", "writer", "viewer", "outsider", None]
    targets = ["owner", "writer", "viewer", "outsider"]
    calls = [
        (person, op, target, pick)
        for op in OPS
        for person in people
        for target in (targets if _has_target(op) else ["owner"])
        for pick in (range(6) if op in ("get task", "update task", "delete task") else [0])
    ]
    return sorted(calls, key=lambda call: call[1] == "delete task")


def test_every_call_by_every_user_gets_what_the_model_says(
    app_pool: Any, reader: psycopg.Connection[Any]
) -> None:
    world = World.build(app_pool)
    for person, op, target, pick in _every_call():
        expected, call = _expect_and_run(world, person, op, target, pick)
        before = _snapshot(reader) if expected != "ok" else None
        with _acting(world.who(person)):
            got = _outcome(call)
        assert got == expected, (person, op, target, pick)
        if before is not None:
            assert _snapshot(reader) == before, (person, op, target, pick)


def test_without_an_acting_user_the_application_sees_nothing(app_pool: Any) -> None:
    world = World.build(app_pool)
    assert projects.list_for_user(app_pool, world.people["owner"]).items == []
    with pytest.raises(NotFound):
        tasks.get(app_pool, world.personal["owner"])
    # The setting of the last transaction does not linger on the pooled connection.
    with dal.acting_as(world.people["owner"]):
        tasks.get(app_pool, world.personal["owner"])
    with pytest.raises(NotFound):
        tasks.get(app_pool, world.personal["owner"])


def test_the_acting_user_binds_a_transaction_and_a_pipelined_batch(app_pool: Any) -> None:
    world = World.build(app_pool)
    owner = world.people["owner"]
    with dal.acting_as(owner), dal.transaction(app_pool) as conn:
        made = tasks.create(conn, owner_id=owner, title="in a transaction")
        assert tasks.get(conn, made.id).title == "in a transaction"
        tree = tasks.project_tree(conn, world.project)
        assert len(tree) == 2
    with dal.acting_as(world.people["viewer"]):
        assert len(tasks.project_tree(app_pool, world.project)) == 2
        assert tasks.list_for_project(app_pool, world.project)
    with dal.acting_as(world.people["outsider"]), pytest.raises(NotFound):
        tasks.project_tree(app_pool, world.project)  # not there, as far as they can see


def test_each_async_task_acts_for_its_own_user(db_url: str, app_pool: Any) -> None:
    world = World.build(app_pool)

    async def main() -> list[list[str]]:
        pool = await aio.open_pool(as_role(db_url, Roles.app), Settings(pool_size=2))
        try:

            async def mine(person: str) -> list[str]:
                with dal.acting_as(world.people[person]):
                    await asyncio.sleep(0)  # the tasks interleave
                    task = await aio.tasks.get(pool, world.personal[person])
                    others = [world.personal[p] for p in world.personal if p != person]
                    for other in others:
                        try:
                            await aio.tasks.get(pool, other)
                        except NotFound:
                            continue
                        raise AssertionError(f"{person} saw {other}")
                    return [task.title]

            return list(await asyncio.gather(*(mine(p) for p in world.people)))
        finally:
            await pool.close()

    assert asyncio.run(main()) == [["mine"]] * 4


def test_a_denied_write_is_permission_denied_not_a_silent_nothing(app_pool: Any) -> None:
    world = World.build(app_pool)
    task = world.project_tasks[0]
    first, second = world.project_tasks
    with dal.acting_as(world.people["owner"]):
        dependencies.add(app_pool, second, first)
        run = sync_history.start(app_pool, world.project, "a" * 40)
    for person, refusal in (("viewer", PermissionDenied), ("outsider", NotFound)):
        with dal.acting_as(world.people[person]):
            with pytest.raises(refusal):
                dependencies.remove(app_pool, second, first)
            with pytest.raises(refusal):
                sync_history.finish(app_pool, run.id)
            with pytest.raises(PermissionDenied):
                sync_history.start(app_pool, world.project, "b" * 40)
    with dal.acting_as(world.people["writer"]):  # write access: both go through
        sync_history.finish(app_pool, run.id)
        dependencies.remove(app_pool, second, first)
    with dal.acting_as(world.people["viewer"]):
        with pytest.raises(PermissionDenied) as refused:
            tasks.update(app_pool, task, title="no")
        assert refused.value.table == "tasks"
        with pytest.raises(PermissionDenied):
            tasks.delete(app_pool, task)
        with pytest.raises(PermissionDenied):
            projects.add_member(app_pool, world.project, world.people["outsider"])
        with pytest.raises(DalError):
            projects.remove_member(app_pool, world.project, world.people["writer"])
    with dal.acting_as(world.people["owner"]):
        assert tasks.get(app_pool, task).title == "p0"
