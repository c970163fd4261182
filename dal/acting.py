"""The acting user: whose rows the database's row-level security lets a call see.

A service sets it once per request, around every DAL call made for that user::

    with dal.acting_as(user.id):
        tasks.get(pool, task_id)   # NotFound unless the user may see that task

It is a context variable, so each thread and each asyncio task has its own, and the
same `with` serves the sync and the async flavour. The seam (`dal.queries`) sends it
to the server as ``set_config('dal.user_id', ..., true)`` in the same transaction as
each query (in one round trip, pipelined), so it ends with that transaction and never
outlives the request on a pooled (or PgBouncer-shared) connection. Outside
`acting_as`, nothing is sent: a session as the application role then sees no row of
the tables under row-level security.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from uuid import UUID

from dal.arguments import checked
from dal.errors import not_allowed

_acting: ContextVar[UUID | None] = ContextVar("dal_acting_user", default=None)


@checked
@contextmanager
def acting_as(user_id: UUID) -> Iterator[UUID]:
    """Run the block's DAL calls on behalf of `user_id` (row-level security)."""
    token = _acting.set(user_id)
    try:
        yield user_id
    finally:
        _acting.reset(token)


@checked
def acting_user() -> UUID | None:
    """The user the current block acts for (`acting_as`), or None."""
    return _acting.get()


def refuse_for_others(user_id: UUID, what: str, *, table: str) -> None:
    """Raise PermissionDenied when the block acts for a user other than `user_id`: an
    answer (an RSVP, a survey answer) is changed only by the user who gave it."""
    acting = _acting.get()
    if acting is not None and acting != user_id:
        raise not_allowed(what, table=table)
