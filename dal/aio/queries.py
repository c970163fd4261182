"""The seam: the one function every named query passes through.

DAL functions call `fetch_one`, `fetch_all`, `fetch_value`, `fetch_tuples`,
`execute` or `stream` with a query's name (``users.get_by_email``, see
`dal.query_files`); each of them runs it through `_run`, which:

1. borrows a connection when given the pool (`dal.aio.db.connection`: autocommit
   for the call, handed back as it was lent);
2. runs the statement through a cursor of the connection's `cursor_factory` (on the
   DAL's own connections, the one its query ran on last time, kept when its result
   was small: creating a cursor took a fifth of a point lookup), so
   whatever wraps that factory (OpenTelemetry's psycopg instrumentation) sees every
   statement: the `%(name)s` text with its parameters, whose conversion psycopg
   caches, or the `$1` form parsed at import where the factory is a `RawCursor`.
   The DAL keeps psycopg's default factory on its connections, so SQL of the
   caller's own on them keeps psycopg's usual `%s` placeholders. psycopg prepares
   the statement once it repeats (`DATABASE_PREPARE_THRESHOLD`); its rows are built
   by a row factory (`dal.query_files.row_factory`);
3. logs it to `dal.queries` and wraps it in an OpenTelemetry span (`dal.observe`);
4. turns a psycopg error into the DAL's typed error (`dal.errors.translate`).

Later features hook in here and nowhere else:
- the acting user for row-level security: `connection()` (or the caller's
  `transaction()`) sends ``set_config('dal.user_id', ..., true)`` as the first
  statement of the transaction the query runs in, so the setting ends with it;
- routing a read to a replica: `_run` knows the query (its name says whether it
  writes) and chooses the pool `connection()` borrows from;
- a read-through cache: `_run` looks the query's key up before step 2 and stores the
  row after it, knowing the name, the parameters and the rows.

Prepared statements are psycopg's: after a ROLLBACK (a failed `transaction()`, a
savepoint rolled back, or a DROP, ALTER, DISCARD ALL) psycopg forgets them and sends
DEALLOCATE ALL, so every statement is parsed and planned again, custom plans
included, before PostgreSQL settles on its generic plans once more. Measured on a
service's mix of calls (benchmarks/sides.py `rollbacks`): one failed transaction in
18 calls made the mix about twice as slow, the same at prepare thresholds 0, 1 and
5, since the cost is the server's re-planning, not psycopg's threshold. What keeps it
small is that few calls roll back: a call given the pool runs in autocommit, where a
refused INSERT or UPDATE (a conflict, a check) fails alone and no ROLLBACK is sent;
only a failed `transaction()` pays. So the threshold stays psycopg's default (5: a
caller's one-off SQL on the DAL's connections is not prepared), and `prepared_max`
is raised above the number of named queries so none is ever evicted.

Written once: the sync module `dal/queries.py` is generated from the async source
`dal/aio/queries.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from time import perf_counter
from typing import Any, TypeVar
from uuid import UUID

import psycopg
from psycopg import AsyncRawCursor

from dal import cache_plan, observe
from dal.acting import acting_user
from dal.aio import cache, read_your_writes, replicas
from dal.aio.db import DalConnection, Db, Pool, borrow, connection, hand_back, saw_read_only
from dal.errors import DalError, ReadOnlyServer, not_text, translate
from dal.query_files import QUERIES, Params, Query, arguments, get, row_factory, writes

__all__ = [
    "QUERIES",
    "Call",
    "Params",
    "Query",
    "execute",
    "fetch_all",
    "fetch_one",
    "fetch_tuples",
    "fetch_value",
    "get",
    "pipelined",
    "stream",
]

T = TypeVar("T")

_ONE, _ALL, _COUNT = 1, 2, 3  # what a call wants back
# A cursor kept for its query's next run holds its last result until then: kept only
# after a small one, and only so many per connection.
SPARE_ROWS = 100
SPARE_CURSORS = 256


async def _run(db: Db, name: str | Query, params: Params, row: type[Any] | None, want: int) -> Any:
    """Run query `name` (or a `Query` built at run time, as `dal._task_list` does)
    with `params`; return its first row, all its rows or its row count."""
    query = name if isinstance(name, Query) else get(name)
    if not isinstance(db, psycopg.AsyncConnection):
        return await _run_on_pool(db, query, params, row, want)
    if cache.enabled():
        await cache.settled(db)
    spares = db.spare_cursors if isinstance(db, DalConnection) else None
    key = (query.name, row)
    started = perf_counter()
    with observe.span(query, db) as span:
        try:
            cursor = spares.pop(key, None) if spares is not None else None
            if cursor is None:
                cursor = _cursor(db, query, row)
            acting = acting_user()
            if acting is None:
                await _execute(cursor, query, params)
            else:
                await _as_acting(db, acting, cursor, query, params)
            if want == _ONE:
                found: Any = await cursor.fetchone()
                rows = 0 if found is None else 1
            elif want == _ALL:
                found = await cursor.fetchall()
                rows = len(found)
            else:
                found = rows = cursor.rowcount
        except (psycopg.Error, UnicodeEncodeError) as exc:
            raise _refused(query, params, exc, db) from exc
        observe.finished(query, db, perf_counter() - started, rows, span)
    if spares is not None and cursor.rowcount <= SPARE_ROWS and len(spares) < SPARE_CURSORS:
        spares[key] = cursor  # (popped first: a concurrent call makes its own)
    await _wrote(db, query, params)
    return found


async def _wrote(conn: psycopg.AsyncConnection[Any], query: Query, params: Params) -> None:
    """After `query` ran on `conn`: the cache's invalidation and the caller's WAL
    position for read-your-writes, each only where it is on (and the query writes)."""
    if cache.enabled():
        await cache.wrote(conn, query, params)
    if read_your_writes.enabled() and writes(query):
        await read_your_writes.wrote(conn)


async def _run_on_pool(
    pool: Pool, query: Query, params: Params, row: type[Any] | None, want: int
) -> Any:
    """`_run` given the pool: through its Redis cache for a cached query (loading
    from the primary), on a replica for a routed read, else on a borrowed connection."""
    cached = cache.of(pool) if want != _COUNT else None
    if cached is not None and query.name in cache_plan.CACHED:

        async def load() -> Any:
            return await _run_borrowed(pool, query, params, row, want)

        return await cached.read_through(query, params, row, want == _ALL, load)
    routes = replicas.of(pool) if want != _COUNT else None
    if routes is not None and routes.routes(query):
        return await _on_replica(routes, pool, query, params, row=row, want=want)
    return await _run_borrowed(pool, query, params, row, want)


async def _on_replica(
    routes: replicas.ReplicaSet,
    pool: Pool,
    query: Query,
    params: Params,
    *,
    row: type[Any] | None,
    want: int,
) -> Any:
    """`_run` on a replica that may serve the caller, else on the primary."""

    async def on(conn: psycopg.AsyncConnection[Any]) -> Any:
        return await _run(conn, query, params, row, want)

    async def on_primary() -> Any:
        return await _run_borrowed(pool, query, params, row, want)

    return await replicas.run(routes, on, on_primary)


async def _run_borrowed(
    pool: Pool, query: Query, params: Params, row: type[Any] | None, want: int
) -> Any:
    """`_run` on a connection borrowed from `pool` for the call."""
    conn = await borrow(pool)
    try:
        return await _run(conn, query, params, row, want)
    finally:
        await hand_back(pool, conn)


def _cursor(conn: psycopg.AsyncConnection[Any], query: Query, row: type[Any] | None) -> Any:
    """A new cursor of the connection's factory, building `row` from `query`'s rows."""
    rows_as: Any = row_factory(query.name, row)  # one factory serves either flavour
    return conn.cursor(row_factory=rows_as)


_SET_ACTING = "transactions.set_acting_user"


async def _as_acting(
    conn: psycopg.AsyncConnection[Any], acting: UUID, cursor: Any, query: Query, params: Params
) -> None:
    """Send the acting user's ``set_config(..., true)`` and `query` in one round trip.

    Pipelined, the two share one transaction even in autocommit: a transaction of the
    extended protocol lasts until its Sync, which the pipeline sends only at its end.
    In the caller's transaction they are two statements of it."""
    setter = get(_SET_ACTING)
    async with conn.pipeline():
        await _execute(_cursor(conn, setter, None), setter, {"user_id": str(acting)})
        await _execute(cursor, query, params)


