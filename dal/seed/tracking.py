"""Seed rows for task tracking: projects, members, categories, tasks, dependencies, syncs.

Tasks are streamed: only small per-project state is kept (the next key, a few
recent task ids for dependencies), and dependency rows are spooled to a
temporary file because they can be copied only after every task exists.
"""

from __future__ import annotations

import json
import random
import tempfile
import uuid
from collections import deque
from collections.abc import Iterator
from datetime import timedelta
from typing import IO, Any

from dal.seed.context import Context, seeded_uuid
from dal.seed.step import Step

WORDS = [
    "api",
    "billing",
    "search",
    "mobile",
    "infra",
    "docs",
    "auth",
    "reports",
    "ingest",
    "gateway",
    "cli",
    "dashboard",
    "payments",
    "sync",
    "notifications",
    "ml",
]
VERBS = [
    "Implement",
    "Fix",
    "Refactor",
    "Document",
    "Test",
    "Review",
    "Design",
    "Migrate",
    "Optimise",
    "Remove",
    "Add",
    "Investigate",
]
CATEGORY_NAMES = ["Work", "Home", "Errands", "Health", "Learning", "Finance", "Side project"]
STATUSES = (
    ["pending"] * 35
    + ["in_progress"] * 15
    + ["done"] * 25
    + ["completed"] * 5
    + ["review", "deferred", "cancelled", "blocked"] * 5
)
PRIORITIES = ["low"] * 25 + ["medium"] * 45 + ["high"] * 22 + ["critical"] * 8
SUBTASK_SHARE = 0.25  # of top-level project tasks that get subtasks
DEPENDENCY_SHARE = 0.3  # of project tasks that depend on an earlier one
# Of projects whose first task waits for a task another file has (an import's
# dangling dependency, task_pending_dependencies); the first project always does.
WAITING_SHARE = 0.5
WAITING_KEY = "upstream"


def steps(ctx: Context) -> list[Step]:
    p = ctx.profile
    return [
        Step(
            "projects",
            ("id", "owner_id", "name", "git_url", "created_at", "updated_at"),
            p.projects,
            lambda: _projects(ctx),
        ),
        Step(
            "project_members",
            ("project_id", "user_id", "role", "access_level", "created_at"),
            p.projects * 3,
            lambda: _members(ctx),
        ),
        Step(
            "categories",
            ("id", "owner_id", "name", "colour", "created_at", "updated_at"),
            p.users * 2,
            lambda: _categories(ctx),
        ),
        Step("tasks", TASK_COLUMNS, p.tasks, lambda: _tasks(ctx)),
        Step(
            "task_dependencies",
            ("task_id", "depends_on_id", "created_at"),
            int(p.tasks * DEPENDENCY_SHARE * 0.6),
            lambda: _dependencies(ctx),
        ),
        Step(
            "task_pending_dependencies",
            ("task_id", "project_id", "depends_on_key", "created_at"),
            int(p.projects * WAITING_SHARE),
            lambda: _waiting(ctx),
        ),
        Step(
            "sync_history",
            ("project_id", "commit_sha", "status", "error", "started_at", "finished_at"),
            p.projects * 5,
            lambda: _syncs(ctx),
        ),
    ]


def _projects(ctx: Context) -> Iterator[tuple[Any, ...]]:
    rng = ctx.rng("projects")
    owned: dict[uuid.UUID, list[uuid.UUID]] = {}
    projects: list[tuple[uuid.UUID, uuid.UUID]] = []
    ctx.shared["projects_by_owner"] = owned
    ctx.shared["projects"] = projects
    for n in range(ctx.profile.projects):
        project_id, owner = seeded_uuid(rng), ctx.pick_user(rng)
        owned.setdefault(owner, []).append(project_id)
        projects.append((project_id, owner))
        created = ctx.moment(rng, days_back=700)
        name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{n}"
        yield (
            project_id,
            owner,
            name.replace("-", " ").title(),
            f"https://git.example.com/team{n % 97}/{name}.git",
            created,
            created,
        )


def _members(ctx: Context) -> Iterator[tuple[Any, ...]]:
    rng = ctx.rng("project_members")
    for project_id, owner in ctx.shared["projects"]:
        created = ctx.moment(rng, days_back=600)
        yield (project_id, owner, "owner", "admin", created)
        others = {ctx.pick_user(rng) for _ in range(rng.randint(0, 5))} - {owner}
        for member in sorted(others):
            role = rng.choice(["admin", "member", "member", "viewer"])
            access = {"admin": "admin", "member": "write", "viewer": "read"}[role]
            yield (project_id, member, role, access, created + timedelta(days=rng.uniform(0, 30)))


def _categories(ctx: Context) -> Iterator[tuple[Any, ...]]:
    rng = ctx.rng("categories")
    by_user: dict[uuid.UUID, list[uuid.UUID]] = {}
    ctx.shared["categories_by_user"] = by_user
    for rank, user in enumerate(ctx.user_ids):
        count = rng.randint(2, 6) if rank < len(ctx.user_ids) // 10 else rng.randint(0, 3)
        for name in rng.sample(CATEGORY_NAMES, count):
            category_id = seeded_uuid(rng)
            by_user.setdefault(user, []).append(category_id)
            created = ctx.moment(rng, days_back=500)
            yield (category_id, user, name, f"#{rng.getrandbits(24):06x}", created, created)


