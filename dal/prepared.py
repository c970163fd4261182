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

`run` returns None, and the caller uses a cursor, when psycopg must handle the
connection's state itself: pipeline mode, a busy or broken connection, or a
connection outside autocommit with no transaction open (psycopg sends the BEGIN
that a DAL call on it must start).

A user's DEALLOCATE ALL (or DISCARD ALL) drops the DAL's statements: outside a
transaction the statement is prepared again and run; inside one, the error ends
the transaction as any failed statement would, and the next call prepares again.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from itertools import count
from typing import TYPE_CHECKING, Any, cast

import psycopg
from psycopg import adapt, errors
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
_OK = (ExecStatus.TUPLES_OK, ExecStatus.COMMAND_OK)

Key = tuple[str, tuple[int, ...]]  # query name, argument types

# One server-side name per key, the same on every connection.
_names: dict[Key, bytes] = {}
_numbers = count(1)
_names_lock = threading.Lock()
_texts: dict[tuple[str, str], bytes] = {}  # (query name, client encoding) -> text sent


@dataclass(slots=True)
class _Adopted:
    """What the DAL prepares on one connection it opened."""

    threshold: int | None
    runs: dict[Key, int] = field(default_factory=dict)
    prepared: set[bytes] = field(default_factory=set)


_adopted: weakref.WeakKeyDictionary[psycopg.Connection[Any], _Adopted] = weakref.WeakKeyDictionary()


def adopt(conn: psycopg.Connection[Any], threshold: int | None) -> None:
    """Prepare named queries on `conn` after `threshold` runs each (None: never).

    Call it on a new connection, before psycopg has prepared anything on it.
    """
    conn.prepare_threshold = None
    _adopted[conn] = _Adopted(threshold)


def run(conn: psycopg.Connection[Any], query: Query, args: list[Any]) -> Transformer | None:
    """Run `query` with `args` on `conn`: its result, ready to load, or None.

    Raises psycopg's error for a failed statement, as a cursor would.
    """
    adopted = _adopted.get(conn)
    if adopted is None and conn.prepare_threshold is not None:
        return None
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
            or (status == TransactionStatus.IDLE and not conn.autocommit)
        ):
            return None
        key = (query.name, types)
        name = _statement_for(conn, adopted, key, query) if adopted else None
        if name is None:
            text = _text(conn, query)
            result = pgconn.exec_params(text, params, param_types=types, param_formats=formats)
        else:
            assert adopted is not None
            result = pgconn.exec_prepared(name, params, param_formats=formats)
            if _statement_missing(result):
                adopted.prepared.clear()  # DEALLOCATE ALL: every one of ours is gone
                if pgconn.transaction_status == TransactionStatus.IDLE:
                    _prepare(conn, adopted, name, query, types)
                    result = pgconn.exec_prepared(name, params, param_formats=formats)
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
    runs = adopted.runs.get(key, 0)
    if (
        adopted.threshold is None
        or runs < adopted.threshold
        or len(adopted.prepared) >= MAX_PER_CONNECTION
    ):
        adopted.runs[key] = runs + 1
        return None
    if name is None:
        with _names_lock:
            name = _names.setdefault(key, f"_dal_{next(_numbers)}".encode())
    _prepare(conn, adopted, name, query, key[1])
    return name


def _prepare(
    conn: psycopg.Connection[Any],
    adopted: _Adopted,
    name: bytes,
    query: Query,
    types: tuple[int, ...],
) -> None:
    _check(conn, conn.pgconn.prepare(name, _text(conn, query), param_types=types or None))
    adopted.prepared.add(name)


def _text(conn: psycopg.Connection[Any], query: Query) -> bytes:
    encoding = conn.info.encoding
    text = _texts.get((query.name, encoding))
    if text is None:
        text = _texts[query.name, encoding] = query.raw.encode(encoding)
    return text


def _statement_missing(result: PGresult) -> bool:
    return (
        result.status == ExecStatus.FATAL_ERROR
        and result.error_field(DiagnosticField.SQLSTATE) == _UNDEFINED_STATEMENT
    )


def _check(conn: psycopg.Connection[Any], result: PGresult) -> None:
    """Raise what a cursor would for a result that is neither rows nor a command tag."""
    if result.status in _OK:
        return
    if conn.pgconn.status == ConnStatus.BAD:
        # libpq reports a dropped connection as an error result with no SQLSTATE.
        message = result.error_message.decode(errors="replace").strip()
        raise psycopg.OperationalError(message or "the connection was lost")
    if result.status == ExecStatus.FATAL_ERROR:
        raise errors.error_from_result(result, encoding=conn.info.encoding)
    raise psycopg.ProgrammingError(
        f"a named query returned {ExecStatus(result.status).name}; COPY needs a cursor"
    )