async def _execute(cursor: Any, query: Query, params: Params) -> None:
    """Send `query`: its `%(name)s` text, or to a RawCursor (a caller's factory) its
    `$1` form, parsed once at import."""
    if isinstance(cursor, AsyncRawCursor):
        await cursor.execute(query.raw, arguments(query, params))
    else:
        await cursor.execute(query.text, params)


def _refused(
    query: Query,
    params: Params,
    exc: psycopg.Error | UnicodeEncodeError,
    conn: psycopg.AsyncConnection[Any],
) -> Exception:
    """The DAL's error for a failed run: a missing parameter is named with the query
    (looked for only now: a call that runs pays nothing for it), anything else is
    translated. A server that refuses writes has its connections replaced (see
    `ReadOnlyServer`), unless the read-only transaction was the caller's own."""
    if isinstance(exc, UnicodeEncodeError):
        return not_text(exc, params)
    if isinstance(exc, psycopg.ProgrammingError):
        arguments(query, params)  # raises DalError naming the query and the parameter
    error = translate(exc, params, verb=query.verb)
    if isinstance(error, ReadOnlyServer):
        if not _server_read_only(conn):  # snapshot(), or the caller's own READ ONLY
            return DalError(
                f"{query.name} writes, inside a read-only transaction", sqlstate=error.sqlstate
            )
        saw_read_only(conn)
    return error


