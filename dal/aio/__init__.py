"""The async flavour of the DAL: the same functions, names and rows, awaited.

Every area of `dal` exists here with the same names, over `AsyncConnection` or
`AsyncConnectionPool`::

    from dal import Settings, resolve_conninfo
    from dal import aio

    settings = Settings.from_env()
    pool = await aio.open_pool(resolve_conninfo(settings), settings)
    alice = await aio.users.get_by_email(pool, "alice@example.com")
    async with aio.transaction(pool) as conn:
        await aio.tasks.create(conn, owner_id=alice.id, title="Write the report")
    await pool.close()

The modules here are the source: the sync modules of `dal` are generated from them
(`.ci/async_to_sync.py`).
"""

from __future__ import annotations

import importlib
from typing import Any

from dal.aio.db import Db, commit_outcome, open_connection, open_pool, retry, snapshot, transaction

AREAS = (
    "categories",
    "config_store",
    "dependencies",
    "events",
    "moods",
    "projects",
    "recommendations",
    "servers",
    "surveys",
    "sync_history",
    "tasks",
    "users",
)

__all__ = [
    "Db",
    "categories",
    "commit_outcome",
    "config_store",
    "dependencies",
    "events",
    "moods",
    "open_connection",
    "open_pool",
    "projects",
    "recommendations",
    "retry",
    "servers",
    "snapshot",
    "surveys",
    "sync_history",
    "tasks",
    "transaction",
    "users",
]


def __getattr__(name: str) -> Any:
    # Areas load on first use, as `import dal.users` does for the sync flavour.
    if name in AREAS:
        return importlib.import_module(f"dal.aio.{name}")
    raise AttributeError(f"module 'dal.aio' has no attribute {name!r}")
