"""The connection pool, transactions and retries.

One pool per process: create it with `open_pool()` at start-up and close it at
shutdown. DAL functions accept either a connection or the pool as their first
argument (`Db`); given the pool they borrow a connection for the duration of the
call.

Over `AsyncConnection` and `AsyncConnectionPool` in `dal.aio.db`. Written once: the
sync module `dal/db.py` is generated from the async source `dal/aio/db.py`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import select
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from contextvars import ContextVar
from time import monotonic
from typing import Any, TypeVar

import psycopg
import psycopg_pool
from psycopg.pq import TransactionStatus
from psycopg_pool import AsyncConnectionPool

from dal import observe
from dal._json import use_loads
from dal.aio import cache, read_your_writes
from dal.arguments import checked
from dal.config import Settings, describe, redact
from dal.errors import (
    CommitOutcomeUnknown,
    ConcurrentUpdate,
    ConfigError,
    ConnectionLost,
    DalError,
    InvalidData,
    PoolExhausted,
    Unavailable,
    translate,
    translating,
)
from dal.query_files import QUERIES, reads_only

log = logging.getLogger(__name__)

Conn = psycopg.AsyncConnection[Any]
Pool = AsyncConnectionPool[Conn]


class DalConnection(psycopg.AsyncConnection[Any]):
    """A connection the DAL opened (its pool's, `open_connection`'s): psycopg's own,
    plus a cursor kept per named query for the seam to run that query on again.
    Creating a cursor took a fifth of a point lookup; see `dal.aio.queries`.

    A cursor takes the connection's adapters when it is made: register your own
    (`register_enum`, a loader) before the first DAL call, as in the pool's
    `configure`, or clear `spare_cursors` after."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spare_cursors: dict[tuple[str, Any], psycopg.AsyncCursor[Any]] = {}


Db = Conn | Pool
"""What DAL functions take first: a connection (you own the transaction) or the pool."""

T = TypeVar("T")

# psycopg keeps 100 prepared statements per connection by default and deallocates the
# oldest past that; every named query (and each shape of the dynamic task list) fits.
PREPARED_MAX = max(512, 2 * len(QUERIES))

# The pool checks a connection before lending it (an empty query, one round trip), so
# a dead one is replaced, not failed on. A connection the DAL handed back less than
# RECENTLY_USED_S ago is lent without that round trip if nothing waits to be read on
# its socket: a server that ended it (a restart, a kill, pg_terminate_backend) closed
# the socket, and mostly sent a FATAL first, so it reads as ready; a healthy idle
# connection has nothing to read. Under load, where each connection comes back within
# milliseconds, this saves a round trip on nearly every call (at 32 tasks on 8
# connections the check halved the throughput). After any connection broke, each is
# checked in full once again.
RECENTLY_USED_S = 1.0
_handed_back: weakref.WeakKeyDictionary[Conn, float] = weakref.WeakKeyDictionary()
_broke_at = 0.0  # monotonic time of the last broken connection seen


# `borrow` checks the connection itself (see there); the pool's own check is for
# callers of `pool.connection()`.
_borrowing: ContextVar[bool] = ContextVar("dal_borrowing", default=False)


def _fresh(conn: Conn) -> bool:
    """Whether `conn` came back a moment ago and the server sent it nothing since."""
    back = _handed_back.get(conn)
    return (
        back is not None
        and back > _broke_at
        and monotonic() - back < RECENTLY_USED_S
        and not _input_waiting(conn)
    )


async def _check(conn: Conn) -> None:
    """The pool's check of a connection it is about to lend (see RECENTLY_USED_S)."""
    global _broke_at  # noqa: PLW0603 -- one mark for every pool of the process
    if _borrowing.get() or _fresh(conn):
        return
    try:
        await AsyncConnectionPool.check_connection(conn)
    except BaseException:
        _broke_at = monotonic()  # its peers may be dead too
        raise


def _input_waiting(conn: Conn) -> bool:
    """Whether the server sent an idle connection anything (or closed it)."""
    try:
        if hasattr(select, "poll"):  # select() refuses a descriptor past 1023
            waiting = select.poll()
            waiting.register(conn.fileno(), select.POLLIN)
            return bool(waiting.poll(0))
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError, psycopg.Error):  # closed meanwhile
        return True
    return bool(readable)


