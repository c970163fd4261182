"""Bulk load: the seeder against a raw COPY of the same rows, and against executemany.

The seeder runs in a child process so its peak memory can be read on its own.
Then the rows it wrote are dumped with COPY TO, the tables emptied, and the same
bytes loaded back with a raw COPY FROM: same rows, same tables, same indexes.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from benchmarks import dataset
from dal.config import PROJECT_ROOT
from dal.seed import community, loader
from dal.seed.context import Context
from dal.seed.step import Hook
from dal.testing import create_database, drop_database

SEED_IN_CHILD = """
import json, sys, time
import psycopg
from benchmarks import dataset
from dal import seed
profile = dataset.bench_profile()
seed.PROFILES[profile.name] = profile
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    started = time.perf_counter()
    counts = seed.seed(conn, profile.name, progress=False)
    print(json.dumps({"seconds": time.perf_counter() - started, "counts": counts}))
"""


def _columns() -> dict[str, list[str]]:
    """COPY columns per table, in load order: the seeder's own steps."""
    ctx = Context(dataset.bench_profile(), 42)
    return {step.table: list(step.columns) for area in loader.AREAS for step in area(ctx)}


def _rsvps_after(conn: psycopg.Connection[Any]) -> None:
    """The events' final statuses, set after their answers, as the seeder does."""
    conn.execute(
        "UPDATE events e SET status = s.status FROM bench_event_status s WHERE e.id = s.id"
    )
    conn.execute("ALTER TABLE events ENABLE TRIGGER events_set_updated_at")


# The rows the seeder wrote are final: to load them again through the same triggers
# and checks, the raw load puts the tables in the state the seeder had at that step.
# Events are copied as the seeder copies them, scheduled (a trigger refuses answers to
# other events, and another one makes cancelled and completed final); the statuses they
# end with are kept aside before the tables are emptied and set after the answers.
RAW_HOOKS: dict[str, tuple[Hook, Hook]] = {
    "event_rsvps": (community._rsvps_before, _rsvps_after),
    "survey_responses": (community._responses_before, community._responses_after),
}
AS_SEEDED = {("events", "status"): sql.Literal("scheduled")}  # column values at COPY time


def _copy(table: str, columns: list[str], direction: str) -> sql.Composed:
    """COPY (SELECT columns FROM table) TO STDOUT, or COPY table (columns) FROM STDIN."""
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    if direction == "TO":  # a query: partitioned tables cannot be copied from directly
        values = sql.SQL(", ").join(
            AS_SEEDED.get((table, column), sql.Identifier(column)) for column in columns
        )
        return sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT").format(values, sql.Identifier(table))
    return sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), names)


def test_seeder_against_raw_copy(
    pg_admin: str, template_db: str, bench_meta: dict[str, Any]
) -> None:
    name = "dal_bench_bulk"
    url = create_database(pg_admin, name, template=template_db)
    try:
        seeded, peak_mb = _seed_in_child(url)
        columns = _columns()
        with psycopg.connect(url, autocommit=True) as conn:
            dumps: dict[str, bytes] = {}
            for table, cols in columns.items():
                buffer = io.BytesIO()
                with conn.cursor().copy(_copy(table, cols, "TO")) as copy:
                    for block in copy:
                        buffer.write(block)
                dumps[table] = buffer.getvalue()
            conn.execute(
                "CREATE TEMPORARY TABLE bench_event_status AS "
                "SELECT id, status FROM events WHERE status <> 'scheduled'"
            )
            conn.execute(
                sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                    sql.SQL(", ").join(map(sql.Identifier, loader.table_names(conn)))
                )
            )
            started = time.perf_counter()
            with conn.transaction():
                for table, cols in columns.items():
                    before, after = RAW_HOOKS.get(table, (None, None))
                    if before is not None:
                        before(conn)
                    with conn.cursor().copy(_copy(table, cols, "FROM")) as copy:
                        copy.write(dumps[table])
                    if after is not None:
                        after(conn)
                for table in columns:
                    conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
            raw_seconds = time.perf_counter() - started
            executemany = _executemany_rate(conn, columns["tasks"])
    finally:
        drop_database(pg_admin, name)
    rows = sum(int(n) for n in seeded["counts"].values())
    bench_meta["bulk"] = {
        "rows": rows,
        "seeder_seconds": seeded["seconds"],
        "raw_copy_seconds": raw_seconds,
        "seeder_peak_rss_mb": peak_mb,
        "executemany_rows_per_second": executemany,
    }
    assert raw_seconds > 0
    assert seeded["seconds"] > 0


def _seed_in_child(url: str) -> tuple[dict[str, Any], float]:
    """Seed from a child process; return its report and its own peak RSS in MB."""
    with tempfile.TemporaryFile("w+") as out:
        child = subprocess.Popen(
            [sys.executable, "-c", SEED_IN_CHILD, url],
            cwd=PROJECT_ROOT,
            stdout=out,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        )
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    assert child.returncode == 0, text
    return json.loads(text.strip().splitlines()[-1]), usage.ru_maxrss / 1024  # KiB on Linux


def _executemany_rate(conn: psycopg.Connection[Any], columns: list[str]) -> float:
    """Rows per second of INSERT ... executemany of 5,000 task rows (rolled back)."""
    select = sql.SQL("SELECT {} FROM tasks ORDER BY id LIMIT 5000").format(
        sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    rows = conn.execute(select).fetchall()
    insert = sql.SQL("INSERT INTO tasks ({}) VALUES ({})").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)),
    )
    fresh = [
        # a new id, and no key or parent: the copies must not collide with the originals
        (
            uuid.UUID(int=row[0].int ^ 1),
            row[1],
            row[2],
            None,
            None,
            *row[5:11],
            Jsonb(row[11]),
            *row[12:],
        )
        for row in rows
    ]
    with conn.transaction(force_rollback=True), conn.cursor() as cur:
        started = time.perf_counter()
        cur.executemany(insert, fresh)
        return len(fresh) / (time.perf_counter() - started)