def _server_read_only(conn: psycopg.AsyncConnection[Any]) -> bool:
    """Whether the server, not the transaction, refuses writes: a hot standby, or one
    whose default_transaction_read_only is on (both reported by PostgreSQL 14 and
    later); before that, whether the connection was not made read-only by its user."""
    standby = conn.info.parameter_status("in_hot_standby")
    default = conn.info.parameter_status("default_transaction_read_only")
    if standby is None and default is None:
        return not conn.read_only
    return "on" in (standby, default)


async def fetch_one(db: Db, name: str, params: Params, row: type[T]) -> T | None:
    """Run query `name`; return its first row as `row`, or None."""
    found: T | None = await _run(db, name, params, row, _ONE)
    return found


async def fetch_all(db: Db, name: str | Query, params: Params, row: type[T]) -> list[T]:
    """Run query `name` (or a `Query` built at run time); return every row as `row`."""
    found: list[T] = await _run(db, name, params, row, _ALL)
    return found


async def fetch_value(db: Db, name: str, params: Params) -> Any:
    """Run query `name`; return the first column of its first row (None if no row)."""
    found = await _run(db, name, params, None, _ONE)
    return None if found is None else found[0]


async def fetch_tuples(db: Db, name: str, params: Params) -> list[tuple[Any, ...]]:
    """Run query `name`; return plain tuples (for small aggregates)."""
    found: list[tuple[Any, ...]] = await _run(db, name, params, None, _ALL)
    return found


async def execute(db: Db, name: str, params: Params) -> int:
    """Run statement `name`; return the number of rows it touched."""
    count: int = await _run(db, name, params, None, _COUNT)
    return count


@dataclass(frozen=True, slots=True)
class Call:
    """One named query of a `pipelined` batch: its rows as `row` (tuples when None),
    or with `count`, the number of rows it touched."""

    name: str
    params: Params
    row: type[Any] | None = None
    count: bool = False