def _handing_back(conn: Conn) -> None:
    global _broke_at  # noqa: PLW0603 -- one mark for every pool of the process
    if conn.broken:
        _broke_at = monotonic()  # its peers may be dead too: check each before lending
    else:
        _handed_back[conn] = monotonic()


def connection_kwargs(settings: Settings, conninfo: str = "") -> dict[str, Any]:
    """Per-connection options derived from the settings.

    psycopg prepares a statement after `settings.prepare_threshold` runs on a
    connection, or never when that is None, as PgBouncer in transaction mode before
    1.21 requires.
    """
    kwargs: dict[str, Any] = {
        "prepare_threshold": settings.prepare_threshold,
        "application_name": "dal",
    }
    timeouts = {
        "statement_timeout": settings.statement_timeout_ms,
        "idle_in_transaction_session_timeout": settings.idle_in_transaction_timeout_ms,
    }
    chosen = " ".join(f"-c {name}={ms}" for name, ms in timeouts.items() if ms)
    if chosen:
        # Added to the URL's own `options` (psycopg would replace them). PgBouncer
        # refuses this startup parameter: there, set the timeouts on the role instead.
        try:
            own = str(psycopg.conninfo.conninfo_to_dict(conninfo).get("options") or "")
        except psycopg.ProgrammingError:  # its message quotes the URL, password and all
            raise ConfigError(f"not a valid connection string: {redact(conninfo)!r}") from None
        kwargs["options"] = f"{own} {chosen}".strip()
    return kwargs


async def connect(conninfo: str, **kwargs: Any) -> Conn:
    """Open one connection, turning failures into a one-line `Unavailable`."""
    try:
        return await DalConnection.connect(conninfo, connect_timeout=10, **kwargs)
    except psycopg.OperationalError as exc:
        if "unsupported startup parameter" in str(exc):
            # PgBouncer's refusal of the timeouts sent as `options`: no retry helps.
            raise ConfigError(
                f"{describe(conninfo)} refuses a connection setting ({_reason(exc)}): "
                "a connection pooler such as PgBouncer takes no per-connection timeouts; "
                "set them on the role instead (ALTER ROLE ... SET statement_timeout = ...) "
                "and leave the statement and idle-in-transaction timeouts unset here"
            ) from exc
        raise Unavailable(
            f"cannot connect to PostgreSQL at {describe(conninfo)}: {_reason(exc)}; "
            "check that the server is running and that DATABASE_URL is right"
        ) from exc


def _reason(exc: Exception) -> str:
    """The useful part of libpq's multi-line connection error."""
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    text = text.split(" Is the server running")[0]
    text = text.rsplit(" failed: ", 1)[-1]
    return text.replace("FATAL:  ", "").removeprefix("connection is bad: ") or "unknown error"


@checked
async def open_pool(conninfo: str, settings: Settings, *, name: str = "dal") -> Pool:
    """Open the process's pool and wait until its first connections work.

    The pool keeps `DATABASE_POOL_SIZE` connections and grows up to
    size + `DATABASE_MAX_OVERFLOW` under load. Each connection is checked
    before it is handed out (but one back from a call a moment ago: see
    RECENTLY_USED_S), so a server restart costs one reconnect, not an error.
    Close it with `close()` (or use it as a context manager).
    """
    # One direct attempt first: an unreachable server or a bad password fails at once,
    # with libpq's reason, instead of after pool_timeout of the pool's silent retries.
    first = await connect(conninfo, **connection_kwargs(settings, conninfo))
    where = settings.cache_namespace or f"{first.info.host}:{first.info.port}/{first.info.dbname}"
    role = first.info.user
    await first.close()
    _check_replica_queries(settings)
    # Built before the pool opens: a bad REDIS_URL or a missing extra leaks nothing.
    reader = (
        cache.Cache(
            settings.redis_url,
            database=where,
            role=role,
            ttl_s=settings.cache_ttl_s,
            timeout_ms=settings.redis_timeout_ms,
        )
        if settings.redis_url
        else None
    )

    async def configure(conn: Conn) -> None:
        await set_up(conn, settings)

    pool = DalPool(
        conninfo,
        connection_class=DalConnection,
        min_size=settings.pool_size,
        max_size=settings.pool_max_size,
        timeout=settings.pool_timeout,
        max_waiting=settings.pool_max_waiting,
        kwargs=connection_kwargs(settings, conninfo),
        check=_check,
        configure=configure,
        reconnect_timeout=max(settings.pool_timeout, 5.0),
        name=name,
        open=False,
    )
    try:
        await pool.open(wait=True, timeout=settings.pool_timeout)
    except psycopg.Error as exc:
        await pool.close()
        # The pool only says it timed out; one direct attempt tells the user why.
        await (await connect(conninfo, **connection_kwargs(settings, conninfo))).close()
        raise Unavailable(
            f"cannot open a connection pool to {describe(conninfo)} "
            f"within {settings.pool_timeout:g}s; is the server overloaded?"
        ) from exc
    if settings.replica_urls:
        await _open_replicas(pool, settings)
    if reader is not None:
        cache.attach(pool, reader)
    return pool


