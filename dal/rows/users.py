"""Row types of the users area: the same classes in both flavours."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from dal import passwords


@dataclass(frozen=True, slots=True)
class User:
    """A user (table users). `to_dict()` gives it JSON-ready, without the password hash."""

    id: UUID
    email: str
    username: str
    password_hash: str | None = field(repr=False)
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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict of the user, without the password hash."""
        data = asdict(self)
        del data["password_hash"]
        data["id"] = str(self.id)
        for key in ("last_login_at", "created_at", "updated_at"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return data
