"""Row types of the servers area: the same classes in both flavours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from dal.rows.base import Row


@dataclass(frozen=True, slots=True)
class Server(Row):
    """A community server (table servers), known by its Discord-style snowflake id."""

    id: int
    snowflake_id: int
    name: str
    owner_id: UUID
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Member(Row):
    """A user's membership of a server (table server_members), with a role."""

    server_id: int
    user_id: UUID
    role: str
    joined_at: datetime


@dataclass(frozen=True, slots=True)
class Membership(Row):
    """A server seen from one of its members: their role, and when they joined."""

    id: int
    snowflake_id: int
    name: str
    owner_id: UUID
    created_at: datetime
    updated_at: datetime
    role: str
    joined_at: datetime
