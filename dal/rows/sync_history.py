"""Row types of the sync_history area: the same classes in both flavours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from dal.rows.base import Row


@dataclass(frozen=True, slots=True)
class SyncRun(Row):
    """One run syncing a project with its repository (table sync_history)."""

    id: int
    project_id: UUID
    commit_sha: str
    status: str
    error: str | None
    started_at: datetime
    finished_at: datetime | None