TASK_COLUMNS = (
    "id",
    "owner_id",
    "project_id",
    "key",
    "parent_id",
    "category_id",
    "title",
    "description",
    "status",
    "priority",
    "due_at",
    "data",
    "created_at",
    "updated_at",
)


class _ProjectState:
    """What task generation remembers per project: the next key and recent task ids."""

    __slots__ = ("next_key", "recent")

    def __init__(self) -> None:
        self.next_key = 1
        self.recent: deque[uuid.UUID] = deque(maxlen=20)


def _tasks(ctx: Context) -> Iterator[tuple[Any, ...]]:
    rng = ctx.rng("tasks")
    spool: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - read later
    ctx.shared["dependency_spool"] = spool
    owned: dict[uuid.UUID, list[uuid.UUID]] = ctx.shared["projects_by_owner"]
    maker = _TaskMaker(ctx, rng, spool)
    counts = ctx.split(ctx.profile.tasks, len(ctx.user_ids), rng)
    for user, quota in zip(ctx.user_ids, counts, strict=True):
        made = 0
        while made < quota:
            project = rng.choice(owned[user]) if user in owned and rng.random() < 0.8 else None
            subtasks = 0
            if project is not None and rng.random() < SUBTASK_SHARE:
                subtasks = min(rng.randint(1, 4), quota - made - 1)
            row, parent = maker.make(user, project, None)
            yield row
            for child in range(1, subtasks + 1):
                yield maker.make(user, project, (parent, child))[0]
            made += 1 + subtasks
    spool.flush()


class _TaskMaker:
    """Builds one task row at a time; remembers per-project keys and recent ids."""

    def __init__(self, ctx: Context, rng: random.Random, spool: IO[str]) -> None:
        self.ctx, self.rng, self.spool = ctx, rng, spool
        self.categories: dict[uuid.UUID, list[uuid.UUID]] = ctx.shared["categories_by_user"]
        self.states: dict[uuid.UUID, _ProjectState] = {}
        # A generator of its own: the rows of the other tables stay as they were.
        self.waiting_rng = ctx.rng("task_pending_dependencies")
        self.waiting: list[tuple[Any, ...]] = []
        ctx.shared["waiting"] = self.waiting

    def make(
        self,
        user: uuid.UUID,
        project: uuid.UUID | None,
        under: tuple[tuple[uuid.UUID, str], int] | None,
    ) -> tuple[tuple[Any, ...], tuple[uuid.UUID, str]]:
        """A task row (a subtask when `under` = ((parent id, parent key), child number))."""
        ctx, rng = self.ctx, self.rng
        task_id = seeded_uuid(rng)
        key = None
        if project is not None:
            state = self.states.setdefault(project, _ProjectState())
            if under is None:
                key = str(state.next_key)
                state.next_key += 1
                first_project = not self.waiting and len(self.states) == 1
                if key == "1" and (first_project or self.waiting_rng.random() < WAITING_SHARE):
                    self.waiting.append((task_id, project, WAITING_KEY, ctx.now))
            else:
                key = f"{under[0][1]}.{under[1]}"
            if state.recent and rng.random() < DEPENDENCY_SHARE:
                depends_on = rng.choice(state.recent)
                self.spool.write(f"{task_id}\t{depends_on}\t{ctx.now.isoformat()}\n")
            if under is None:
                state.recent.append(task_id)
        mine = self.categories.get(user)
        category = rng.choice(mine) if mine and rng.random() < 0.4 else None
        created = ctx.moment(rng, days_back=365)
        due = ctx.moment(rng, days_back=60, days_ahead=90) if rng.random() < 0.6 else None
        data = {"details": f"Notes {rng.getrandbits(32):08x}"} if rng.random() < 0.2 else {}
        row = (
            task_id,
            user,
            project,
            key,
            under[0][0] if under else None,
            category,
            f"{rng.choice(VERBS)} {rng.choice(WORDS)} {rng.choice(WORDS)}",
            "Generated task." if rng.random() < 0.5 else None,
            rng.choice(STATUSES),
            rng.choice(PRIORITIES),
            due,
            json.dumps(data),
            created,
            created + timedelta(hours=rng.uniform(0, 500)),
        )
        return row, (task_id, key or "")


def _dependencies(ctx: Context) -> Iterator[tuple[str, ...]]:
    spool: IO[str] = ctx.shared.pop("dependency_spool")
    with spool:
        spool.seek(0)
        for line in spool:
            task_id, depends_on, created = line.rstrip("\n").split("\t")
            yield task_id, depends_on, created


def _waiting(ctx: Context) -> Iterator[tuple[Any, ...]]:
    yield from ctx.shared.pop("waiting")


def _syncs(ctx: Context) -> Iterator[tuple[Any, ...]]:
    rng = ctx.rng("sync_history")
    for project_id, _owner in ctx.shared["projects"]:
        runs = rng.randint(0, 9)
        started = ctx.moment(rng, days_back=300)
        for n in range(runs):
            started += timedelta(hours=rng.uniform(1, 200))
            sha = f"{rng.getrandbits(160):040x}"
            if n == runs - 1 and rng.random() < 0.1:
                yield project_id, sha, "running", None, started, None
                break
            failed = rng.random() < 0.1
            yield (
                project_id,
                sha,
                "failed" if failed else "succeeded",
                "merge conflict in tasks.json" if failed else None,
                started,
                started + timedelta(seconds=rng.uniform(1, 600)),
            )
