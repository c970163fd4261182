"""Row types of the servers area: the same classes in both flavours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Server:
    id: int
    snowflake_id: int
    name: str
    owner_id: UUID
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Member:
    server_id: int
    user_id: UUID
    role: str
    joined_at: datetime


@dataclass(frozen=True, slots=True)
class Membership:
    """A server seen from one of its members."""

    id: int
    snowflake_id: int
    name: str
    owner_id: UUID
    created_at: datetime
    updated_at: datetime
    role: str
