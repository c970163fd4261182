"""The one dynamic query: `tasks.list_for_user` with optional filters, a sort and a cursor.

Built with pypika because the WHERE and ORDER BY clauses genuinely vary. The
rules that keep it safe and fast:

- every value is a bound parameter (`Parameter("%(name)s")`); only identifiers
  and the constant sort expressions below ever become SQL text;
- each sort is ``ORDER BY <key>, id`` in one direction, which is exactly the
  order of an ``(owner_id, <key>, id)`` index (read backwards for descending),
  and the keyset predicate is the row comparison ``(<key>, id) > (%(k)s, %(i)s)``
  the index can start from;
- a filter that is absent is absent from the SQL (no ``%(x)s IS NULL OR ...``),
  so each shape gets a plan for what it really asks.

NULL due dates sort last (first when descending) because the key is
``coalesce(due_at, 'infinity')``, the expression `tasks_owner_id_due_at_idx`
indexes; due dates are finite by constraint, so the cursor can hold
"infinity" for a NULL.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, LiteralString
from uuid import UUID

from pypika import CustomFunction, Order, Parameter, Table
from pypika import PostgreSQLQuery as Query
from pypika.enums import Matching
from pypika.terms import BasicCriterion, Criterion, LiteralValue, Term, Tuple

from dal.errors import InvalidData
from dal.query_files import Query as NamedQuery

TASKS: Final = Table("tasks")
COLUMNS: Final = (
    "id", "owner_id", "project_id", "key", "parent_id", "category_id", "title",
    "description", "status", "priority", "due_at", "data", "version", "created_at",
    "updated_at",
)  # fmt: skip

_ANY = CustomFunction("ANY", ["values"])
_DUE_KEY = LiteralValue("coalesce(\"due_at\", 'infinity'::timestamptz)")
_INFINITY = LiteralValue("'infinity'::timestamptz")

SORT_KEYS: Final[dict[str, Term]] = {
    "due": _DUE_KEY,  # tasks_owner_id_due_at_idx
    "priority": TASKS.priority_rank,  # tasks_owner_id_priority_rank_idx
    "created": TASKS.created_at,  # tasks_owner_id_created_at_idx
    "updated": TASKS.updated_at,  # tasks_owner_id_updated_at_idx
}
# The CHECK tasks_status_valid (migration 0004); dal.tasks exports them as tasks.STATUSES.
STATUSES: Final = (
    "pending", "in_progress", "completed", "done", "review", "deferred", "cancelled", "blocked",
)  # fmt: skip
# Mirrors the generated column tasks.priority_rank (migration 0004).
PRIORITY_RANK: Final = {"low": 1, "medium": 2, "high": 3, "critical": 4}
DEFAULT_DESCENDING: Final = {"due": False, "priority": True, "created": True, "updated": True}


@dataclass(frozen=True, slots=True)
class Filters:
    """Optional filters of `list_for_user`; None (or empty) means "any".

    A status or priority outside tasks.STATUSES / tasks.PRIORITIES raises InvalidData
    (column "statuses" / "priorities") before any query runs.
    """

    statuses: Collection[str] | None = None
    priorities: Collection[str] | None = None
    category_id: UUID | None = None
    project_id: UUID | None = None
    due_before: datetime | None = None  # due_at < due_before
    due_after: datetime | None = None  # due_at >= due_after
    title_contains: str | None = None  # case-insensitive substring of the title


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True, slots=True)
class _Shape:
    """What the SQL text depends on: which filters are present, the sort, the cursor kind."""

    statuses: bool
    priorities: bool
    category: bool
    project: bool
    due_before: bool
    due_after: bool
    title: bool
    sort: str
    descending: bool
    after: str | None  # None: first page; "key": after a key value; "null": after a NULL due


def build(
    owner_id: UUID,
    filters: Filters,
    *,
    sort: str,
    descending: bool,
    after: tuple[Any, UUID] | None,
    limit: int,
) -> tuple[NamedQuery, dict[str, Any]]:
    """The statement and its parameters. `after` is (sort key value, id) of the last
    row seen; a sort key of None stands for a NULL due date. The statement is built
    once per shape (pypika is slow next to a query) and reused: psycopg prepares it
    like a named query."""
    _check_known(filters.statuses, STATUSES, "statuses")
    _check_known(filters.priorities, tuple(PRIORITY_RANK), "priorities")
    params: dict[str, Any] = {"owner_id": owner_id, "limit": limit}
    if filters.statuses:
        params["statuses"] = sorted(filters.statuses)
    if filters.priorities:
        params["priority_ranks"] = sorted({PRIORITY_RANK[p] for p in filters.priorities})
    if filters.category_id is not None:
        params["category_id"] = filters.category_id
    if filters.project_id is not None:
        params["project_id"] = filters.project_id
    if filters.due_before is not None:
        params["due_before"] = filters.due_before
    if filters.due_after is not None:
        params["due_after"] = filters.due_after
    if filters.title_contains:
        params["title_pattern"] = f"%{_escape_like(filters.title_contains)}%"
    cursor_kind = None
    if after is not None:
        after_key, params["after_id"] = after
        cursor_kind = "null" if after_key is None else "key"
        if after_key is not None:
            params["after_key"] = after_key
    shape = _Shape(
        statuses="statuses" in params,
        priorities="priority_ranks" in params,
        category="category_id" in params,
        project="project_id" in params,
        due_before="due_before" in params,
        due_after="due_after" in params,
        title="title_pattern" in params,
        sort=sort,
        descending=descending,
        after=cursor_kind,
    )
    return _sql(shape), params


def _check_known(values: Collection[str] | None, known: tuple[str, ...], column: str) -> None:
    """InvalidData(column=...) for a filter value outside `known`: it would match nothing."""
    if not values:
        return
    if isinstance(values, str):
        raise InvalidData(f"{column} must be a collection of values, not a string", column=column)
    unknown = sorted(repr(value) for value in set(values) - set(known))
    if unknown:
        raise InvalidData(
            f"unknown {column} {', '.join(unknown)}; use some of {', '.join(known)}",
            column=column,
        )


_NOT_FILTERS = {"sort", "descending", "after"}


@functools.lru_cache(maxsize=512)
def _sql(shape: _Shape) -> NamedQuery:
    filters = [f.name for f in dataclasses.fields(shape) if f.name not in _NOT_FILTERS]
    present = [name for name in filters if getattr(shape, name)]
    direction = "desc" if shape.descending else "asc"
    where = "+".join(present) or "owner"
    name = f"tasks.list_for_user[{where};{shape.sort} {direction};after {shape.after}]"
    return NamedQuery.parse(name, "a user's tasks, one keyset page", _text(shape), __name__)


def _text(shape: _Shape) -> LiteralString:
    where: list[Criterion] = [TASKS.owner_id == Parameter("%(owner_id)s")]
    if shape.statuses:
        where.append(TASKS.status == _ANY(Parameter("%(statuses)s")))
    if shape.priorities:
        # Filter on the generated rank, not the text: the rank is a column of
        # tasks_owner_id_priority_rank_idx, so the scan skips other priorities.
        where.append(TASKS.priority_rank == _ANY(Parameter("%(priority_ranks)s")))
    if shape.category:
        where.append(TASKS.category_id == Parameter("%(category_id)s"))
    if shape.project:
        where.append(TASKS.project_id == Parameter("%(project_id)s"))
    if shape.due_before:
        where.append(TASKS.due_at < Parameter("%(due_before)s"))
    if shape.due_after:
        where.append(TASKS.due_at >= Parameter("%(due_after)s"))
    if shape.title:
        pattern = Parameter("%(title_pattern)s")
        where.append(BasicCriterion(Matching.ilike, TASKS.title, pattern))

    key = SORT_KEYS[shape.sort]
    if shape.after is not None:
        # only the due sort has NULL keys, which sort as 'infinity'
        bound = _INFINITY if shape.after == "null" else Parameter("%(after_key)s")
        start = Tuple(bound, Parameter("%(after_id)s"))
        row = Tuple(key, TASKS.id)
        where.append(row < start if shape.descending else row > start)

    order = Order.desc if shape.descending else Order.asc
    query = Query.from_(TASKS).select(*(TASKS.field(c) for c in COLUMNS))
    for criterion in where:
        query = query.where(criterion)
    query = query.orderby(key, order=order).orderby(TASKS.id, order=order)
    query = query.limit(Parameter("%(limit)s"))  # type: ignore[arg-type]  # renders as-is
    # Only constant identifiers and placeholders reach the text: values are in params.
    text: LiteralString = query.get_sql()
    return text
