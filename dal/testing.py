"""pytest fixtures for code that uses the DAL: a migrated throwaway database per test.

A pytest plugin, registered through the `pytest11` entry point (installing the
package is enough). The server is `TEST_DATABASE_URL` when it is set (any database
there: the fixtures create their own beside it, so its role must be allowed to
create databases), else a throwaway embedded PostgreSQL (the `embedded` extra),
started at the first test that needs it and removed at the end of the session.
Every migration runs once, into a template database; each test gets its own copy
(``CREATE DATABASE ... TEMPLATE``, milliseconds), dropped after it.

Fixtures:

- ``dal_db_url``: the connection string of this test's database;
- ``dal_conn``: a connection to it in autocommit, set up as the DAL sets up its own;
- ``dal_pool``: a small DAL pool on it, closed after the test;
- ``dal_async_pool``: opens an async pool in the test's own event loop
  (``async with dal_async_pool() as pool:``), whatever runs that loop;
- ``dal_server`` and ``dal_template`` (session): the server and the template's name.

    def test_signup(dal_pool):
        user = users.create(dal_pool, email="a@example.com", username="ada")
        assert users.get(dal_pool, user.id) == user
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

# psycopg is imported where a fixture runs: pytest loads this plugin in every session
# of an environment that has the package, which must start even where libpq is missing.

_counter = itertools.count()


def create_database(admin: str, name: str, template: str | None = None) -> str:
    """Create database `name` (dropping one of that name first) on the server `admin`
    reaches, as a copy of `template` if given; return its connection string."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        conn.execute(create)
    return psycopg.conninfo.make_conninfo(admin, dbname=name)


def drop_database(admin: str, name: str) -> None:
    """Drop database `name`, ending its sessions."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def dal_server() -> Iterator[str]:
    """A connection string to the test server, with the right to create databases."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    import psycopg
    from psycopg import sql

    from dal.server import start_embedded

    # The embedded server stops and deletes its data at the end of the process; the
    # directory is not removed under it while it runs.
    root = Path(tempfile.mkdtemp(prefix="dal-test-"))
    admin = start_embedded(root / "pgdata", delete_on_exit=True)
    with psycopg.connect(admin, autocommit=True) as conn:
        # Durability is pointless for a throwaway cluster; these are reload-only settings.
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(sql.SQL("ALTER SYSTEM SET {} = off").format(sql.Identifier(setting)))
        conn.execute("SELECT pg_reload_conf()")
    yield admin


@pytest.fixture(scope="session")
def dal_template(dal_server: str) -> Iterator[str]:
    """The name of a database with every migration applied, copied for each test."""
    from dal import migrate

    name = f"dal_tpl_{os.getpid()}"
    migrate.migrate(create_database(dal_server, name))
    yield name
    drop_database(dal_server, name)


@pytest.fixture
def dal_db_url(dal_server: str, dal_template: str) -> Iterator[str]:
    """The connection string of a fresh, fully migrated database for this test alone."""
    name = f"dal_t_{os.getpid()}_{next(_counter)}"
    yield create_database(dal_server, name, template=dal_template)
    drop_database(dal_server, name)


@pytest.fixture
def dal_conn(dal_db_url: str) -> Iterator[Any]:
    """An autocommit connection to this test's database: each DAL call on it is its
    own transaction."""
    from dal.config import Settings
    from dal.db import open_connection

    with open_connection(dal_db_url, Settings(), autocommit=True) as connection:
        yield connection


@pytest.fixture
def dal_pool(dal_db_url: str) -> Iterator[Any]:
    """A small DAL pool on this test's database."""
    from dal.config import Settings
    from dal.db import open_pool

    pool = open_pool(dal_db_url, Settings(pool_size=2, max_overflow=2, pool_timeout=10.0))
    yield pool
    pool.close()


@pytest.fixture
def dal_async_pool(dal_db_url: str) -> Callable[[], AbstractAsyncContextManager[Any]]:
    """Opens an async DAL pool on this test's database in the running event loop:
    ``async with dal_async_pool() as pool:``."""
    from dal.aio.db import open_pool
    from dal.config import Settings

    @asynccontextmanager
    async def opened() -> AsyncIterator[Any]:
        pool = await open_pool(dal_db_url, Settings(pool_size=2, max_overflow=2))
        try:
            yield pool
        finally:
            await pool.close()

    return opened
