"""Where a read goes when the pool has read replicas (`DATABASE_REPLICA_URLS`).

A read-only named query given the pool goes to a replica when it is routed there:
per function, by its query's name in `DATABASE_REPLICA_QUERIES` (``*`` for every
read), or per call, inside ``with dal.on_replica():``. ``with dal.on_primary():``
keeps a block's reads on the primary whatever the settings say. A write, and any
call given a connection (a transaction), always runs where it was sent.

Read-your-writes: after a write commits, the seam takes the primary's WAL position
(one more round trip per write, paid only when replicas are configured) and keeps
it for the caller (a context variable: one per thread and asyncio task). The
caller's later reads go to a replica only once it has replayed that far, else to
the primary. `written_at` and `read_after` carry the position to another request
(a cookie, a session).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from dal.arguments import checked
from dal.errors import InvalidData

_prefer: ContextVar[str | None] = ContextVar("dal_prefer", default=None)
_written_at: ContextVar[int | None] = ContextVar("dal_written_at", default=None)


@checked
@contextmanager
def on_replica() -> Iterator[None]:
    """Send the block's read-only calls given the pool to a replica where one is
    usable (caught up with the caller's writes, not lagging, up)."""
    token = _prefer.set("replica")
    try:
        yield
    finally:
        _prefer.reset(token)


@checked
@contextmanager
def on_primary() -> Iterator[None]:
    """Keep the block's calls on the primary."""
    token = _prefer.set("primary")
    try:
        yield
    finally:
        _prefer.reset(token)


def preference() -> str | None:
    """``replica``, ``primary`` or None (the settings decide)."""
    return _prefer.get()


@checked
def written_at() -> str | None:
    """The WAL position of the caller's last write (``0/3000148``), or None."""
    lsn = _written_at.get()
    return None if lsn is None else f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


@checked
@contextmanager
def read_after(position: str) -> Iterator[None]:
    """Read in the block only from replicas that replayed `position` (a `written_at`
    of another request), or from the primary."""
    token = _written_at.set(max(parse_lsn(position), _written_at.get() or 0))
    try:
        yield
    finally:
        _written_at.reset(token)


def wrote_at(lsn: int) -> None:
    """Note a committed write of the caller's at WAL position `lsn`."""
    if lsn > (_written_at.get() or 0):
        _written_at.set(lsn)


def needed() -> int | None:
    """The WAL position a replica must have replayed for this caller, or None."""
    return _written_at.get()


@checked
def parse_lsn(text: str) -> int:
    """A WAL position as PostgreSQL writes it (``16/B374D848``) as one integer."""
    high, sep, low = text.partition("/")
    try:
        if not sep:
            raise ValueError(text)
        return (int(high, 16) << 32) | int(low, 16)
    except ValueError:
        raise InvalidData(
            f"not a WAL position (like 16/B374D848): {text!r}", column="position"
        ) from None
