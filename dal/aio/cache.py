"""The optional Redis read-through cache of hot lookups (on when `REDIS_URL` is set).

`open_pool` opens one for its pool; the seam (`dal.aio.queries`) reads a cached
query (`dal.cache_plan.CACHED`) through it when a call is given the pool, and tells
it of every write. Inside a caller's transaction nothing is read from the cache:
a transaction sees its own snapshot and its own writes.

Never a stale row after a write has returned: each table has a generation counter
in Redis (a user looked up by id also one of its row: `dal.cache_plan.BY_KEY`), and
a reader stores what it read stamped with the counters it fetched *before* reading
PostgreSQL (one MGET fetches the value and the counters); a value is a hit only
while its stamp equals the counters. A writer moves on the counters of what it
changed once its transaction has committed (in autocommit, right after the
statement; in `transaction()`, after the outermost COMMIT; nothing on ROLLBACK). So
a reader that read the old row before the commit stores it stamped with the old
counters, which no later reader takes for a hit. A missing counter (new, evicted or
expired) starts at a random value, so it never brings an old value back.

Keys hold the database (host, port, name), the login role, the acting user, the
query's shape (`dal.cache_plan.key_version`) and a digest of the parameters: what
row-level security lets one caller see is never served to another.

Redis down or slow (each command bounded by `REDIS_TIMEOUT`): calls go to
PostgreSQL, one warning is logged, and Redis is tried again after RETRY_AFTER_S.
Bumps that could not be sent are owed and sent first when it answers again, before
anything is read from it. Writes made outside the DAL's named queries (psql, a
migration, the seeder) are not seen until the TTL, or `invalidate_all`.

Written once: the sync module `dal/cache.py` is generated from `dal/aio/cache.py`.
"""

from __future__ import annotations

import logging
import random
import weakref
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from time import monotonic
from typing import Any, TypeVar

import psycopg
from psycopg.pq import TransactionStatus

from dal import cache_plan
from dal.acting import acting_user
from dal.arguments import checked
from dal.config import redact
from dal.errors import ConfigError
from dal.query_files import Params, Query

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_AFTER_S = 5.0  # how long Redis is left alone after it failed


# KEYS: the counters to bump; ARGV[1]: a random start for a missing one, ARGV[2]:
# how long a counter lives after its last bump (a row's would otherwise stay forever;
# one that expired starts again at random, so what it stamped is never a hit again).
_BUMP = """
for _, key in ipairs(KEYS) do
    if redis.call('EXISTS', key) == 1 then
        redis.call('INCR', key)
    else
        redis.call('SET', key, ARGV[1])
    end
    redis.call('EXPIRE', key, ARGV[2])
end
return #KEYS
"""

_EPOCH = "*"  # the counter every key holds: `invalidate_all` bumps it


@dataclass
class CacheStats:
    """What a cache has done since it opened."""

    hits: int = 0
    misses: int = 0
    stores: int = 0
    bumps: int = 0
    failures: int = 0

    @property
    def hit_rate(self) -> float:
        """Hits over lookups (0.0 before the first)."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


class Cache:
    """One Redis read-through cache over one database (see the module's docstring)."""

    def __init__(self, url: str, *, database: str, role: str, ttl_s: int, timeout_ms: int) -> None:
        try:  # the `cache` extra: imported only where REDIS_URL is set
            import redis.asyncio
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
            from redis.exceptions import RedisError
        except ModuleNotFoundError:
            raise ConfigError(
                "REDIS_URL is set, but the Redis client is not installed: "
                "install the cache extra (pip install 'pgdal[cache]')"
            ) from None
        self.failures = (RedisError, OSError)  # Redis down, slow or refusing
        timeout = timeout_ms / 1000
        self.url = url
        self.ttl_s = ttl_s
        self.timeout_ms = timeout_ms
        self.client: Any = redis.asyncio.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),  # a retry doubles a stall
        )
        self._bump = self.client.register_script(_BUMP)
        self.gen_prefix = f"dal:{database}:gen:"
        self.key_prefix = f"dal:{database}:{role}:"
        self.stats = CacheStats()
        self.down_until = 0.0  # monotonic time before which Redis is not asked
        self.owed: set[str] = set()  # counters whose bump could not be sent

    async def close(self) -> None:
        """Send what is owed (a last try, whatever the last failure), then close the
        connections to Redis."""
        if self.owed:
            await self._pay()
        await self.client.aclose()

    async def read_through(
        self,
        query: Query,
        params: Params,
        row: type[Any] | None,
        many: bool,
        load: Callable[[], Awaitable[T]],
    ) -> T:
        """The result of `query` from Redis, else from `load()` (stored for the next
        caller under the generations fetched before loading)."""
        if (self.down_until or self.owed) and not await self._usable():
            return await load()
        acting = acting_user()
        key = (
            f"{self.key_prefix}{'-' if acting is None else acting}:{query.name}:"
            f"{cache_plan.key_version(query, row)}{'*' if many else ''}:"
            f"{cache_plan.params_digest(params)}"
        )
        counters = cache_plan.read_counters(query, params)
        gen_keys = [self.gen_prefix + name for name in (_EPOCH, *counters)]
        try:
            # One plain command: the value and the generations now. The value holds
            # the generations it was read under: equal ones make it a hit.
            blob, *gens = await self.client.mget([key, *gen_keys])
            if None in gens:  # a counter missing (new, or evicted): start it first
                gens = await self._start(gen_keys)
        except self.failures as exc:
            self._failed(exc)
            return await load()
        stamp = b".".join(gens) + b"|"
        if blob is not None and blob.startswith(stamp):
            try:
                found: T = cache_plan.decode(blob[len(stamp) :], row, many)
            except (ValueError, KeyError, TypeError, IndexError):  # not ours: read again
                log.warning("ignored an unreadable cached value of %s", query.name)
            else:
                self.stats.hits += 1
                return found
        self.stats.misses += 1
        found = await load()
        try:
            value = stamp + cache_plan.encode(found, many)
        except cache_plan.Uncacheable:
            return found
        try:
            await self.client.set(key, value, ex=self.ttl_s)
            self.stats.stores += 1
        except self.failures as exc:
            self._failed(exc)
        return found

    async def _start(self, gen_keys: list[str]) -> list[bytes]:
        """The counters `gen_keys`, each missing one started at a random value."""
        async with self.client.pipeline(transaction=False) as pipe:
            for key in gen_keys:
                pipe.set(key, _random_start(), nx=True, ex=2 * self.ttl_s)
            pipe.mget(gen_keys)
            *_, gens = await pipe.execute()
        return list(gens)

    async def bump(self, counters: Iterable[str]) -> None:
        """Move `counters` on (``users``, ``users:<id>``, see `dal.cache_plan`): what was
        stamped with them is not read again. When Redis cannot be told, the bump is
        owed and sent before the next read."""
        self.owed.update(counters)
        if self.owed and await self._usable():
            await self._pay()

    async def _pay(self) -> bool:
        owed = sorted(self.owed)
        if not owed:
            return True
        try:
            await self._bump(
                keys=[self.gen_prefix + name for name in owed],
                args=[_random_start(), 2 * self.ttl_s],
            )
        except self.failures as exc:
            self._failed(exc)
            return False
        self.owed.difference_update(owed)
        self.stats.bumps += len(owed)
        return True

    async def _usable(self) -> bool:
        """Whether Redis may be asked now: it has not failed lately, and nothing is owed
        to it (owed bumps are sent first: a read must not meet what they invalidate)."""
        if self.down_until:
            if monotonic() < self.down_until:
                return False
            if not await self._pay():
                return False
            self.down_until = 0.0
            log.warning("Redis cache at %s answers again; reading through it", redact(self.url))
            return True
        return not self.owed or await self._pay()

    def _failed(self, exc: BaseException) -> None:
        self.stats.failures += 1
        if not self.down_until:
            log.warning(
                "Redis cache at %s failed (%s): reading from PostgreSQL, trying it again in %gs",
                redact(self.url),
                type(exc).__name__,
                RETRY_AFTER_S,
            )
        self.down_until = monotonic() + RETRY_AFTER_S


