"""Datetimes entering the DAL must be timezone-aware.

PostgreSQL reads a naive timestamp given for a ``timestamptz`` in the session's
TimeZone setting, so the same call would mean different instants on
differently configured servers or connections. Every DAL function that takes a
datetime checks it here first, before any query runs.

It must also name an instant Python can read back: an aware datetime whose UTC value
falls outside the years 1 to 9999 (``0001-01-01T00:00+14:00``) is a valid
timestamptz, so the write would commit, and every later read of the row would fail.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar

from dal._unset import _Unset
from dal.errors import InvalidData

T = TypeVar("T")


def require_aware(value: T, field: str) -> T:
    """`value` unchanged if it is a timezone-aware datetime; InvalidData(column=field) if not.

    None and UNSET (no value: NULL, or "leave as it is") pass through, so optional
    and partial-update arguments need no special case.
    """
    if value is None or isinstance(value, _Unset):
        return value
    if not isinstance(value, datetime):
        raise InvalidData(f"{field} must be a datetime, not {type(value).__name__}", column=field)
    if value.utcoffset() is None:
        raise InvalidData(
            f"{field} must be timezone-aware (e.g. tzinfo=UTC): a naive datetime "
            "would be read in the session's time zone",
            column=field,
        )
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise InvalidData(
            f"{field} is outside the years 1 to 9999 in UTC, which Python cannot read back",
            column=field,
        ) from None
    return value
