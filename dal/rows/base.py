"""What every row type shares: `to_dict()`, the row as JSON-ready values."""

from __future__ import annotations

import base64
import dataclasses
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

SECRET = {"secret": True}
"""Field metadata of a column `to_dict` leaves out (``field(metadata=SECRET)``)."""


class Row:
    """Base of every row type (a frozen, slotted dataclass)."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """The row's fields as JSON-ready values: UUIDs, times and decimals as strings,
        durations in seconds, nested rows as dicts; secret fields (a password hash)
        left out. `json.dumps(row.to_dict())` always works."""
        return {
            f.name: json_ready(getattr(self, f.name))
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
            if not f.metadata.get("secret")
        }


def json_ready(value: Any) -> Any:
    """`value` as JSON can hold it (see `Row.to_dict`)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Row):
        return value.to_dict()
    if isinstance(value, dict):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_ready(item) for item in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return str(value)
