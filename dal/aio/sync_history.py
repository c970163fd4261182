"""Synchronisations of a project with its git repository (queries in `sql/sync_history.sql`).

A run starts as ``running`` (or ``pending`` when queued, until `begin`) and is finished once,
as ``succeeded`` or ``failed`` with an error text. At most one unfinished run
per project exists (Conflict naming sync_history_one_unfinished_per_project_key).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final
from uuid import UUID

from dal.aio import keyset, queries
from dal.aio.db import Db, transaction
from dal.aio.keyset import TimeOrder
from dal.arguments import checked
from dal.errors import Conflict, NotFound, not_allowed
from dal.pagination import Page
from dal.rows.sync_history import SyncRun

__all__ = [
    "SyncRun",
    "begin",
    "finish",
    "history",
    "latest",
    "latest_for_projects",
    "start",
]

# A project's runs, newest first.
_HISTORY: Final = TimeOrder(
    SyncRun,
    "sync_history.history_first_page",
    "sync_history.history_page_after",
    ("after_started_at", "after_id"),
    int,
    lambda run: (run.started_at, run.id),
)


@checked
async def start(db: Db, project_id: UUID, commit_sha: str, *, queued: bool = False) -> SyncRun:
    """Record a sync of `commit_sha` (40 or 64 hex digits, any case) as running, or pending."""
    params = {
        "project_id": project_id,
        "commit_sha": commit_sha.lower(),
        "status": "pending" if queued else "running",
    }
    run = await queries.fetch_one(db, "sync_history.start", params, SyncRun)
    assert run is not None
    return run


@checked
async def begin(db: Db, run_id: int) -> SyncRun:
    """Move a queued (pending) run to running; started_at stays the time it was recorded.

    NotFound for an unknown run; Conflict if it is not pending (already running or finished).
    """
    return await _move(db, "sync_history.begin", {"id": run_id}, "is {status}, not pending",
                       ("pending",))  # fmt: skip


@checked
async def finish(db: Db, run_id: int, *, error: str | None = None) -> SyncRun:
    """Close the run: succeeded without `error`, failed with it.

    NotFound for an unknown run; Conflict if it was already finished.
    """
    params = {"id": run_id, "status": "succeeded" if error is None else "failed", "error": error}
    return await _move(db, "sync_history.finish", params, "already {status}",
                       ("pending", "running"))  # fmt: skip


async def _move(
    db: Db, query: str, params: dict[str, Any], refused: str, movable: tuple[str, ...]
) -> SyncRun:
    """Run a status change that matches only runs in a `movable` status; when it matches
    nothing, say why: NotFound, Conflict with `refused` filled with the status, or
    PermissionDenied when the run could move but row-level security kept the acting
    user from moving it (they may read the project's runs, not write them)."""
    async with transaction(db) as conn:
        run = await queries.fetch_one(conn, query, params, SyncRun)
        if run is not None:
            return run
        existing = await queries.fetch_one(
            conn, "sync_history.get_by_id", {"id": params["id"]}, SyncRun
        )
    if existing is None:
        raise NotFound(f"no sync run with id {params['id']}", table="sync_history")
    if existing.status in movable:
        raise not_allowed(f"sync run {params['id']}", table="sync_history")
    reason = refused.format(status=existing.status)
    raise Conflict(f"sync run {params['id']} {reason}", table="sync_history")


@checked
async def latest(db: Db, project_id: UUID) -> SyncRun | None:
    """The project's newest run, or None if it was never synced."""
    latest = await latest_for_projects(db, [project_id])
    return latest.get(project_id)


@checked
async def latest_for_projects(db: Db, project_ids: Sequence[UUID]) -> dict[UUID, SyncRun]:
    """The newest run of each project that has one, keyed by project id."""
    params = {"project_ids": list(project_ids)}
    runs = await queries.fetch_all(db, "sync_history.latest_for_projects", params, SyncRun)
    return {run.project_id: run for run in runs}


@checked
async def history(
    db: Db, project_id: UUID, *, cursor: str | None = None, limit: int = 20
) -> Page[SyncRun]:
    """The project's runs, newest first, one keyset page at a time."""
    params = {"project_id": project_id}
    return await keyset.page(db, _HISTORY, params, cursor=cursor, limit=limit)