def _random_start() -> int:
    """Where a missing counter starts: far from any value an evicted one had."""
    return random.getrandbits(52)


# The open caches of the process, by pool; a write on any connection bumps them all.
_by_pool: weakref.WeakKeyDictionary[Any, Cache] = weakref.WeakKeyDictionary()
_open: weakref.WeakSet[Cache] = weakref.WeakSet()
# Connections whose transaction wrote cached tables: their counters, bumped at its commit.
_pending: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def attach(pool: Any, cache: Cache) -> None:
    """Serve `pool`'s calls through `cache`."""
    _by_pool[pool] = cache
    _open.add(cache)


async def detach(pool: Any) -> None:
    """Stop and close `pool`'s cache, if it has one."""
    cache = _by_pool.pop(pool, None)
    if cache is not None:
        _open.discard(cache)
        await cache.close()


def of(pool: Any) -> Cache | None:
    """The cache serving `pool`'s calls, or None."""
    return _by_pool.get(pool) if _by_pool else None


def enabled() -> bool:
    """Whether any cache is open in the process (else the seam skips every hook)."""
    return bool(_open)


async def settled(conn: psycopg.AsyncConnection[Any]) -> None:
    """Bump what an ended transaction of `conn` wrote, if no `transaction()` did: one
    the caller committed with psycopg's own `commit()` or `transaction()`."""
    if conn in _pending:
        await committed(conn)


async def wrote(conn: psycopg.AsyncConnection[Any], query: Query, params: Params) -> None:
    """Tell the caches that `query` ran on `conn` with `params`: its counters are moved
    on now if that committed it (autocommit), else when its transaction commits
    (`committed`)."""
    if not _open:
        return
    counters = cache_plan.write_counters(query, params)
    if not counters:
        return
    if conn.info.transaction_status == TransactionStatus.IDLE:
        await _bump_all(counters)
    else:
        _pending.setdefault(conn, set()).update(counters)


async def committed(conn: psycopg.AsyncConnection[Any], *, surely: bool = True) -> None:
    """`conn`'s transaction has ended in a COMMIT: bump what it wrote. With `surely`
    false (the connection was lost during COMMIT), bump whatever its state."""
    if _pending and (not surely or conn.info.transaction_status == TransactionStatus.IDLE):
        counters = _pending.pop(conn, None)
        if counters:
            await _bump_all(counters)


def rolled_back(conn: psycopg.AsyncConnection[Any]) -> None:
    """`conn`'s transaction rolled back: what it wrote is gone, nothing to bump."""
    if _pending:
        _pending.pop(conn, None)


async def _bump_all(counters: set[str] | frozenset[str]) -> None:
    for cache in list(_open):
        await cache.bump(counters)


@checked
async def invalidate_all(pool: Any) -> None:
    """Make everything `pool`'s cache holds unreachable (after writes made outside
    the DAL: a migration, psql, a bulk import)."""
    cache = of(pool)
    if cache is not None:
        await cache.bump([_EPOCH])


@checked
def stats(pool: Any) -> CacheStats | None:
    """What `pool`'s cache has done (hits, misses, ...), or None without a cache."""
    cache = of(pool)
    return None if cache is None else cache.stats
