"""Read replicas: which one a routed read goes to, and when it must go to the primary.

`open_pool` opens a pool per `DATABASE_REPLICA_URLS` entry beside the primary's; the
seam (`dal.aio.queries`) asks `routes()` whether a call goes to one (see
`dal.routing` for how a call is routed) and runs it through `run()`, which tries
the replicas in turn and ends on the primary:

- a replica that refuses a connection, loses one or cancels a read (a recovery
  conflict) is skipped for RETRY_AFTER_S, and the read runs elsewhere: a read is
  safe to run again;
- a replica's replay position and lag are read before a routed call at most every
  CHECK_EVERY_S, or at once when the caller wrote past what it was last seen to
  have replayed; lagging beyond `DATABASE_REPLICA_MAX_LAG`, it is skipped until the
  next look shows it caught up;
- the caller's last write (`dal.routing`) must be replayed there, else the primary
  serves the read. The cost: one round trip per write to take the WAL position,
  and one per routed read only while the replica is behind the caller.

A cached query (`dal.cache_plan.CACHED`) read through Redis loads from the primary:
a replica's older row stored after a write's invalidation would outlive it.

Written once: the sync module `dal/replicas.py` is generated from `dal/aio/replicas.py`.
"""

from __future__ import annotations

import itertools
import logging
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from time import monotonic
from typing import Any, TypeVar

import psycopg

from dal import routing
from dal.aio.db import DalPool, Pool, borrow, hand_back
from dal.config import describe
from dal.errors import ConcurrentUpdate, DalError, Unavailable
from dal.query_files import QUERIES, Query, reads_only

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_AFTER_S = 5.0  # a replica that failed is left alone this long
CHECK_EVERY_S = 1.0  # how often a replica's lag is read again

# Errors after which a read is run elsewhere: the replica is gone or cancelled it.
_SKIP = (Unavailable, ConcurrentUpdate)


@dataclass
class Replica:
    """One replica pool and what was last seen of it."""

    pool: Pool
    where: str
    down_until: float = 0.0
    replayed: int = 0  # the highest replay position seen
    lag_s: float = 0.0
    checked_at: float = float("-inf")
    lagging: bool = False


class ReplicaSet:
    """The replicas of one primary pool, and the reads routed to them."""

    def __init__(self, pools: Sequence[Pool], *, max_lag_s: float, routed: frozenset[str]) -> None:
        self.replicas = [Replica(pool, describe(str(pool.conninfo))) for pool in pools]
        self.max_lag_s = max_lag_s
        self.routed = routed
        self._turn = itertools.count()

    def routes(self, query: Query) -> bool:
        """Whether a call of `query` given the pool goes to a replica."""
        preference = routing.preference()
        if preference == "primary" or not reads_only(query):
            return False
        return preference == "replica" or query.name in self.routed or "*" in self.routed

    def in_turn(self) -> list[Replica]:
        """The replicas not left alone, starting from the next in turn."""
        now = monotonic()
        ready = [r for r in self.replicas if r.down_until <= now]
        if not ready:
            return []
        start = next(self._turn) % len(ready)
        return ready[start:] + ready[:start]

    def must_look(self, replica: Replica, needed: int | None) -> bool:
        """Whether the replica's position and lag must be read before using it."""
        behind = needed is not None and replica.replayed < needed
        return behind or monotonic() - replica.checked_at >= CHECK_EVERY_S

    def looked(self, replica: Replica, seen: Any, needed: int | None) -> bool:
        """Note the replica's replay position and lag; whether it may serve the read."""
        replica.checked_at = monotonic()
        replayed, lag_s = seen if seen else (None, None)
        if replayed is None:  # not in recovery: a primary listed as a replica
            replica.replayed, replica.lag_s = 2**64, 0.0
        else:
            replica.replayed = max(replica.replayed, routing.parse_lsn(replayed))
            replica.lag_s = float(lag_s or 0.0)
        lagging = replica.lag_s > self.max_lag_s
        if lagging != replica.lagging:
            replica.lagging = lagging
            log.warning(
                "replica %s %s (%.1fs behind)",
                replica.where,
                "lags beyond DATABASE_REPLICA_MAX_LAG: skipped" if lagging else "caught up",
                replica.lag_s,
            )
        return not lagging and (needed is None or replica.replayed >= needed)

    def failed(self, replica: Replica, exc: BaseException) -> None:
        """Leave the replica alone for RETRY_AFTER_S."""
        if replica.down_until <= monotonic():
            log.warning(
                "replica %s failed (%s): reading from the others or the primary for %gs",
                replica.where,
                type(exc).__name__,
                RETRY_AFTER_S,
            )
        replica.down_until = monotonic() + RETRY_AFTER_S
        replica.checked_at = float("-inf")


_sets: weakref.WeakKeyDictionary[Any, ReplicaSet] = weakref.WeakKeyDictionary()


def of(pool: Any) -> ReplicaSet | None:
    """The replicas of `pool` (a `DalPool` that `open_pool` gave replica pools), or None."""
    if not isinstance(pool, DalPool) or not pool.replica_pools:
        return None
    found = _sets.get(pool)
    if found is None:
        found = _sets[pool] = ReplicaSet(
            pool.replica_pools, max_lag_s=pool.replica_max_lag_s, routed=pool.replica_queries
        )
    return found


async def run(
    replica_set: ReplicaSet,
    on: Callable[[psycopg.AsyncConnection[Any]], Awaitable[T]],
    on_primary: Callable[[], Awaitable[T]],
) -> T:
    """`on(conn)` on a usable replica's connection, else `on_primary()`."""
    needed = routing.needed()
    for replica in replica_set.in_turn():
        try:
            conn = await borrow(replica.pool)
        except DalError as exc:
            replica_set.failed(replica, exc)
            continue
        try:
            if replica_set.must_look(replica, needed):
                cursor = await conn.execute(QUERIES["transactions.replay_position"].text)
                if not replica_set.looked(replica, await cursor.fetchone(), needed):
                    continue
            return await on(conn)
        except psycopg.Error as exc:  # the look itself failed: the replica is gone
            replica_set.failed(replica, exc)
        except _SKIP as exc:
            replica_set.failed(replica, exc)
        finally:
            await hand_back(replica.pool, conn)
    return await on_primary()
