"""Schema migrations: yoyo-migrations over `migrations/*.sql`, with guard rails.

Beyond what yoyo does, this module
- refuses to run when the database has migrations the code does not know
  (the database is ahead of the code);
- records a sha256 of each applied migration file and refuses to run when an
  applied file was edited since (drift), naming the file;
- holds a PostgreSQL advisory lock so two `dal migrate` runs cannot interleave;
- sets `lock_timeout` on the migration connection so DDL waiting behind a busy
  table fails fast instead of queueing every query behind it;
- passes the names of the three roles (`dal.config.Roles`) to the migrations as the
  settings ``dal.owner_role``, ``dal.app_role`` and ``dal.readonly_role``, and applies
  each migration as the owner role once it exists (``SET ROLE``), so that every object
  is the owner's and the owner's default privileges grant it to the other two.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from dal.arguments import checked
from dal.config import Roles, checkout_for, describe, packaged, source_checkout
from dal.db import connect
from dal.errors import DalError, MigrationError, translate

MIGRATION_TABLE = "_yoyo_migration"
CHECKSUM_TABLE = "dal_migration_checksums"
_MIGRATIONS = sql.Identifier(MIGRATION_TABLE)
_CHECKSUMS = sql.Identifier(CHECKSUM_TABLE)
# Tables owned by the migration machinery rather than by the schema.
BOOKKEEPING_TABLES = (MIGRATION_TABLE, "_yoyo_log", "_yoyo_version", "yoyo_lock", CHECKSUM_TABLE)

_LOCK_KEY = 7_310_582_114  # arbitrary, stable: the advisory lock that serialises migrations

Printer = Callable[[str], None]


@checked
def default_directory() -> Path:
    """The migrations: inside the installed package, else the checkout's `migrations/`."""
    found = packaged("_migrations")
    if found is None and (root := source_checkout()) is not None:
        found = root / "migrations"
    if found is None or not found.is_dir():
        raise FileNotFoundError("the migrations are missing from the package")
    return found


@dataclass(frozen=True)
class MigrationState:
    """One migration file and whether (and how) it is applied."""

    id: str
    path: Path
    applied_at: datetime | None
    drifted: bool

    @property
    def applied(self) -> bool:
        return self.applied_at is not None


@checked
def checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_migrations(directory: Path) -> Any:
    from yoyo import read_migrations

    if not directory.is_dir():
        raise MigrationError(f"migrations directory {directory} does not exist")
    return read_migrations(str(directory))


# How often a migration's backend looks whether its client is still there (PostgreSQL
# 14 and later). A `dal migrate` killed mid-migration would otherwise leave its backend
# running the migration on, holding its locks until the statement ends: a long index
# build or a wait behind a lock could block the rerun and the application.
CLIENT_CHECK_MS = 1000


def _backend(
    conninfo: str, lock_timeout_ms: int, server_version: int, roles: Roles, *, as_owner: bool
) -> Any:
    """A yoyo backend whose connections come from our conninfo (sockets, sslmode...).

    yoyo runs each migration on a connection of its own (`copy`). With `as_owner`, each
    connection made once the owner role has this database takes that role (`_owner_ready`),
    so the objects a migration creates are the owner's. A rollback runs as the role
    connected: the rollback of 0038 gives the owner's objects back to it."""
    from yoyo.backends.core.postgresql import PostgresqlPsycopgBackend
    from yoyo.connections import parse_uri

    parts = psycopg.conninfo.conninfo_to_dict(conninfo)
    options = f"{parts.get('options') or ''} -c lock_timeout={lock_timeout_ms} "
    options += "-c statement_timeout=0"
    options += f" -c dal.owner_role={roles.owner} -c dal.app_role={roles.app}"
    options += f" -c dal.readonly_role={roles.readonly}"
    if server_version >= 140000:
        options += f" -c client_connection_check_interval={CLIENT_CHECK_MS}"

    class Backend(PostgresqlPsycopgBackend):  # type: ignore[misc]
        def connect(self, dburi: Any) -> psycopg.Connection[Any]:
            conn = connect(conninfo, autocommit=True, options=options.strip())
            if as_owner and _owner_ready(conn, roles.owner):
                conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(roles.owner)))
            return conn

        def copy(self) -> Backend:
            return Backend(self.uri, self.migration_table)

    backend = Backend(parse_uri("postgresql+psycopg://dal/dal"), MIGRATION_TABLE)
    backend.init_database()
    return backend


