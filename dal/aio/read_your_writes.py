"""Read-your-writes: the primary's WAL position after a caller's write commits.

Taken only while some pool of the process has read replicas (`track`), one round
trip after each committed write, and kept for the caller in `dal.routing`: the
caller's later reads go to a replica only once it has replayed that far
(`dal.aio.replicas`).

Written once: the sync module `dal/read_your_writes.py` is generated from
`dal/aio/read_your_writes.py`.
"""

from __future__ import annotations

import weakref
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from dal import routing
from dal.query_files import QUERIES

_tracking: weakref.WeakSet[Any] = weakref.WeakSet()  # the pools with replicas
# Connections whose open transaction wrote: their position is taken at COMMIT.
_unsettled: weakref.WeakSet[Any] = weakref.WeakSet()

UNKNOWN = 2**64 - 1  # a position no replica reaches: the primary serves the caller


def track(pool: Any) -> None:
    """Take positions after writes from now on: `pool` has replicas."""
    _tracking.add(pool)


def enabled() -> bool:
    """Whether positions are taken (some pool of the process has replicas)."""
    return bool(_tracking)


async def wrote(conn: psycopg.AsyncConnection[Any]) -> None:
    """A write ran on `conn`: note its position for the caller once committed."""
    if conn.info.transaction_status == TransactionStatus.IDLE:
        await _take_position(conn)
    else:
        _unsettled.add(conn)


async def committed(conn: psycopg.AsyncConnection[Any], *, surely: bool = True) -> None:
    """`conn`'s transaction committed (or, with `surely` false, may have: the connection
    was lost during COMMIT, so no position can be read: the primary serves the caller)."""
    if _unsettled and conn in _unsettled:
        _unsettled.discard(conn)
        if surely:
            await _take_position(conn)
        else:
            routing.wrote_at(UNKNOWN)


def rolled_back(conn: psycopg.AsyncConnection[Any]) -> None:
    """`conn`'s transaction rolled back: nothing of it to wait for."""
    if _unsettled:
        _unsettled.discard(conn)


async def _take_position(conn: psycopg.AsyncConnection[Any]) -> None:
    try:
        cursor = await conn.execute(QUERIES["transactions.wal_position"].text)
        row = await cursor.fetchone()
        if not conn.autocommit:  # the query began a transaction: leave the connection idle
            await conn.commit()
    except psycopg.Error:  # the write stands; without its position, read the primary
        routing.wrote_at(UNKNOWN)
        return
    if row and row[0]:
        routing.wrote_at(routing.parse_lsn(row[0]))
