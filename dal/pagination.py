"""Keyset pagination: a page of rows and an opaque cursor to the next one.

A cursor encodes the sort key of the last row returned (never an OFFSET), so
pages stay stable while rows are inserted and cost the same at any depth.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from dal.errors import InvalidData

T = TypeVar("T")
K = TypeVar("K")

MAX_PAGE_SIZE = 500
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class Page(Generic[T]):
    """Rows of one page and the cursor to pass for the next (None: this is the last)."""

    items: list[T] = field(default_factory=list)
    next_cursor: str | None = None


def encode_cursor(values: Sequence[Any]) -> str:
    """Encode a sort key (strings, numbers, None) as a URL-safe string."""
    raw = json.dumps(list(values), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    """Decode a cursor made by `encode_cursor`; InvalidData if it was tampered with."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise InvalidData("cursor is not a valid page cursor", column="cursor") from None
    if not isinstance(values, list) or len(values) != length:
        raise InvalidData("cursor is not a valid page cursor", column="cursor")
    return values


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidData(f"limit must be between 1 and {MAX_PAGE_SIZE}", column="limit")
    return limit


def decode_time_cursor(cursor: str, id_type: Callable[[Any], K]) -> tuple[datetime, K]:
    """Decode a (timestamp, id) cursor; InvalidData if either part is not what it claims."""
    moment, row_id = decode_cursor(cursor, 2)
    try:
        when = datetime.fromisoformat(moment)
        if when.tzinfo is None:  # our cursors carry an offset: a naive one was forged
            raise ValueError(moment)
        # Our cursors hold a bigint id as a JSON integer and a UUID as a string: a
        # float, a bool, a number past 64 bits or an id of the other kind was forged.
        if id_type is int:
            if type(row_id) is not int or not BIGINT_MIN <= row_id <= BIGINT_MAX:
                raise ValueError(row_id)
        elif not isinstance(row_id, str):
            raise ValueError(row_id)
        return when, id_type(row_id)
    except (TypeError, ValueError):
        raise InvalidData("cursor is not a valid page cursor", column="cursor") from None


def page_of(rows: list[T], limit: int, key: Callable[[T], Sequence[Any]]) -> Page[T]:
    """The page of rows fetched with LIMIT `limit` + 1: the extra row, when there is one,
    only says that a next page exists; the cursor is the sort key of the page's last row."""
    if len(rows) <= limit:
        return Page(rows, None)
    return Page(rows[:limit], encode_cursor(key(rows[limit - 1])))