@contextmanager
def _bookkeeping_errors() -> Iterator[None]:
    """Errors of the migration machinery itself (not of a migration) as MigrationError."""
    try:
        yield
    except psycopg.Error as exc:
        err = translate(exc)
        raise MigrationError(
            f"cannot read or record migrations: {err.message}", sqlstate=err.sqlstate
        ) from exc


@contextmanager
def _session(
    conninfo: str, lock_timeout_ms: int, roles: Roles, *, as_owner: bool = False
) -> Iterator[Any]:
    """Hold the migration advisory lock and a yoyo backend for the block."""
    with _bookkeeping_errors(), connect(conninfo, autocommit=True) as guard:
        got = guard.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK_KEY]).fetchone()
        if not got or not got[0]:
            raise MigrationError(
                f"another `dal migrate` or `dal rollback` is running on {describe(conninfo)}; "
                "wait for it to finish, then run this again"
            )
        _owner_ready(guard, roles.owner)  # before yoyo, whose first steps would fail obscurely
        backend = _backend(
            conninfo, lock_timeout_ms, guard.info.server_version, roles, as_owner=as_owner
        )
        try:
            _ensure_checksum_table(backend.connection)
            yield backend
        finally:
            backend.connection.close()
            guard.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])


def _owner_ready(conn: psycopg.Connection[Any], owner: str) -> bool:
    """Whether migration 0038 has given this database to the owner role (which then owns
    the migration bookkeeping; roles are the cluster's, so the role alone may exist).

    A session that is neither the owner nor a member of it (nor a superuser) would
    create objects the owner's default privileges do not cover: refused."""
    row = conn.execute(
        "SELECT pg_has_role(session_user, r.oid, 'MEMBER') FROM pg_roles r"
        " JOIN pg_class c ON c.relowner = r.oid"
        " WHERE r.rolname = %s AND c.oid = to_regclass(%s)",
        [owner, MIGRATION_TABLE],
    ).fetchone()
    if row is not None and not row[0]:
        raise MigrationError(
            f"migrations must run as the owner role {owner!r} or a member of it, not as "
            f"{conn.info.user!r}: the objects they create would not be granted to the "
            "application (connect as the owner: MIGRATIONS_DATABASE_URL)"
        )
    return row is not None


def _ensure_checksum_table(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        sql.SQL(
            """CREATE TABLE IF NOT EXISTS {} (
                migration_id text PRIMARY KEY,
                sha256 text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())"""
        ).format(_CHECKSUMS)
    )


def _applied(conn: psycopg.Connection[Any]) -> dict[str, tuple[datetime, str | None]]:
    """Applied migration id -> (applied at, recorded sha256)."""
    found = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL, to_regclass(%s) IS NOT NULL",
        [MIGRATION_TABLE, CHECKSUM_TABLE],
    ).fetchone()
    if found is None or not found[0]:
        return {}
    sums = sql.SQL("(SELECT c.sha256 FROM {} c WHERE c.migration_id = m.migration_id)")
    query = sql.SQL("SELECT m.migration_id, m.applied_at_utc, {} FROM {} m").format(
        sums.format(_CHECKSUMS) if found[1] else sql.NULL, _MIGRATIONS
    )
    rows = conn.execute(query).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def _check(
    migrations: Any, applied: dict[str, tuple[datetime, str | None]], *, drift: bool = True
) -> None:
    """Refuse a database that is ahead of the code, or (with `drift`) whose files changed."""
    known = {m.id: Path(m.path) for m in migrations}
    unknown = sorted(set(applied) - set(known))
    if unknown:
        raise MigrationError(
            f"the database has {len(unknown)} migration(s) this code does not have "
            f"({', '.join(unknown)}): it is ahead of the code; deploy the newer code "
            "or roll those back with it"
        )
    for mid, (_, recorded) in sorted(applied.items()):
        if drift and recorded is not None and recorded != checksum(known[mid]):
            raise MigrationError(
                f"migration {known[mid].name} was edited after it was applied (sha256 differs); "
                "restore the applied version and put the change in a new migration"
            )


