"""Row types of the users area: the same classes in both flavours."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from dal import passwords
from dal.rows.base import SECRET, Row


@dataclass(frozen=True, slots=True)
class User(Row):
    """A user (table users). `to_dict()` leaves the password hash out."""

    id: UUID
    email: str
    username: str
    password_hash: str | None = field(repr=False, metadata=SECRET)
    display_name: str | None
    preferences: dict[str, Any]
    status: str
    github_id: int | None
    gitlab_id: int | None
    last_login_at: datetime | None
    created_at: datetime
    updated_at: datetime

    def check_password(self, password: str) -> bool:
        """Constant-time comparison against the stored hash."""
        return passwords.verify(self.password_hash, password)
