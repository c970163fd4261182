"""Named queries run in one blocking call into libpq, prepared once they repeat.

A psycopg cursor runs a statement as a sequence of non-blocking steps driven from
Python (send, wait, read), which lets it serve async code and Ctrl-C. A point
lookup spends a fifth of its time there. Here a named query runs through libpq's
blocking `PQexecPrepared` or `PQexecParams` (psycopg's `PGconn.exec_prepared` and
`exec_params`, which release the GIL while they wait), and its rows are loaded by
psycopg's own `Transformer`: the same adapters, the same Python values.

Server-side prepared statements are the DAL's on the connections it opens
(`adopt`): after `threshold` runs of a query on a connection, it is prepared
there under a name of the DAL's. psycopg's own preparing is off on those
connections, because psycopg answers a ROLLBACK or a DROP with DEALLOCATE ALL,
which would drop the DAL's statements in the middle of a transaction. On a
connection the DAL did not open, nothing is prepared here: where psycopg
prepares, its cursor runs the query; where it does not, the query runs unnamed.

`run` returns None, and the caller uses a cursor, where psycopg must handle the
connection itself: pipeline mode, a busy or broken connection, psycopg's own
preparing switched on, or gevent (whose patched select psycopg waits on
cooperatively). Outside autocommit with no transaction open, it sends the BEGIN
psycopg would, with the connection's isolation level, read-only and deferrable
settings. NOTIFY messages read during a call go to psycopg's handlers.

A blocking call is not interrupted by Ctrl-C (the signal is handled when the
statement ends; `DATABASE_STATEMENT_TIMEOUT` bounds it), and a connection must not
be closed by one thread while another runs a call on it (`conn.cancel()` is safe).

A user's DEALLOCATE ALL (or DISCARD ALL) drops the DAL's statements, and a
migration that changes the type of a column a statement returns makes it fail:
outside a transaction the statement is prepared again and run; inside one, the
error ends the transaction as any failed statement would, and the next call
prepares again.
"""

from __future__ import annotations

import sys
import threading
import weakref
from dataclasses import dataclass, field
from itertools import count
from typing import TYPE_CHECKING, Any, cast

import psycopg
from psycopg import adapt, errors, sql
from psycopg.abc import Transformer
from psycopg.adapt import PyFormat
from psycopg.pq import ConnStatus, DiagnosticField, ExecStatus, PipelineStatus, TransactionStatus

if TYPE_CHECKING:
    from psycopg.abc import Buffer
    from psycopg.pq.abc import PGresult

    from dal.queries import Query

# At most this many statements prepared per connection: a statement is keyed by
# the types of its arguments too (a NULL has none), so their number grows with
# the combinations callers pass. Past the cap, new ones run unnamed.
MAX_PER_CONNECTION = 500

_UNDEFINED_STATEMENT = b"26000"  # invalid_sql_statement_name: no such prepared statement
_DUPLICATE_STATEMENT = b"42P05"  # duplicate_prepared_statement
# Executing a prepared statement fails so chiefly with "cached plan must not change
# result type" (the message itself may be translated).
_FEATURE_NOT_SUPPORTED = b"0A000"
_OURS = b"SELECT name FROM pg_prepared_statements WHERE name LIKE '\\_dal\\_%'"
_OK = (ExecStatus.TUPLES_OK, ExecStatus.COMMAND_OK)

Key = tuple[str, tuple[int, ...]]  # query text, argument types

# One server-side name per key, the same on every connection.
_names: dict[Key, bytes] = {}
_numbers = count(1)
_names_lock = threading.Lock()
_texts: dict[tuple[str, str], bytes] = {}  # (query text, client encoding) -> bytes sent


@dataclass(slots=True)
class _Adopted:
    """What the DAL prepares on one connection it opened."""

    threshold: int | None
    runs: dict[Key, int] = field(default_factory=dict)
    prepared: set[bytes] = field(default_factory=set)
    unsure: bool = False  # one of ours was gone: read back what the server holds


_adopted: weakref.WeakKeyDictionary[psycopg.Connection[Any], _Adopted] = weakref.WeakKeyDictionary()


def adopt(conn: psycopg.Connection[Any], threshold: int | None) -> None:
    """Prepare named queries on `conn` after `threshold` runs each (None: never).

    Call it on a new connection, before psycopg has prepared anything on it; a
    second call changes nothing.
    """
    if conn in _adopted:
        return
    conn.prepare_threshold = None
    _adopted[conn] = _Adopted(threshold)