def _check_replica_queries(settings: Settings) -> None:
    """ConfigError for a DATABASE_REPLICA_QUERIES name that is no query or not a read."""
    for name in settings.replica_queries - {"*"}:
        query = QUERIES.get(name)
        if query is None:
            raise ConfigError(f"DATABASE_REPLICA_QUERIES names no query {name!r}")
        if not reads_only(query):
            raise ConfigError(f"DATABASE_REPLICA_QUERIES: {name} writes; only reads go there")


REPLICA_WAIT_S = 0.25  # how long a routed read waits for a replica's connection (then: elsewhere)


async def _open_replicas(pool: DalPool, settings: Settings) -> None:
    """Open a pool per replica beside `pool` (see `dal.aio.replicas`). A replica that is
    down now is not waited for: reads skip it until it answers."""

    async def configure(conn: Conn) -> None:
        await set_up(conn, settings)

    for url in settings.replica_urls:
        replica = DalPool(
            url,
            connection_class=DalConnection,
            min_size=1,
            max_size=settings.pool_max_size,
            timeout=REPLICA_WAIT_S,
            kwargs=connection_kwargs(settings, url),
            check=_check,
            configure=configure,
            reconnect_timeout=max(settings.pool_timeout, 5.0),
            name=f"{pool.name}-replica-{len(pool.replica_pools) + 1}",
            open=False,
        )
        await replica.open(wait=False)
        pool.replica_pools.append(replica)
    pool.replica_max_lag_s = settings.replica_max_lag_ms / 1000
    pool.replica_queries = settings.replica_queries
    read_your_writes.track(pool)


class DalPool(AsyncConnectionPool[Conn]):
    """The pool `open_pool` opens: psycopg-pool's, with the pools of its read replicas
    (`dal.aio.replicas`), whose `close()` also closes those and the Redis cache serving
    it (`dal.aio.cache`), if any."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.replica_pools: list[DalPool] = []
        self.replica_max_lag_s = 10.0
        self.replica_queries: frozenset[str] = frozenset()

    async def close(self, timeout: float = 5.0) -> None:
        """Close the pool's connections, its replicas' and its cache's."""
        await super().close(timeout)
        for replica in self.replica_pools:
            await replica.close(timeout)
        await cache.detach(self)


@checked
async def open_connection(conninfo: str, settings: Settings, *, autocommit: bool = False) -> Conn:
    """One connection set up as the pool's are, for a script or a dedicated worker.

    The caller closes it (`async with await open_connection(...) as conn:`).
    """
    conn = await connect(conninfo, autocommit=autocommit, **connection_kwargs(settings, conninfo))
    try:
        await set_up(conn, settings)
    except BaseException:
        await conn.close()
        raise
    return conn


async def set_up(conn: Conn, settings: Settings) -> None:
    """What the DAL sets on each connection it opens: room for every named query's
    prepared statement, json and jsonb parsed by `dal._json.loads`, and the
    slow-query threshold of the `dal.queries` logger."""
    conn.prepared_max = PREPARED_MAX
    use_loads(conn)
    observe.set_slow_query_ms(conn, settings.slow_query_ms)


@asynccontextmanager
async def connection(db: Db) -> AsyncIterator[Conn]:
    """The connection itself, or one borrowed from the pool for the block.

    A borrowed one is in autocommit for the block: a DAL call given the pool is one
    statement, or opens its own transaction (`transaction`, `snapshot`) where its
    statements must be atomic, so BEGIN and COMMIT would be two more round trips for
    nothing. A transaction the block left open is rolled back, and the connection
    goes back as the pool lent it (`hand_back`).
    """
    if isinstance(db, psycopg.AsyncConnection):
        yield db
        return
    conn = await borrow(db)
    try:
        with translating():
            yield conn
    finally:
        await hand_back(db, conn)


