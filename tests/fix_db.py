"""Database fixtures: one server per session, one migrated database per test.

The server, the template and each test's database come from the package's own
pytest plugin (`dal.testing`, which services use too): `TEST_DATABASE_URL` when
set, else a throwaway embedded PostgreSQL; migrations run once into a template, and
each test gets `CREATE DATABASE ... TEMPLATE`, dropped afterwards.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from dal import passwords
from dal.config import Roles, Settings
from dal.db import Pool, open_connection, open_pool
from dal.testing import create_database, drop_database
from tests import flavoured

_counter = itertools.count()

# Tests create many users: a cheaper (still real) argon2id keeps the suite fast.
passwords.set_cost(time_cost=1, memory_cost_kib=1024)


# The fixtures a service gets from the plugin (`dal.testing`), under the names this
# suite has always used.


@pytest.fixture(scope="session")
def pg_admin(dal_server: str) -> str:
    """Conninfo of a database on the test server with rights to create databases."""
    return dal_server


@pytest.fixture(scope="session")
def template_db(dal_template: str) -> str:
    """Name of a database with every migration applied, used as a template."""
    return dal_template


@pytest.fixture
def db_url(dal_db_url: str) -> str:
    """Conninfo of a fresh, fully migrated database for this test alone."""
    return dal_db_url


@pytest.fixture
def empty_db_url(pg_admin: str) -> Iterator[str]:
    """Conninfo of a fresh database with no migrations applied."""
    name = f"dal_e_{os.getpid()}_{next(_counter)}"
    yield create_database(pg_admin, name)
    drop_database(pg_admin, name)


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection to the test database, set up as the DAL's pool sets up
    its own, preparing a statement from its second run (psycopg prepares none that
    holds several statements): each DAL call is its own transaction."""
    settings = Settings(prepare_threshold=1)
    with open_connection(db_url, settings, autocommit=True) as connection:
        yield connection


@pytest.fixture
def settings() -> Settings:
    return Settings(pool_size=2, max_overflow=2, pool_timeout=5.0)


@pytest.fixture
def pool(db_url: str, settings: Settings) -> Iterator[Pool]:
    opened = open_pool(db_url, settings)
    yield opened
    opened.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `flavours` run twice: sync, then async (see tests/flavoured.py)."""
    uses_db = {"conn", "pool", "db_url"} & set(metafunc.fixturenames)
    if uses_db and metafunc.definition.get_closest_marker("flavours"):
        metafunc.parametrize("dal_flavour", ["sync", "async"], indirect=True)


@pytest.fixture(autouse=True)
def dal_flavour(request: pytest.FixtureRequest) -> Iterator[str]:
    """Which flavour the areas of `tests.flavoured` run in for this test."""
    name: str = getattr(request, "param", "sync")
    if name == "sync":
        yield name
        return
    flavour = flavoured.AsyncFlavour()
    flavoured.current = flavour
    try:
        yield name
    finally:
        flavoured.current = None
        flavour.close()


def as_role(conninfo: str, role: str) -> str:
    """`conninfo` connecting as `role` (say `Roles.app`): row-level security and grants
    then apply as they do to a service."""
    return psycopg.conninfo.make_conninfo(conninfo, user=role)


@pytest.fixture
def app_pool(db_url: str) -> Iterator[Pool]:
    """A small pool of the test database connecting as the application role."""
    pool = open_pool(as_role(db_url, Roles.app), Settings(pool_size=2, max_overflow=0))
    yield pool
    pool.close()


@pytest.fixture
def reader(db_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection of the test database as the read-only role, which sees every row."""
    with psycopg.connect(as_role(db_url, Roles.readonly), autocommit=True) as conn:
        yield conn
