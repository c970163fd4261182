"""The sides of each speed comparison: the same work through the DAL and its peers.

Each comparison is a context manager yielding ``{side: call}``: a call does one unit
of work (one lookup, one page) with the next key of its own cycle, and returns what
it found. pytest-benchmark times each side on its own (test_speed*.py), and
test_speed_paired.py calls the sides of a comparison in turn, round after round.
The DAL runs on a connection it opened (as its pool does), naive psycopg on a
plain `psycopg.connect()` one, both in autocommit (but in `pooled_user_by_id`,
where each side borrows from a pool of its own); SQLAlchemy opens its own,
through psycopg, from the same conninfo.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from benchmarks import peers
from dal import tasks, users
from dal.config import Settings
from dal.db import open_connection, open_pool
from dal.pagination import encode_cursor

Sides = dict[str, Callable[[], Any]]
PAGE = 50

NAIVE_USER_BY_EMAIL = "SELECT * FROM users WHERE lower(email) = lower(%s)"
NAIVE_USER_BY_ID = "SELECT * FROM users WHERE id = %s"
NAIVE_TASK = "SELECT * FROM tasks WHERE id = %s"
NAIVE_PAGE = "SELECT * FROM tasks WHERE owner_id = %s ORDER BY created_at DESC, id DESC LIMIT %s"
OFFSET_PAGE = (
    "SELECT * FROM tasks WHERE owner_id = %s ORDER BY created_at DESC, id DESC OFFSET %s LIMIT %s"
)


@dataclass(frozen=True)
class Conns:
    dal: psycopg.Connection[Any]  # dal.db.open_connection: the DAL prepares its queries
    naive: psycopg.Connection[Any]  # psycopg.connect: psycopg prepares after 5 runs


@contextmanager
def connections(url: str) -> Iterator[Conns]:
    """Both sides' connections, in autocommit, the DAL's with its default settings."""
    with (
        open_connection(url, Settings(), autocommit=True) as dal,
        psycopg.connect(url, autocommit=True) as naive,
    ):
        yield Conns(dal=dal, naive=naive)


def _keys(values: Sequence[Any]) -> Callable[[], Any]:
    return itertools.cycle(values).__next__


@contextmanager
def _sqlalchemy(url: str) -> Iterator[tuple[Session, Any, Any]]:
    """An ORM session, a Core connection, and the engine, closed after the block."""
    eng = peers.engine(url)
    try:
        with Session(eng) as session, eng.connect() as core:
            yield session, core, eng
    finally:
        eng.dispose()


@contextmanager
def user_by_email(conns: Conns, url: str, emails: Sequence[str]) -> Iterator[Sides]:
    orm_user = peers.OrmUser
    with _sqlalchemy(url) as (session, core, eng):
        table = peers.reflected(eng, "users")
        by_email = select(table).where(func.lower(table.c.email) == func.lower(bindparam("e")))
        dal, naive, orm, sql = (_keys(emails) for _ in range(4))
        yield {
            "dal": lambda: users.get_by_email(conns.dal, dal()),
            "naive_psycopg": lambda: conns.naive.execute(NAIVE_USER_BY_EMAIL, [naive()]).fetchone(),
            "sqlalchemy_orm": lambda: session.scalars(
                select(orm_user)
                .where(func.lower(orm_user.email) == func.lower(orm()))
                .execution_options(populate_existing=True)
            ).one_or_none(),
            "sqlalchemy_core": lambda: core.execute(by_email, {"e": sql()}).first(),
        }


@contextmanager
def _by_id(
    conns: Conns,
    url: str,
    ids: Sequence[Any],
    *,
    table_name: str,
    orm_class: type[Any],
    dal_get: Callable[[psycopg.Connection[Any], Any], Any],
    naive: str,
) -> Iterator[Sides]:
    """A primary-key lookup of `table_name` through each side."""
    with _sqlalchemy(url) as (session, core, eng):
        table = peers.reflected(eng, table_name)
        by_id = select(table).where(table.c.id == bindparam("id"))
        dal, plain, orm, sql = (_keys(ids) for _ in range(4))
        yield {
            "dal": lambda: dal_get(conns.dal, dal()),
            "naive_psycopg": lambda: conns.naive.execute(naive, [plain()]).fetchone(),
            "sqlalchemy_orm": lambda: session.get(orm_class, orm(), populate_existing=True),
            "sqlalchemy_core": lambda: core.execute(by_id, {"id": sql()}).first(),
        }


def user_by_id(conns: Conns, url: str, ids: Sequence[Any]) -> AbstractContextManager[Sides]:
    return _by_id(
        conns,
        url,
        ids,
        table_name="users",
        orm_class=peers.OrmUser,
        dal_get=users.get,
        naive=NAIVE_USER_BY_ID,
    )


def task_by_id(conns: Conns, url: str, ids: Sequence[Any]) -> AbstractContextManager[Sides]:
    return _by_id(
        conns,
        url,
        ids,
        table_name="tasks",
        orm_class=peers.OrmTask,
        dal_get=tasks.get,
        naive=NAIVE_TASK,
    )


@contextmanager
def pooled_user_by_id(url: str, ids: Sequence[Any]) -> Iterator[Sides]:
    """A primary-key lookup given a pool, as a service makes one, each call borrowing
    a connection: the DAL's pool against a psycopg_pool with the same check of each
    connection it lends, where psycopg wraps the lookup in BEGIN and COMMIT."""
    with ExitStack() as stack:
        dal_pool = open_pool(url, Settings(pool_size=1, max_overflow=0))
        stack.callback(dal_pool.close)
        naive_pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url, min_size=1, max_size=1, check=ConnectionPool.check_connection, open=False
        )
        stack.callback(naive_pool.close)
        naive_pool.open(wait=True)

        def naive_lookup(user_id: Any) -> Any:
            with naive_pool.connection() as conn:
                return conn.execute(NAIVE_USER_BY_ID, [user_id]).fetchone()

        dal, plain = _keys(ids), _keys(ids)
        yield {
            "dal": lambda: users.get(dal_pool, dal()),
            "naive_psycopg": lambda: naive_lookup(plain()),
        }


@contextmanager
def page(conns: Conns, url: str, owner: Any) -> Iterator[Sides]:
    """The 50 newest tasks of one user: a list of 50 rows each side."""
    task = peers.OrmTask
    newest = (
        select(task)
        .where(task.owner_id == owner)
        .order_by(task.created_at.desc(), task.id.desc())
        .limit(PAGE)
        .execution_options(populate_existing=True)
    )
    with _sqlalchemy(url) as (session, _core, _eng):
        yield {
            "dal": lambda: tasks.list_for_user(conns.dal, owner, sort="created", limit=PAGE).items,
            "naive_psycopg": lambda: conns.naive.execute(NAIVE_PAGE, [owner, PAGE]).fetchall(),
            "sqlalchemy_orm": lambda: session.scalars(newest).all(),
        }


@contextmanager
def depth(conns: Conns, owner: Any, depth: int, at: Any) -> Iterator[Sides]:
    """The first page, the keyset page after row `depth`, and OFFSET `depth`."""
    created_at, task_id = at
    cursor = encode_cursor(["created", True, created_at.isoformat(), str(task_id)])
    yield {
        "keyset_first_page": lambda: tasks.list_for_user(conns.dal, owner, sort="created").items,
        "keyset_deep_page": lambda: (
            tasks.list_for_user(conns.dal, owner, sort="created", cursor=cursor).items
        ),
        "offset_deep_page": lambda: conns.naive.execute(
            OFFSET_PAGE, [owner, depth, PAGE]
        ).fetchall(),
    }
