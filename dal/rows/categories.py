"""Row types of the categories area: the same classes in both flavours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from dal.rows.base import Row


@dataclass(frozen=True, slots=True)
class Category(Row):
    """A user's category for tasks (table categories): a name unique per owner,
    case-insensitively, and a #rrggbb colour."""

    id: UUID
    owner_id: UUID
    name: str
    colour: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class CategoryWithCount(Row):
    """A category with the number of the owner's tasks in it
    (`categories.list_for_user`)."""

    id: UUID
    owner_id: UUID
    name: str
    colour: str
    created_at: datetime
    updated_at: datetime
    task_count: int
