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

from benchmarks import paired, peers
from dal import observe, tasks, users
from dal.acting import acting_as
from dal.config import Roles, Settings
from dal.db import open_connection, open_pool, transaction
from dal.pagination import encode_cursor

Sides = dict[str, Callable[[], Any]]
PAGE = 50

NAIVE_USER_BY_EMAIL = "SELECT * FROM users WHERE lower(email) = lower(%s)"
NAIVE_USER_BY_ID = "SELECT * FROM users WHERE id = %s"
NAIVE_TASK = "SELECT * FROM tasks WHERE id = %s"
NAIVE_PAGE = "SELECT * FROM tasks WHERE owner_id = %s ORDER BY created_at DESC, id DESC LIMIT %s"
NAIVE_ANY = "SELECT * FROM users WHERE id = ANY(%s)"
MANY = 50  # ids per get_many
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


@contextmanager
def get_many(conns: Conns, url: str, ids: Sequence[Any], *, area: Any) -> Iterator[Sides]:
    """50 rows by id: one `get_many`, a loop of 50 `get`s (the per-id time is either
    over 50); for users also naive `= ANY(%s)` unprepared, where planning 50 ids
    dominated."""
    chunks = [list(ids[i : i + MANY]) for i in range(0, len(ids) - MANY + 1, MANY)]
    many, loop, naive = (_keys(chunks) for _ in range(3))
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as unprepared:
        run: Sides = {
            "get_many": lambda: area.get_many(conns.dal, many()).rows,
            "loop": lambda: [area.get(conns.dal, i) for i in loop()],
        }
        if area is users:
            run["any_unprepared"] = lambda: unprepared.execute(NAIVE_ANY, [naive()]).fetchall()
        yield run


@contextmanager
def _observation_off() -> Iterator[None]:
    """The seam's two observation hooks (dal.observe) as no-ops, for the block."""
    span, finished = observe.span, observe.finished
    observe.span = lambda query, conn: observe._NO_SPAN
    observe.finished = lambda *args: None
    try:
        yield
    finally:
        observe.span, observe.finished = span, finished


def seam(conns: Conns, ids: Sequence[Any]) -> dict[str, paired.Timed]:
    """A user by id through the DAL with its seam's logging and tracing (the logger
    at WARNING, no OpenTelemetry SDK) and with both hooks switched off."""
    with_hooks, without = _keys(ids), _keys(ids)
    plain_run = paired.timed(lambda: users.get(conns.dal, with_hooks()))
    bare = paired.timed(lambda: users.get(conns.dal, without()))

    def run_without(n: int) -> float:
        with _observation_off():
            return bare(n)

    return {"with_observation": plain_run, "without_observation": run_without}


@contextmanager
def rollbacks(url: str, keys: dict[str, Any], thresholds: Sequence[int]) -> Iterator[Sides]:
    """A service's mix: 16 calls (lookups by id and email, a short page), then a
    transaction of two lookups that commits, or rolls back (psycopg then forgets its
    prepared statements and sends DEALLOCATE ALL): one failed transaction in 18
    calls, a pessimistic error rate. For each prepare threshold."""
    owner = keys["owner"]
    with ExitStack() as stack:
        run: Sides = {}
        for threshold in thresholds:
            for outcome in (
                "commit",
                "rollback",
            ):  # a connection each: psycopg's cache is per connection
                conn = stack.enter_context(
                    open_connection(url, Settings(prepare_threshold=threshold), autocommit=True)
                )
                user_ids, emails, task_ids = (
                    _keys(keys[k]) for k in ("user_ids", "emails", "task_ids")
                )
                run[f"{outcome}_threshold_{threshold}"] = _mix(
                    conn, owner, user_ids, emails, task_ids, fail=outcome == "rollback"
                )
        yield run


class _Rollback(Exception):
    pass


def _mix(
    conn: psycopg.Connection[Any],
    owner: Any,
    user_ids: Callable[[], Any],
    emails: Callable[[], Any],
    task_ids: Callable[[], Any],
    *,
    fail: bool,
) -> Callable[[], Any]:
    def calls() -> Any:
        for _ in range(4):
            users.get(conn, user_ids())
            users.get_by_email(conn, emails())
            tasks.get(conn, task_ids())
            tasks.list_for_user(conn, owner, sort="created", limit=10)
        try:
            with transaction(conn):
                found = users.get(conn, user_ids())
                tasks.get(conn, task_ids())
                if fail:
                    raise _Rollback
        except _Rollback:
            pass
        return found

    return calls


@contextmanager
def row_level_security(url: str, owner: Any, task_ids: Sequence[Any]) -> Iterator[Sides]:
    """A task by id through the DAL, as a superuser connects (no policy applies, no
    acting user is sent) and as the application role acting for the task's owner:
    the policies' quals, and the acting user pipelined with each query."""
    app_url = psycopg.conninfo.make_conninfo(url, user=Roles.app)
    with (
        open_connection(url, Settings(), autocommit=True) as superuser,
        open_connection(app_url, Settings(), autocommit=True) as app,
    ):
        bypassing, acting = _keys(task_ids), _keys(task_ids)

        def as_the_owner() -> Any:
            with acting_as(owner):
                return tasks.get(app, acting())

        yield {"without": lambda: tasks.get(superuser, bypassing()), "with": as_the_owner}
