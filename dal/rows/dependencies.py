"""Row types of the dependencies area: the same classes in both flavours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from dal.errors import InvalidData
from dal.rows.base import Row


class DependencyCycle(InvalidData):
    """The new dependency would make a task (indirectly) wait for itself."""

    def __init__(self, message: str, path: list[UUID]) -> None:
        super().__init__(message, table="task_dependencies", column="depends_on_id")
        self.path = path


@dataclass(frozen=True, slots=True)
class Dependency(Row):
    """An edge of a project's task graph (table task_dependencies): `task_id` waits for
    `depends_on_id`."""

    task_id: UUID
    depends_on_id: UUID
    project_id: UUID
    created_at: datetime
