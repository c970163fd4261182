"""A PostgreSQL data layer: named SQL, plain typed functions, a psycopg 3 pool.

Typical use::

    from dal import Settings, open_pool, resolve_conninfo, users

    settings = Settings.from_env()
    pool = open_pool(resolve_conninfo(settings), settings)
    alice = users.create(pool, email="alice@example.com", username="alice", password="...")
"""

from dal.acting import acting_as, acting_user
from dal.config import Settings
from dal.db import Db, commit_outcome, open_connection, open_pool, retry, snapshot, transaction
from dal.errors import (
    CommitOutcomeUnknown,
    ConcurrentUpdate,
    ConfigError,
    Conflict,
    ConnectionLost,
    DalError,
    InvalidData,
    MigrationError,
    NotFound,
    PermissionDenied,
    PoolExhausted,
    QueryTimeout,
    ReadOnlyServer,
    ReferenceMissing,
    StillReferenced,
    Unavailable,
)
from dal.routing import on_primary, on_replica, read_after, written_at
from dal.server import resolve_conninfo

__all__ = [
    "CommitOutcomeUnknown",
    "ConcurrentUpdate",
    "ConfigError",
    "Conflict",
    "ConnectionLost",
    "DalError",
    "Db",
    "InvalidData",
    "MigrationError",
    "NotFound",
    "PermissionDenied",
    "PoolExhausted",
    "QueryTimeout",
    "ReadOnlyServer",
    "ReferenceMissing",
    "Settings",
    "StillReferenced",
    "Unavailable",
    "acting_as",
    "acting_user",
    "commit_outcome",
    "on_primary",
    "on_replica",
    "open_connection",
    "open_pool",
    "read_after",
    "resolve_conninfo",
    "retry",
    "snapshot",
    "transaction",
    "written_at",
]
