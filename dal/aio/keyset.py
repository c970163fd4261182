"""One keyset page of a list in (timestamp, id) order: the shape such lists share.

Each list has two named queries, its first page and the page after a cursor. The
cursor holds the sort key of the last row returned, (timestamp, id), which the second
query takes as its two cursor parameters (`after_*` in an ascending list, `before_*`
in a newest-first one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from dal.aio import queries
from dal.aio.db import Db
from dal.pagination import Page, check_limit, decode_time_cursor, page_of

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TimeOrder(Generic[T]):
    """How one list is paged: its row type, its two queries, the parameters a cursor
    fills, the type of its id (int for a bigint key, or UUID) and a row's sort key."""

    row: type[T]
    first_page: str
    after: str
    cursor_params: tuple[str, str]
    id_type: type[int] | type[UUID]
    key: Callable[[T], tuple[datetime, int | UUID]]


async def page(
    db: Db, order: TimeOrder[T], params: Mapping[str, Any], *, cursor: str | None, limit: int
) -> Page[T]:
    """The first page of the list `order` describes, or the page after `cursor`;
    InvalidData for a limit out of range or a cursor this list did not give."""
    bound = {**params, "limit": check_limit(limit) + 1}
    if cursor is None:
        rows = await queries.fetch_all(db, order.first_page, bound, order.row)
    else:
        moment, row_id = decode_time_cursor(cursor, order.id_type)
        bound[order.cursor_params[0]], bound[order.cursor_params[1]] = moment, row_id
        rows = await queries.fetch_all(db, order.after, bound, order.row)
    return page_of(rows, limit, lambda last: _cursor_of(order.key(last)))


def _cursor_of(key: tuple[datetime, int | UUID]) -> list[Any]:
    """A sort key as a cursor holds it: the time with its offset, a bigint id as a
    JSON integer, a UUID as a string (what `decode_time_cursor` expects back)."""
    moment, row_id = key
    return [moment.isoformat(), row_id if isinstance(row_id, int) else str(row_id)]
