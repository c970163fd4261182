"""Row types of the categories area: the same classes in both flavours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Category:
    id: UUID
    owner_id: UUID
    name: str
    colour: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class CategoryWithCount:
    id: UUID
    owner_id: UUID
    name: str
    colour: str
    created_at: datetime
    updated_at: datetime
    task_count: int