async def borrow(pool: Pool) -> Conn:
    """A connection from the pool, for one call; give it back with `hand_back`.

    (`connection()` does both; the seam calls them itself, a context manager less
    on every call given the pool.)

    The connection is checked here rather than by the pool: psycopg-pool discards a
    connection that fails its check and tries the next after a growing pause (1, 2,
    4, 8 s), so after a restart had killed every idle connection, the next call waited
    out the pool timeout. Here the first dead one found makes `pool.check()` replace
    every dead idle connection at once, and the call waits only for a new connection.
    """
    global _broke_at  # noqa: PLW0603 -- one mark for every pool of the process
    conn = await _getconn(pool, checked_by_pool=False)
    if not _fresh(conn):
        try:
            await AsyncConnectionPool.check_connection(conn)
        except BaseException as exc:
            await pool.putconn(conn)  # broken: the pool opens another in its place,
            if not isinstance(exc, Exception):  # cancelled, interrupted: no retry
                raise
            _broke_at = monotonic()
            await _check_every_idle_one(pool)  # and in place of every dead idle one
            conn = await _getconn(pool, checked_by_pool=True)
    try:
        await conn.set_autocommit(True)
    except BaseException as exc:
        await pool.putconn(conn)
        if isinstance(exc, psycopg.Error):
            raise translate(exc) from exc
        raise
    return conn


async def _check_every_idle_one(pool: Pool) -> None:
    """`pool.check()`, which takes every idle connection out of the pool while it checks
    them: a cancellation halfway must not lose the rest, so it runs to its end."""
    if True:  # ASYNC
        await asyncio.shield(pool.check())
        return
    pool.check()


async def _getconn(pool: Pool, *, checked_by_pool: bool) -> Conn:
    token = _borrowing.set(not checked_by_pool)
    started = monotonic()
    try:
        return await pool.getconn()
    except psycopg_pool.TooManyRequests as exc:
        raise PoolExhausted(
            "as many callers as the pool's max_waiting allows were already waiting for "
            "a database connection: refused at once"
        ) from exc
    except psycopg_pool.PoolTimeout as exc:
        raise _timed_out(pool, monotonic() - started) from exc
    except psycopg.Error as exc:
        raise translate(exc) from exc
    finally:
        _borrowing.reset(token)


def _timed_out(pool: Pool, waited: float) -> Unavailable:
    """Why no connection came within the pool timeout: all lent out, or none could be made."""
    if pool.get_stats().get("pool_size", 0) >= pool.max_size:
        return PoolExhausted(
            f"all {pool.max_size} database connections stayed in use while this call "
            f"waited {waited:.1f}s (the pool timeout)"
        )
    return Unavailable(
        f"no database connection could be opened while this call waited {waited:.1f}s "
        "(the pool timeout); is the server up?"
    )


# Connections on which a write met a read-only server (see `ReadOnlyServer`).
_read_only_seen: weakref.WeakSet[Conn] = weakref.WeakSet()


def saw_read_only(conn: Conn) -> None:
    """Note that the server behind `conn` refused a write as read-only: when `conn` goes
    back, the pool replaces every connection it holds, so that new ones find the server
    that takes writes (``target_session_attrs=read-write``)."""
    _read_only_seen.add(conn)


async def hand_back(pool: Pool, conn: Conn) -> None:
    """Return a borrowed connection. A transaction its borrower left open is rolled
    back, never committed behind its back."""
    try:
        if conn in _read_only_seen:
            _read_only_seen.discard(conn)
            await pool.drain()  # this one too, when it comes back below
        status = conn.info.transaction_status
        if status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
            # A failing rollback leaves a broken connection: the pool drops it.
            _rolled_back(conn)
            with suppress(psycopg.Error):
                await conn.rollback()
        if conn.info.transaction_status == TransactionStatus.IDLE:
            await cache.settled(conn)  # a commit of the borrower's own, not through the DAL
            await conn.set_autocommit(False)  # as lent (an ACTIVE or broken one is dropped)
            if conn.isolation_level is not None or conn.read_only is not None:
                await conn.set_isolation_level(None)  # a borrower's, left set
                await conn.set_read_only(None)
    finally:
        _handing_back(conn)
        await pool.putconn(conn)


