"""Area modules for tests that run in both flavours, sync and async.

A test module marked `pytest.mark.flavours` runs each test twice, and imports its
areas from here (`from tests.flavoured import users, tasks`). In the sync run they
are `dal.users`, `dal.tasks`. In the async run each call goes to `dal.aio.<area>`
and is awaited on one event loop, on async twins of the test's connection and pool
(opened on the same database as they are: the `conn` fixture autocommits, so both
see the same rows). The tests themselves are written once.

A call on a connection inside a transaction (`with transaction(conn)` in the test),
or from another thread, runs in the sync flavour: no async connection can join that
transaction, and the event loop belongs to the test's thread.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import inspect
import threading
from collections.abc import AsyncIterator, Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg_pool import AsyncConnectionPool, ConnectionPool

import dal.cache
from dal import aio
from dal.config import Settings


class AsyncFlavour:
    """Runs `dal.aio` calls for sync test code: one event loop, async twins of the
    test's connections and pools, closed at the end of the test."""

    def __init__(self) -> None:
        self.runner = asyncio.Runner()
        self.thread = threading.get_ident()
        self.twins: dict[int, Any] = {}
        self.calls = 0  # how many calls ran async: a test checks the harness itself

    def twin(self, db: Any) -> Any:
        """The async twin of `db`, or None where the call must stay sync."""
        if threading.get_ident() != self.thread:
            return None
        if isinstance(db, (psycopg.AsyncConnection, AsyncConnectionPool)):
            return db
        if isinstance(db, psycopg.Connection):
            if db.info.transaction_status != TransactionStatus.IDLE or db.closed:
                return None
            if id(db) not in self.twins:
                settings = Settings(prepare_threshold=1)
                self.twins[id(db)] = self.runner.run(
                    aio.open_connection(db.info.dsn, settings, autocommit=db.autocommit)
                )
            return self.twins[id(db)]
        if isinstance(db, ConnectionPool):
            if id(db) not in self.twins:
                # As the test's pool prepares statements (or not, through PgBouncer).
                kwargs = db.kwargs if isinstance(db.kwargs, dict) else {}
                prepare = kwargs.get("prepare_threshold", Settings.prepare_threshold)
                cache = dal.cache.of(db)  # the same Redis, if the test's pool reads through one
                timeout = Settings.redis_timeout_ms if cache is None else cache.timeout_ms
                settings = Settings(
                    pool_size=2,
                    max_overflow=2,
                    pool_timeout=5.0,
                    prepare_threshold=prepare,
                    redis_url=None if cache is None else cache.url,
                    cache_ttl_s=Settings.cache_ttl_s if cache is None else cache.ttl_s,
                    redis_timeout_ms=timeout,
                )
                conninfo = str(db.conninfo)  # a string in every pool the tests open
                self.twins[id(db)] = self.runner.run(aio.open_pool(conninfo, settings))
            return self.twins[id(db)]
        return None

    def call(
        self, sync: Callable[..., Any], coro_fn: Callable[..., Any], args: Any, kw: Any
    ) -> Any:
        twin = self.twin(args[0]) if args else None
        if twin is None:
            return sync(*args, **kw)
        self.calls += 1
        # The caller's context goes along: its acting user (dal.acting_as) is in it.
        context = contextvars.copy_context()
        if inspect.isasyncgenfunction(coro_fn):
            collected = _collect(coro_fn(twin, *args[1:], **kw))
            return iter(self.runner.run(collected, context=context))
        return self.runner.run(coro_fn(twin, *args[1:], **kw), context=context)

    def close(self) -> None:
        for twin in self.twins.values():
            self.runner.run(twin.close())
        self.runner.close()


async def _collect(items: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in items]


__all__ = [
    "AsyncFlavour",
    "categories",
    "config_store",
    "current",
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
]

current: AsyncFlavour | None = None
"""The async flavour of the running test, or None in a sync run."""


class _Area(ModuleType):
    """`dal.<area>` in a sync run; its functions dispatched to `dal.aio.<area>` in an
    async one. Everything that is not an async function (rows, constants) is shared."""

    def __init__(self, name: str) -> None:
        super().__init__(f"tests.flavoured.{name}")
        self._sync = importlib.import_module(f"dal.{name}")
        self._async = importlib.import_module(f"dal.aio.{name}")

    def __getattr__(self, attr: str) -> Any:
        sync = getattr(self._sync, attr)
        coro_fn = getattr(self._async, attr, None)
        if not (inspect.iscoroutinefunction(coro_fn) or inspect.isasyncgenfunction(coro_fn)):
            return sync

        def dispatch(*args: Any, **kw: Any) -> Any:
            flavour = current
            if flavour is None:
                return sync(*args, **kw)
            return flavour.call(sync, coro_fn, args, kw)

        dispatch.__name__ = dispatch.__qualname__ = attr
        self.__dict__[attr] = dispatch  # one object per name: `f is area.f` holds
        return dispatch


if TYPE_CHECKING:  # the type checker sees the sync modules; both have one signature
    from dal import (
        categories,
        config_store,
        dependencies,
        events,
        moods,
        projects,
        recommendations,
        servers,
        surveys,
        sync_history,
        tasks,
        users,
    )
else:
    categories = _Area("categories")
    config_store = _Area("config_store")
    dependencies = _Area("dependencies")
    events = _Area("events")
    moods = _Area("moods")
    projects = _Area("projects")
    recommendations = _Area("recommendations")
    servers = _Area("servers")
    surveys = _Area("surveys")
    sync_history = _Area("sync_history")
    tasks = _Area("tasks")
    users = _Area("users")
