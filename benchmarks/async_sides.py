"""The async sides: the DAL's `dal.aio` against psycopg's AsyncConnection and asyncpg.

- one lookup at a time: `await dal.aio.users.get(conn, id)` on a connection the DAL
  opened, naive psycopg's `await (await conn.execute(q, [id])).fetchone()` on a plain
  `AsyncConnection` (both in autocommit), and asyncpg's prepared statement's
  `fetchrow(id)`;
- throughput: 32 tasks sharing an 8-connection pool, each task looking users up one
  after another: the DAL given its pool (`dal.aio.open_pool`), psycopg_pool's
  `AsyncConnectionPool` (no check of what it lends), and asyncpg's pool.

Every side runs in one event loop (asyncio's default, as a service runs), driven by
an `asyncio.Runner` the caller owns. asyncpg lives here only, as a benchmark peer.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import asyncpg
import psycopg
from psycopg_pool import AsyncConnectionPool

from dal import aio
from dal.config import Settings

ASides = dict[str, Callable[[], Awaitable[Any]]]
NAIVE_USER_BY_ID = "SELECT * FROM users WHERE id = %s"
ASYNCPG_USER_BY_ID = "SELECT * FROM users WHERE id = $1"
TASKS, POOL_SIZE, LOOKUPS_PER_TASK = 32, 8, 25
LOOKUPS_PER_ROUND = TASKS * LOOKUPS_PER_TASK


def _asyncpg_dsn(url: str) -> str:
    """asyncpg takes a URL (or keywords), not libpq's key=value conninfo."""
    params = psycopg.conninfo.conninfo_to_dict(url)
    host = str(params.get("host", "localhost"))
    user, dbname = params.get("user", "postgres"), params.get("dbname", "postgres")
    port = params.get("port", 5432)
    if host.startswith("/"):  # a Unix socket directory
        return f"postgresql://{user}@/{dbname}?host={host}&port={port}"
    return f"postgresql://{user}@{host}:{port}/{dbname}"


def _keys(values: Sequence[Any]) -> Callable[[], Any]:
    return itertools.cycle(values).__next__


@asynccontextmanager
async def user_by_id(url: str, ids: Sequence[Any]) -> AsyncIterator[ASides]:
    """One primary-key lookup per call, each side on a connection of its own."""
    async with AsyncExitStack() as stack:
        dal_conn = await aio.open_connection(url, Settings(), autocommit=True)
        stack.push_async_callback(dal_conn.close)
        naive = await psycopg.AsyncConnection.connect(url, autocommit=True)
        stack.push_async_callback(naive.close)
        apg = await asyncpg.connect(_asyncpg_dsn(url))
        stack.push_async_callback(apg.close)
        statement = await apg.prepare(ASYNCPG_USER_BY_ID)
        dal, plain, pg = _keys(ids), _keys(ids), _keys(ids)

        async def naive_lookup() -> Any:
            return await (await naive.execute(NAIVE_USER_BY_ID, [plain()])).fetchone()

        yield {
            "dal": lambda: aio.users.get(dal_conn, dal()),
            "psycopg_async": naive_lookup,
            "asyncpg": lambda: statement.fetchrow(pg()),
        }


@asynccontextmanager
async def pooled_throughput(url: str, ids: Sequence[Any]) -> AsyncIterator[ASides]:
    """One call is a round: TASKS tasks at once, LOOKUPS_PER_TASK lookups each, over
    a pool of POOL_SIZE connections; it returns the users found."""
    async with AsyncExitStack() as stack:
        dal_pool = await aio.open_pool(url, Settings(pool_size=POOL_SIZE, max_overflow=0))
        stack.push_async_callback(dal_pool.close)
        naive_pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            url, min_size=POOL_SIZE, max_size=POOL_SIZE, kwargs={"autocommit": True}, open=False
        )
        await naive_pool.open(wait=True)
        stack.push_async_callback(naive_pool.close)
        apg_pool = await asyncpg.create_pool(
            _asyncpg_dsn(url), min_size=POOL_SIZE, max_size=POOL_SIZE
        )
        stack.push_async_callback(apg_pool.close)

        async def dal_lookup(user_id: Any) -> Any:
            return await aio.users.get(dal_pool, user_id)

        async def naive_lookup(user_id: Any) -> Any:
            async with naive_pool.connection() as conn:
                return await (await conn.execute(NAIVE_USER_BY_ID, [user_id])).fetchone()

        async def asyncpg_lookup(user_id: Any) -> Any:
            async with apg_pool.acquire() as conn:
                return await conn.fetchrow(ASYNCPG_USER_BY_ID, user_id)

        yield {
            name: _round(lookup, ids)
            for name, lookup in (
                ("dal", dal_lookup),
                ("psycopg_pool", naive_lookup),
                ("asyncpg", asyncpg_lookup),
            )
        }


def _round(
    lookup: Callable[[Any], Awaitable[Any]], ids: Sequence[Any]
) -> Callable[[], Awaitable[Any]]:
    async def task(first: int) -> list[Any]:
        return [await lookup(ids[(first + n) % len(ids)]) for n in range(LOOKUPS_PER_TASK)]

    async def one_round() -> Any:
        found = await asyncio.gather(*(task(t * LOOKUPS_PER_TASK) for t in range(TASKS)))
        assert all(row is not None for rows in found for row in rows)
        return found

    return one_round
