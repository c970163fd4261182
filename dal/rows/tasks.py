"""Row types of the tasks area: the same classes in both flavours."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from dal.rows.base import Row


@dataclass(frozen=True, slots=True)
class Task(Row):
    """A task (table tasks): a user's own, or in a project; `version` counts its
    updates."""

    id: UUID
    owner_id: UUID
    project_id: UUID | None
    key: str | None
    parent_id: UUID | None
    category_id: UUID | None
    title: str
    description: str | None
    status: str
    priority: str
    due_at: datetime | None
    data: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TaskNode(Row):
    """A task in a project tree: its subtasks and the ids of the tasks it depends on."""

    task: Task
    subtasks: list[TaskNode] = field(default_factory=list)
    depends_on: list[UUID] = field(default_factory=list)