_RECORD = sql.SQL(
    "INSERT INTO {} (migration_id, sha256) VALUES (%s, %s) "
    "ON CONFLICT (migration_id) DO UPDATE SET sha256 = EXCLUDED.sha256, applied_at = now()"
).format(_CHECKSUMS)
_FORGET = sql.SQL("DELETE FROM {} WHERE migration_id = %s").format(_CHECKSUMS)


def _record(conn: psycopg.Connection[Any], migrations: Any) -> None:
    """Record checksums for applied migrations that have none (adopts older databases)."""
    applied = _applied(conn)
    for m in migrations:
        if m.id in applied and applied[m.id][1] is None:
            conn.execute(_RECORD, [m.id, checksum(Path(m.path))])


@checked
def status(conninfo: str, directory: Path | None = None) -> list[MigrationState]:
    """Every migration file, in order, with whether it is applied and unchanged."""
    migrations = _read_migrations(directory or default_directory())
    with _bookkeeping_errors(), connect(conninfo, autocommit=True) as conn:
        applied = _applied(conn)
    _check(migrations, applied, drift=False)
    states = []
    for m in migrations:
        at, recorded = applied.get(m.id, (None, None))
        drifted = recorded is not None and recorded != checksum(Path(m.path))
        states.append(MigrationState(m.id, Path(m.path), at, drifted))
    return states


@checked
def head(conninfo: str, directory: Path | None = None) -> str | None:
    """The id of the last applied migration, or None on an empty database."""
    applied = [s for s in status(conninfo, directory) if s.applied]
    return applied[-1].id if applied else None


@checked
def migrate(
    conninfo: str,
    *,
    directory: Path | None = None,
    lock_timeout_ms: int = 5000,
    dry_run: bool = False,
    echo: Printer | None = None,
    roles: Roles | None = None,
) -> list[str]:
    """Apply every pending migration in order; return their ids.

    With `dry_run`, print the SQL that would run and change nothing. `roles` names the
    roles migration 0038 creates and grants to.
    """
    say = echo or (lambda _line: None)
    migrations = _read_migrations(directory or default_directory())
    if dry_run:
        applied = _read_only_applied(conninfo, migrations)
        pending = [m for m in topological_sort(migrations) if m.id not in applied]
        for m in pending:
            say(render(Path(m.path)))
        return [m.id for m in pending]
    with _session(conninfo, lock_timeout_ms, roles or Roles(), as_owner=True) as backend:
        _check(migrations, _applied(backend.connection))
        _record(backend.connection, migrations)
        pending = backend.to_apply(migrations)
        for m in pending:
            say(f"applying {m.id}")
            _run_step(backend.apply_one, m)
            backend.connection.execute(_RECORD, [m.id, checksum(Path(m.path))])
        return [m.id for m in pending]


@checked
def rollback(
    conninfo: str,
    *,
    count: int = 1,
    directory: Path | None = None,
    lock_timeout_ms: int = 5000,
    dry_run: bool = False,
    echo: Printer | None = None,
    roles: Roles | None = None,
) -> list[str]:
    """Roll back the last `count` applied migrations, newest first; return their ids.

    They run as the role connected, which must be able to undo them (the owner, or a
    superuser: the rollback of 0038 gives the owner's objects back to that role)."""
    if count < 1:
        raise MigrationError("count must be at least 1")
    say = echo or (lambda _line: None)
    migrations = _read_migrations(directory or default_directory())
    if dry_run:
        applied = _read_only_applied(conninfo, migrations)
        newest_first = reversed(list(topological_sort(migrations)))
        chosen = [m for m in newest_first if m.id in applied][:count]
        for m in chosen:
            say(render(Path(m.path).with_suffix(".rollback.sql")))
        return [m.id for m in chosen]
    with _session(conninfo, lock_timeout_ms, roles or Roles()) as backend:
        _check(migrations, _applied(backend.connection))
        chosen = list(backend.to_rollback(migrations))[:count]
        for m in chosen:
            say(f"rolling back {m.id}")
            _run_step(backend.rollback_one, m)
            backend.connection.execute(_FORGET, [m.id])
        return [m.id for m in chosen]