@checked
@asynccontextmanager
async def transaction(
    db: Db, *, isolation: psycopg.IsolationLevel | None = None
) -> AsyncIterator[Conn]:
    """Run the block in a transaction: committed on success, rolled back on error.

    Nested use on one connection becomes a savepoint. Database errors leave the
    block as `DalError`. `isolation` (say ``IsolationLevel.SERIALIZABLE``) is the new
    transaction's; a savepoint has its transaction's.

    If the connection is lost during COMMIT, the answer is looked for rather than
    guessed at: the transaction's id, taken just before COMMIT, is asked about on a
    new connection (`commit_outcome`). Given the pool, a transaction found committed
    leaves the block as if nothing happened, one found aborted raises `ConnectionLost`
    (nothing was saved: safe to run again); otherwise, or given a connection, it
    raises `CommitOutcomeUnknown` carrying the id to ask about later.
    """
    block_done = False  # a CommitOutcomeUnknown from inside the block is not ours
    try:
        async with connection(db) as conn, _committing(conn, isolation):
            yield conn
            block_done = True
    except CommitOutcomeUnknown as lost:
        if not block_done or lost.xid is None or not isinstance(db, AsyncConnectionPool):
            raise
        outcome = await commit_outcome(db, lost.xid)
        if outcome == "aborted":
            raise ConnectionLost(
                "the database connection was lost during COMMIT, and the transaction "
                f"{lost.xid} was found aborted: nothing of it was saved",
                sqlstate=lost.sqlstate,
            ) from lost
        if outcome != "committed":
            raise CommitOutcomeUnknown(
                f"{lost.message}; asked again, the server says: {outcome}",
                xid=lost.xid,
                outcome=outcome,
                sqlstate=lost.sqlstate,
            ) from lost
        log.warning("the answer to COMMIT was lost; transaction %s was committed", lost.xid)


async def _committed(conn: Conn, *, surely: bool) -> None:
    """A transaction of the DAL's own committed (or, not `surely`, may have): the
    cache's invalidations it owes are paid and the caller's WAL position taken."""
    await cache.committed(conn, surely=surely)
    await read_your_writes.committed(conn, surely=surely)


def _rolled_back(conn: Conn) -> None:
    """A transaction on `conn` rolled back: what it would have owed is forgotten."""
    cache.rolled_back(conn)
    read_your_writes.rolled_back(conn)


@asynccontextmanager
async def _committing(conn: Conn, isolation: psycopg.IsolationLevel | None) -> AsyncIterator[None]:
    """`conn.transaction()`, its errors translated, its id taken just before COMMIT."""
    owns = conn.info.transaction_status == TransactionStatus.IDLE  # not a savepoint
    xid: str | None = None
    committing = False
    was = conn.isolation_level
    if owns and isolation is not None:
        await conn.set_isolation_level(isolation)  # goes into the BEGIN
    try:
        async with conn.transaction():
            yield
            if owns:
                row = await (await conn.execute(QUERIES["transactions.current_id"].text)).fetchone()
                xid, committing = row[0] if row else None, True
    except BaseException as exc:
        error = translate(exc) if isinstance(exc, psycopg.Error) else None
        if owns and committing and isinstance(error, ConnectionLost):
            # The COMMIT may have happened: a stale row costs more than a bump.
            await _committed(conn, surely=False)
        elif owns:  # rolled back (a refused COMMIT too: a serialization failure, say)
            _rolled_back(conn)
        if error is None:
            raise
        if not (committing and isinstance(error, ConnectionLost)):
            raise error from exc
        if xid is None:  # it had taken no id: it wrote nothing, so nothing can be lost
            raise ConnectionLost(
                "the database connection was lost during COMMIT of a transaction that "
                "had written nothing",
                sqlstate=error.sqlstate,
            ) from exc
        raise CommitOutcomeUnknown(
            f"the database connection was lost during COMMIT of transaction {xid}",
            xid=xid,
            sqlstate=error.sqlstate,
        ) from exc
    else:
        if owns:
            await _committed(conn, surely=True)
    finally:
        if owns and isolation is not None and not conn.closed:
            await conn.set_isolation_level(was)


OUTCOME_WAIT_S = 5.0  # how long an unanswered COMMIT is asked about before giving up


