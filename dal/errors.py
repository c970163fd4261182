"""The errors a DAL function may raise, and the mapping from psycopg's.

Every public function raises only `DalError` subclasses; the psycopg error that
caused one is kept as ``__cause__``. Constraint-backed errors carry the name of
the constraint (or unique index) so callers can tell which rule was broken.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg.errors as pge
import psycopg_pool


class DalError(Exception):
    """Base of every error the data layer raises."""

    def __init__(
        self,
        message: str,
        *,
        constraint: str | None = None,
        table: str | None = None,
        column: str | None = None,
        sqlstate: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.constraint = constraint
        self.table = table
        self.column = column
        self.sqlstate = sqlstate


class NotFound(DalError):
    """The row asked for does not exist (or is not visible to this caller)."""


class Conflict(DalError):
    """The write collides with existing data: a unique key, or a concurrent change."""


class StillReferenced(Conflict):
    """The row cannot be deleted or re-keyed: other rows still point at it."""


class ConcurrentUpdate(Conflict):
    """A serialization failure or deadlock outlived its retries."""


class InvalidData(DalError):
    """A value breaks a CHECK or NOT NULL rule, or is not valid for its type."""


class ReferenceMissing(DalError):
    """A foreign key points at a row that does not exist."""


class PermissionDenied(DalError):
    """The database refused the statement to the role connected (SQLSTATE 42501): the
    application role may not change the schema, the read-only role may not write."""


def not_allowed(what: str, *, table: str) -> PermissionDenied:
    """A write that matched nothing though the row is there to be read: row-level
    security lets the acting user see it but not change it."""
    return PermissionDenied(
        f"the acting user may see {what} but not change it", table=table, sqlstate="42501"
    )


class Unavailable(DalError):
    """The database could not be reached: pool timeout, refused or lost connection."""


class PoolExhausted(Unavailable):
    """Every connection of the pool was in use: none came free within the pool timeout,
    or more callers than ``DATABASE_POOL_MAX_WAITING`` were already waiting. The server
    itself may be fine; the service asks more of it than the pool allows at once."""


class ConnectionLost(Unavailable):
    """The connection broke mid-use (server restart, network).

    Work safe to repeat may be retried. A single write given the pool runs in
    autocommit, so it may or may not have been saved: look before writing again.
    """


class ReadOnlyServer(Unavailable):
    """The server takes no writes now (SQLSTATE 25006): a hot standby, or an old primary
    after a failover. Nothing was written.

    The pool's connections are replaced when a call sees this, so with a multi-host
    `DATABASE_URL` and ``target_session_attrs=read-write`` the next call reaches the
    new primary once there is one; `retry(..., transient=(ReadOnlyServer,))` runs the
    work again meanwhile.
    """


class CommitOutcomeUnknown(Unavailable):
    """The connection broke during COMMIT and what became of the work is not known.

    `xid` is the transaction's id, taken just before COMMIT: `dal.commit_outcome(pool,
    xid)` asks the server again later. `outcome` is what was found so far:
    ``unknown`` (the server could not be asked, or had no answer in time) or ``in
    progress``. Never retried by `retry`, since running the work again could do it twice.
    """

    def __init__(
        self,
        message: str,
        *,
        xid: str | None = None,
        outcome: str = "unknown",
        sqlstate: str | None = None,
    ) -> None:
        super().__init__(message, sqlstate=sqlstate)
        self.xid = xid
        self.outcome = outcome


class QueryTimeout(Unavailable):
    """A statement ran past statement_timeout, or waited past lock_timeout (both leave
    the connection usable), or a transaction sat idle past
    idle_in_transaction_session_timeout (or ran past transaction_timeout), after which
    the server rolled it back and closed the connection."""


class ConfigError(DalError):
    """A setting is missing or malformed."""


class MigrationError(DalError):
    """Migrations cannot run: drift, a database ahead of the code, a held lock."""


_CONNECTION_LOST = {"57P01", "57P02", "57P03"}  # admin/crash shutdown, cannot connect now


def _nul_field(params: Mapping[str, Any] | None) -> str | None:
    """Name the first parameter holding a NUL byte: the server never sees it."""
    for key, value in (params or {}).items():
        if isinstance(value, str) and "\x00" in value:
            return key
    return None


def lone_surrogate(text: str) -> bool:
    """Whether `text` holds a lone surrogate (``'\\ud800'``): a str Python allows that no
    UTF-8 text, and so no PostgreSQL text, can hold."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


def _unencodable(value: Any) -> bool:
    """Whether `value` (or a string in a list of them) cannot be sent as UTF-8."""
    if isinstance(value, str):
        return lone_surrogate(value)
    return isinstance(value, list | tuple) and any(_unencodable(item) for item in value)


def not_text(exc: UnicodeEncodeError, params: Mapping[str, Any] | None) -> InvalidData:
    """A parameter psycopg could not encode: a lone surrogate (``'\\ud800'``), which
    no UTF-8 text (and so no PostgreSQL text) can hold. Raised before anything is
    sent, so nothing is written."""
    field = next((key for key, value in (params or {}).items() if _unencodable(value)), None)
    what = field or "a text value"
    return InvalidData(
        f"{what} is not valid text: it holds a lone surrogate ({exc.object[exc.start]!r})",
        column=field,
    )


def translate(
    exc: BaseException, params: Mapping[str, Any] | None = None, *, verb: str = ""
) -> DalError:
    """Turn a psycopg / psycopg-pool error into the matching `DalError`.

    `verb` is the failed statement's (``DELETE``, see `dal.query_files.main_verb`): a
    foreign key refusing a DELETE is `StillReferenced`, any other `ReferenceMissing`.
    The server reports the referencing table and the constraint alike in both cases,
    and says which it is only in the text of its message, in `lc_messages`' language.
    """
    if isinstance(exc, DalError):
        return exc
    if isinstance(exc, psycopg_pool.PoolTimeout | psycopg_pool.TooManyRequests):
        return _pool_refusal(exc)
    if not isinstance(exc, psycopg.Error):
        return DalError(f"unexpected error: {exc}")

    diag = exc.diag
    state = exc.sqlstate or ""
    where = {
        "constraint": diag.constraint_name,
        "table": diag.table_name,
        "column": diag.column_name,
        "sqlstate": state or None,
    }
    first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__

    if isinstance(exc, pge.ForeignKeyViolation):
        return (StillReferenced if verb == "DELETE" else ReferenceMissing)(first_line, **where)
    if state in _SESSION_TIMEOUTS:
        return QueryTimeout(f"{first_line}: {_SESSION_TIMEOUTS[state]}", **where)
    if isinstance(exc, pge.NotNullViolation):
        return InvalidData(f"{diag.column_name} must not be null", **where)
    for kinds, error in _BY_TYPE:
        if isinstance(exc, kinds):
            return error(first_line, **where)
    if state.startswith("22") or isinstance(exc, psycopg.DataError):
        field = _nul_field(params)
        if field is not None and not state:
            return InvalidData(f"{field} must not contain a NUL byte", column=field)
        return InvalidData(first_line, **where)
    if state[:2] in _BY_CLASS:
        return _BY_CLASS[state[:2]](first_line, **where)
    lost_client_side = not state and isinstance(
        exc, psycopg.OperationalError | psycopg.InterfaceError
    )
    if lost_client_side or state.startswith("08") or state in _CONNECTION_LOST:
        return ConnectionLost(f"database connection lost: {first_line}", **where)
    return DalError(first_line, **where)


# Raised by psycopg-pool itself. A timeout may also mean no connection could be opened
# (`dal.db` tells the two apart, knowing the pool); too many waiting is the pool's limit.
_POOL_REFUSALS: tuple[tuple[type[Exception], type[Unavailable], str], ...] = (
    (
        psycopg_pool.TooManyRequests,
        PoolExhausted,
        "too many requests are waiting for a database connection (the pool's max_waiting)",
    ),
    (
        psycopg_pool.PoolTimeout,
        Unavailable,
        "no database connection became free in time (pool timeout)",
    ),
)


def _pool_refusal(exc: Exception) -> Unavailable:
    return next(error(message) for kind, error, message in _POOL_REFUSALS if isinstance(exc, kind))


# The server ends the session for these: nothing of the transaction is saved. Not a
# lost connection either, which `retry` would run again into the same timeout.
_SESSION_TIMEOUTS = {
    "25P03": "the transaction sat idle longer than idle_in_transaction_session_timeout; "
    "the server rolled it back and closed the connection",
    "25P04": "the transaction ran longer than transaction_timeout; "
    "the server rolled it back and closed the connection",
}

# SQLSTATE classes that are not about the connection, though psycopg raises them
# as OperationalError: they must not be mistaken for a lost connection and retried.
_BY_CLASS: dict[str, type[DalError]] = {
    "53": Unavailable,  # insufficient resources: disk full, out of memory, no connection slot
    "54": InvalidData,  # program limit exceeded: e.g. a value too big to index
}

_BY_TYPE: list[tuple[type[psycopg.Error] | tuple[type[psycopg.Error], ...], type[DalError]]] = [
    ((pge.UniqueViolation, pge.ExclusionViolation), Conflict),
    (pge.RestrictViolation, StillReferenced),  # a foreign key declared ON DELETE RESTRICT
    (pge.CheckViolation, InvalidData),
    ((pge.SerializationFailure, pge.DeadlockDetected), ConcurrentUpdate),
    ((pge.QueryCanceled, pge.LockNotAvailable), QueryTimeout),
    (pge.ReadOnlySqlTransaction, ReadOnlyServer),
    (pge.InsufficientPrivilege, PermissionDenied),
    # A pipelined statement skipped after an earlier one failed: not a lost connection.
    (pge.PipelineAborted, DalError),
]


@contextmanager
def translating(params: Mapping[str, Any] | None = None, *, verb: str = "") -> Iterator[None]:
    """Re-raise any psycopg error inside the block as a `DalError` (see `translate`)."""
    try:
        yield
    except (psycopg.Error, psycopg_pool.PoolTimeout, psycopg_pool.TooManyRequests) as exc:
        raise translate(exc, params, verb=verb) from exc