@checked
def topological_sort(migrations: Any) -> Any:
    """Migrations in the order yoyo applies them (by their `depends:`)."""
    from yoyo.migrations import topological_sort as sort

    return sort(migrations)


def _read_only_applied(conninfo: str, migrations: Any) -> set[str]:
    """Applied migration ids, read without the lock or creating any table (--dry-run)."""
    with _bookkeeping_errors(), connect(conninfo, autocommit=True) as conn:
        applied = _applied(conn)
    _check(migrations, applied)
    return set(applied)


def _run_step(step: Callable[[Any], object], migration: Any) -> None:
    migration_id = migration.id
    try:
        step(migration)
    except psycopg.Error as exc:
        err = translate(exc)
        raise MigrationError(
            f"migration {migration_id} failed: {err.message}",
            constraint=err.constraint,
            sqlstate=err.sqlstate,
        ) from exc
    except DalError:
        raise


@checked
def render(path: Path) -> str:
    """The statements of one migration file, as `--dry-run` prints them."""
    from yoyo.migrations import read_sql_migration

    _, _, statements = read_sql_migration(str(path))
    # A rollback runs as its migration does: yoyo reads the directives of the forward file.
    forward = path.with_name(path.name.removesuffix(".rollback.sql").removesuffix(".sql") + ".sql")
    directives, _, _ = read_sql_migration(str(forward))
    mode = "non-transactional" if directives.get("transactional") == "false" else "transactional"
    body = "\n".join(s.strip().rstrip(";") + ";" for s in statements)
    return f"-- {path.name} ({mode})\n{body}\n"


_NEW_NAME = re.compile(r"^[a-z][a-z0-9_]{1,60}$")


def _header(name: str, depends: str, transactional: bool) -> str:
    lines = [
        f"-- {name.replace('_', ' ').capitalize()}",
        "--",
        "-- Why: <what this migration is for, and why it is safe on a live database>",
        f"-- depends: {depends}",
    ]
    if transactional:
        lines += ["", "SET LOCAL lock_timeout = '5s';", "SET LOCAL statement_timeout = '60s';", ""]
    else:
        lines += [
            "-- transactional: false",
            "-- Runs outside a transaction (CREATE INDEX CONCURRENTLY): keep it to one index.",
            "",
            "SET lock_timeout = '5s';",
            "",
        ]
    return "\n".join(lines) + "\n"


@checked
def new(
    name: str, *, directory: Path | None = None, transactional: bool = True
) -> tuple[Path, Path]:
    """Create the next `NNNN_name.sql` and its `.rollback.sql`; return both paths."""
    if not _NEW_NAME.match(name):
        raise MigrationError(
            f"migration name {name!r} must be lower_snake_case letters, digits and underscores"
        )
    folder = directory or checkout_for("dal new") / "migrations"
    existing = sorted(
        p for p in folder.glob("[0-9][0-9][0-9][0-9]_*.sql") if not p.name.endswith(".rollback.sql")
    )
    number = int(existing[-1].name[:4]) + 1 if existing else 1
    stem = f"{number:04d}_{name}"
    forward, backward = folder / f"{stem}.sql", folder / f"{stem}.rollback.sql"
    if forward.exists() or backward.exists():
        raise MigrationError(f"{forward.name} already exists")
    depends = existing[-1].stem if existing else ""
    forward.write_text(_header(name, depends, transactional), encoding="utf-8")
    set_timeouts = "SET LOCAL" if transactional else "SET"
    backward.write_text(
        f"-- Rollback of {stem}: undo its statements, newest first.\n\n"
        f"{set_timeouts} lock_timeout = '5s';\n",
        encoding="utf-8",
    )
    return forward, backward