def run(conn: psycopg.Connection[Any], query: Query, args: list[Any]) -> Transformer | None:
    """Run `query` with `args` on `conn`: its result, ready to load, or None.

    Raises psycopg's error for a failed statement, as a cursor would.
    """
    if conn.prepare_threshold is not None or _cooperative():
        # psycopg prepares here (and may DEALLOCATE ALL), or a blocking call would
        # stall every greenlet: psycopg's cursor does it all.
        return None
    adopted = _adopted.get(conn)
    tx = adapt.Transformer(conn)
    # NULLs included: libpq takes None for one, though the stub says otherwise.
    params = cast("list[Buffer]", tx.dump_sequence(args, [PyFormat.AUTO] * len(args)))
    types = tuple(tx.types or ())
    formats = tx.formats
    pgconn = conn.pgconn
    with conn.lock:
        status = pgconn.transaction_status
        if (
            pgconn.status != ConnStatus.OK
            or pgconn.pipeline_status != PipelineStatus.OFF
            or status == TransactionStatus.ACTIVE
        ):
            return None
        key = (query.raw, types)
        name = None
        if adopted is not None:
            if adopted.unsure and status != TransactionStatus.INERROR:
                _resync(conn, adopted)
            # Prepared before any BEGIN of ours: a PREPARE that fails aborts nothing.
            name = _statement_for(conn, adopted, key, query)
        began = status == TransactionStatus.IDLE and not conn.autocommit
        if began:
            _check(conn, pgconn.exec_(_begin(conn)))  # what psycopg would send first
        if name is None:
            text = _text(conn, query)
            result = pgconn.exec_params(text, params, param_types=types, param_formats=formats)
        else:
            assert adopted is not None
            result = pgconn.exec_prepared(name, params, param_formats=formats)
            if _failed_with(result, _UNDEFINED_STATEMENT, _FEATURE_NOT_SUPPORTED):
                again = _recover(conn, adopted, key, query, failed=name, result=result, began=began)
                if again is not None:
                    result = pgconn.exec_prepared(again, params, param_formats=formats)
        _deliver_notifies(pgconn)
    _check(conn, result)
    tx.set_pgresult(result)
    return tx


def _statement_for(
    conn: psycopg.Connection[Any], adopted: _Adopted, key: Key, query: Query
) -> bytes | None:
    """The name `key` is prepared under on `conn`, preparing it now if it is due;
    None while it runs unnamed."""
    name = _names.get(key)
    if name is not None and name in adopted.prepared:
        return name
    if adopted.threshold is None or len(adopted.prepared) >= MAX_PER_CONNECTION:
        return None
    runs = adopted.runs.get(key, 0)
    if runs < adopted.threshold:
        adopted.runs[key] = runs + 1
        return None
    if name is None:
        name = _new_name(key)
    _prepare(conn, adopted, name, query, key[1])
    return name


def _recover(
    conn: psycopg.Connection[Any],
    adopted: _Adopted,
    key: Key,
    query: Query,
    *,
    failed: bytes,
    result: PGresult,
    began: bool,
) -> bytes | None:
    """After prepared statement `failed` was found gone (26000) or stale (0A000, as
    when a migration changed the type of a column it returns): the name to run the
    query under now, or None to let the error stand.

    Gone: a DEALLOCATE dropped it, and maybe others: what the server holds is read
    back before the next statement is prepared. Stale: the query gets a new name
    on every connection. The query runs again when no transaction of the caller's
    is open (in autocommit, or in the transaction this call began, rolled back and
    begun again); inside the caller's, the error ends it as any failed statement
    would, and the next call prepares afresh.
    """
    pgconn = conn.pgconn
    adopted.prepared.discard(failed)
    if _failed_with(result, _UNDEFINED_STATEMENT):
        adopted.unsure = True
        name = failed
    else:
        name = _new_name(key, replacing=failed)
    if began:
        _check(conn, pgconn.exec_(b"ROLLBACK"))
    if pgconn.transaction_status != TransactionStatus.IDLE:
        return None
    if adopted.unsure:
        _resync(conn, adopted)
    elif name != failed:
        drop = sql.SQL("DEALLOCATE {}").format(sql.Identifier(failed.decode()))
        _check(conn, pgconn.exec_(drop.as_bytes(conn)))
    _prepare(conn, adopted, name, query, key[1])
    if began:
        _check(conn, pgconn.exec_(_begin(conn)))
    return name


