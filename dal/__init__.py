"""A PostgreSQL data layer: named SQL, plain typed functions, a psycopg 3 pool.

Typical use::

    from dal import Settings, open_pool, resolve_conninfo, users

    settings = Settings.from_env()
    pool = open_pool(resolve_conninfo(settings), settings)
    alice = users.create(pool, email="alice@example.com", username="alice", password="...")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Where each name lives: imported at its first use, so that importing `dal` (and
# `dal --help`) loads neither psycopg nor Redis's client until a call needs them.
_HOMES = {
    "acting_as": "dal.acting",
    "acting_user": "dal.acting",
    "Settings": "dal.config",
    "resolve_conninfo": "dal.server",
    **dict.fromkeys(("on_primary", "on_replica", "read_after", "written_at"), "dal.routing"),
    **dict.fromkeys(
        (
            "Db",
            "commit_outcome",
            "open_connection",
            "open_pool",
            "retry",
            "snapshot",
            "transaction",
        ),
        "dal.db",
    ),
}


def __getattr__(name: str) -> Any:
    """A public name of `dal` (imported now), or a submodule (`dal.users`)."""
    home = _HOMES.get(name) or ("dal.errors" if name in __all__ else None)
    if home is None:
        try:
            return importlib.import_module(f"dal.{name}")
        except ModuleNotFoundError:
            raise AttributeError(f"module 'dal' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