@checked
async def commit_outcome(pool: Pool, xid: str) -> str:
    """What became of transaction `xid` (a `CommitOutcomeUnknown`'s): ``committed``,
    ``aborted``, or ``unknown`` when the server cannot be asked or has no answer yet.

    A backend whose client vanished may still be finishing its COMMIT ("in
    progress"), and a restarting server may not accept connections for a moment:
    both are asked again for up to OUTCOME_WAIT_S seconds. After a crash, a commit that
    had not reached the disk reads as aborted.
    """
    if not xid.isdigit():
        raise InvalidData(f"xid must be a transaction id (digits), not {xid!r}", column="xid")
    deadline = monotonic() + OUTCOME_WAIT_S
    while True:
        try:
            async with connection(pool) as conn:
                cursor = await conn.execute(QUERIES["transactions.status"].text, {"xid": xid})
                row = await cursor.fetchone()
            status = row[0] if row else None
        except Unavailable:
            status = "in progress"  # not reachable yet: as good as no answer
        except InvalidData:  # "in the future": a server that never saw it (a failover)
            return "unknown"
        if status in ("committed", "aborted"):
            return str(status)
        if status is None or monotonic() >= deadline:  # too old to know, or out of time
            return "unknown"
        await asyncio.sleep(0.1)


@checked
@asynccontextmanager
async def snapshot(db: Db) -> AsyncIterator[Conn]:
    """Run a read-only block whose statements all see one snapshot of the database.

    Given the pool, or a connection outside any transaction, the block is its own
    REPEATABLE READ READ ONLY transaction (a read-only one never fails to serialize).
    Given a connection already in a transaction, the block joins the caller's
    transaction as it is: the caller chose its isolation (at READ COMMITTED each
    statement sees its own snapshot) and its uncommitted writes stay visible.
    """
    async with connection(db) as conn:
        if conn.info.transaction_status != TransactionStatus.IDLE:
            async with transaction(conn):
                yield conn
            return
        # Set on the connection, they go into its BEGIN: one statement, not two.
        isolation, read_only = conn.isolation_level, conn.read_only
        try:
            await conn.set_isolation_level(psycopg.IsolationLevel.REPEATABLE_READ)
            await conn.set_read_only(True)
            async with transaction(conn):
                yield conn
        finally:
            if conn.info.transaction_status == TransactionStatus.IDLE:
                await conn.set_isolation_level(isolation)
                await conn.set_read_only(read_only)


_RETRYABLE = (ConcurrentUpdate, ConnectionLost)


@checked
async def retry(
    pool: Pool,
    work: Callable[[Conn], Awaitable[T]],
    *,
    attempts: int = 4,
    base_delay: float = 0.02,
    max_delay: float = 1.0,
    isolation: psycopg.IsolationLevel | None = None,
    transient: tuple[type[DalError], ...] = (),
) -> T:
    """Run `work(conn)` in its own transaction, retrying transient failures.

    Retries serialization failures, deadlocks and lost connections, with
    jittered exponential back-off (from `base_delay`, doubling, at most `max_delay`
    seconds between attempts), and the errors in `transient` too (say
    ``(ReadOnlyServer,)``, to ride out a failover). Use it only for work that is safe to repeat
    as a whole: everything it does must be inside that one transaction.

    A connection lost during COMMIT is resolved, not guessed at (see
    `transaction`): work found committed returns its result, work found aborted is
    run again, and work whose outcome stays unknown raises `CommitOutcomeUnknown`,
    never repeated, since running it again could do it twice.
    """
    retryable: tuple[type[DalError], ...] = (*_RETRYABLE, *transient)
    for attempt in range(1, attempts + 1):
        try:
            # Borrowed as every call borrows (a dead connection replaced, not waited
            # on); handed back with its isolation level reset.
            async with transaction(pool, isolation=isolation) as conn:
                return await work(conn)
        except CommitOutcomeUnknown:
            raise  # whatever `transient` says: running it again could do it twice
        except retryable as exc:
            if attempt == attempts:
                raise
            delay = min(base_delay * 2 ** (attempt - 1), max_delay) * (0.5 + random.random())
            log.info("retrying after %s (attempt %d/%d)", type(exc).__name__, attempt, attempts)
            await asyncio.sleep(delay)
    raise DalError("retry: no attempts were made")  # only when attempts < 1