def _resync(conn: psycopg.Connection[Any], adopted: _Adopted) -> None:
    """Read back which of our statements the server holds (after one was gone)."""
    result = conn.pgconn.exec_(_OURS)
    _check(conn, result)
    adopted.prepared = {result.get_value(row, 0) or b"" for row in range(result.ntuples)}
    adopted.unsure = False


def _new_name(key: Key, replacing: bytes | None = None) -> bytes:
    """The process-wide name of `key`'s statement: one name always stands for one
    text and argument types, so a name the server already holds is the same one."""
    with _names_lock:
        name = _names.get(key)
        if name is None or name == replacing:
            name = _names[key] = f"_dal_{next(_numbers)}".encode()
        return name


def _prepare(
    conn: psycopg.Connection[Any],
    adopted: _Adopted,
    name: bytes,
    query: Query,
    types: tuple[int, ...],
) -> None:
    result = conn.pgconn.prepare(name, _text(conn, query), param_types=types or None)
    if _failed_with(result, _DUPLICATE_STATEMENT):
        # Already there (we lost track of it): the same statement, as names are never
        # reused. Inside a transaction, though, the failed PREPARE has aborted it.
        adopted.prepared.add(name)
        if conn.pgconn.transaction_status != TransactionStatus.INERROR:
            return
    _check(conn, result)
    adopted.prepared.add(name)


def _text(conn: psycopg.Connection[Any], query: Query) -> bytes:
    encoding = conn.info.encoding
    text = _texts.get((query.raw, encoding))
    if text is None:
        text = _texts[query.raw, encoding] = query.raw.encode(encoding)
    return text


def _begin(conn: psycopg.Connection[Any]) -> bytes:
    """The BEGIN psycopg sends before a statement outside autocommit, from the
    connection's transaction characteristics."""
    parts = [b"BEGIN"]
    if conn.isolation_level is not None:
        parts.append(b"ISOLATION LEVEL " + conn.isolation_level.name.replace("_", " ").encode())
    if conn.read_only is not None:
        parts.append(b"READ ONLY" if conn.read_only else b"READ WRITE")
    if conn.deferrable is not None:
        parts.append(b"DEFERRABLE" if conn.deferrable else b"NOT DEFERRABLE")
    return b" ".join(parts)


def _deliver_notifies(pgconn: psycopg.pq.abc.PGconn) -> None:
    """Hand NOTIFY messages read during the call to psycopg, as its cursor would:
    to the connection's handlers, or to the backlog `conn.notifies()` reads."""
    while (notify := pgconn.notifies()) is not None:
        if pgconn.notify_handler:
            pgconn.notify_handler(notify)


def _cooperative() -> bool:
    """True under gevent's monkey-patching, where psycopg waits cooperatively."""
    monkey = sys.modules.get("gevent.monkey")
    try:
        return bool(monkey and monkey.is_module_patched("select"))
    except Exception:  # a gevent we cannot ask: let psycopg's cursor decide
        return True


def _failed_with(result: PGresult, *states: bytes) -> bool:
    return (
        result.status == ExecStatus.FATAL_ERROR
        and result.error_field(DiagnosticField.SQLSTATE) in states
    )


def _check(conn: psycopg.Connection[Any], result: PGresult) -> None:
    """Raise what a cursor would for a result that is neither rows nor a command tag."""
    if result.status in _OK:
        return
    encoding = conn.info.encoding if conn.pgconn.status == ConnStatus.OK else "utf-8"
    if result.status == ExecStatus.FATAL_ERROR and result.error_field(DiagnosticField.SQLSTATE):
        raise errors.error_from_result(result, encoding=encoding)
    if conn.pgconn.status == ConnStatus.BAD:
        # libpq reports a dropped connection as an error result with no SQLSTATE.
        message = result.error_message.decode(encoding, errors="replace").strip()
        raise psycopg.OperationalError(message or "the connection was lost")
    if result.status == ExecStatus.FATAL_ERROR:
        raise errors.error_from_result(result, encoding=encoding)
    raise psycopg.InternalError(f"unexpected result status {ExecStatus(result.status).name}")
