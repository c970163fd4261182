"""Row types of the projects area: the same classes in both flavours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from dal.rows.base import Row


@dataclass(frozen=True, slots=True)
class Project(Row):
    """A project (table projects), owned by a user; its tasks belong to it."""

    id: UUID
    owner_id: UUID
    name: str
    git_url: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Member(Row):
    """A user's membership of a project (table project_members): role and access level."""

    project_id: UUID
    user_id: UUID
    role: str
    access_level: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ProjectMembership(Row):
    """A project seen from one of its members: their role, access level, and when they
    joined."""

    id: UUID
    owner_id: UUID
    name: str
    git_url: str | None
    created_at: datetime
    updated_at: datetime
    role: str
    access_level: str
    joined_at: datetime