async def pipelined(db: Db, calls: Sequence[Call]) -> list[Any]:
    """Run `calls` in one round trip, psycopg's pipeline mode; return each call's rows
    (a list) or its row count, in order.

    For statements that need no result of one another to be sent (each still sees
    what those before it did). The batch is one transaction: the caller's, or its
    own (its BEGIN and COMMIT travel with it), so a failure leaves nothing of it
    written. Each query is logged and traced as `_run` does, with the batch's time.
    """
    queries = [get(call.name) for call in calls]
    if not isinstance(db, psycopg.AsyncConnection):
        conn = await borrow(db)
        try:
            return await pipelined(conn, calls)
        finally:
            await hand_back(db, conn)
    spans = observe.batch_spans(queries, db)
    started = perf_counter()
    try:
        found = await _batch(db, queries, calls)
    except BaseException as exc:
        observe.batch_ended(spans, exc)
        if isinstance(exc, psycopg.Error | UnicodeEncodeError):
            raise _batch_refused(queries, calls, exc, db) from exc
        raise
    elapsed = perf_counter() - started
    for n, (query, result) in enumerate(zip(queries, found, strict=True)):
        rows = result if isinstance(result, int) else len(result)
        observe.finished(query, db, elapsed, rows, spans[n] if spans else None)
    observe.batch_ended(spans)
    if cache.enabled():
        for query, call in zip(queries, calls, strict=True):
            await cache.wrote(db, query, call.params)
    if read_your_writes.enabled() and any(writes(query) for query in queries):
        await read_your_writes.wrote(db)  # once for the batch: one transaction
    return found


async def _batch(
    conn: psycopg.AsyncConnection[Any], queries: list[Query], calls: Sequence[Call]
) -> list[Any]:
    cursors = []
    async with conn.pipeline(), conn.transaction():  # (inside the caller's: a savepoint)
        acting = acting_user()
        if acting is not None:
            setter = get(_SET_ACTING)
            await _execute(_cursor(conn, setter, None), setter, {"user_id": str(acting)})
        for query, call in zip(queries, calls, strict=True):
            cursor = _cursor(conn, query, call.row)
            await _execute(cursor, query, call.params)
            cursors.append(cursor)
    # Leaving the pipeline synced it: every result is in.
    return [
        cursor.rowcount if call.count else await cursor.fetchall()
        for cursor, call in zip(cursors, calls, strict=True)
    ]


def _batch_refused(
    queries: list[Query],
    calls: Sequence[Call],
    exc: psycopg.Error | UnicodeEncodeError,
    conn: psycopg.AsyncConnection[Any],
) -> Exception:
    if isinstance(exc, psycopg.ProgrammingError):
        for query, call in zip(queries, calls, strict=True):
            arguments(query, call.params)  # names a missing parameter, if that was it
    every = {key: value for call in calls for key, value in call.params.items()}
    return _refused(queries[0], every, exc, conn)  # as a single call's, over all parameters


async def stream(db: Db, name: str, params: Params, row: type[T]) -> AsyncIterator[T]:
    """Yield the rows of query `name` without holding them all in memory."""
    query = get(name)
    async with connection(db) as conn:
        async with _streaming_as_acting(conn):
            started = perf_counter()
            rows = 0
            with observe.span(query, conn) as span:
                cursor = _cursor(conn, query, row)
                raw = isinstance(cursor, AsyncRawCursor)
                try:
                    async for record in cursor.stream(
                        *((query.raw, arguments(query, params)) if raw else (query.text, params))
                    ):
                        rows += 1
                        yield record
                except (psycopg.Error, UnicodeEncodeError) as exc:
                    raise _refused(query, params, exc, conn) from exc
                observe.finished(query, conn, perf_counter() - started, rows, span)
        await _wrote(conn, query, params)  # a streamed INSERT ... RETURNING writes too


@asynccontextmanager
async def _streaming_as_acting(conn: psycopg.AsyncConnection[Any]) -> AsyncIterator[None]:
    """The acting user's setting around a stream, which cannot be pipelined: in a
    transaction of the stream's own (a savepoint inside the caller's)."""
    acting = acting_user()
    if acting is None:
        yield
        return
    setter = get(_SET_ACTING)
    async with conn.transaction():
        await _execute(_cursor(conn, setter, None), setter, {"user_id": str(acting)})
        yield
