"""The data set the benchmarks run on, how a table's size is judged, and the heavy user.

Profiles. `DAL_BENCH_PROFILE=large` uses the `large` seed profile (50,000 users,
1,000,000 tasks and moods). The default, `ci`, is `large` scaled to a tenth
(`PROFILES["large"].scaled(0.1)`): the same shape (skew, rows per user, per project,
per server) with a tenth of the rows. At that size users, events, project members and
each month of moods hold 1,500-8,000 rows, under the 10,000-row line of the Seq Scan
rule, where at `large` they are far above it.

Production size. The Seq Scan rule judges a table by its size at `large`, not by the
`ci` tenth of it: `production_rows` is the planner's reltuples times the table's
`growth` (its rows at `large` over its rows here, from the seed steps' own counts: x10
for every table but app_config and feature_flags, whose size is fixed; partitions take
their parent's). So a Seq Scan on users fails at `ci` as it would at full size.

Statistics are the ones VACUUM ANALYZE measures; they are deliberately not scaled. We
tried: with PostgreSQL 18's pg_restore_relation_stats / pg_restore_attribute_stats,
reltuples x10 for every growing table, partition and index, and n_distinct x10 for
foreign-key columns. Compared by node types and index names with the same checks on a
loaded `large` data set (133 plans: every case and every task-list shape), measured
statistics gave the `large` plan for 117, the scaled ones for 109 (108 with page costs
x10 as well), and failed checks that pass at `large`: events.search_in_server dropped
its BitmapAnd and read three times the buffers; with page costs x10 too,
importing.project_tasks took a Seq Scan on tasks. The reason: the planner reads a
table's real size in pages and applies reltuples/relpages to it, so inflated reltuples
on `ci`-sized pages make heap pages look ten times denser than they are; relpages
cannot be faked. No plan with measured statistics has a Seq Scan on a table that is
big at `large`, so the rule above holds the `ci` plans to the production bar.

Heavy user. The speed suites' database (`load(..., heavy_user=True)`) also gets one
dedicated user with HEAVY_TASKS tasks, COPYed after the seed, so keyset pagination is
timed at depth KEYSET_DEPTH at any profile (the heaviest seeded owner has about 15,800
tasks at `ci`). The plan-check databases do not: there the heavy user would be a
profile-independent half of tasks, and the seeded shape is the production one.
"""

from __future__ import annotations

import functools
import json
import os
import random
import time
import uuid
from datetime import timedelta
from typing import Any

import psycopg

from dal import seed
from dal.seed import loader
from dal.seed.context import EPOCH, Context, seeded_uuid
from dal.seed.copying import copy_rows
from dal.seed.identity import USER_COLUMNS
from dal.seed.profiles import PROFILES, Profile
from dal.seed.tracking import PRIORITIES, STATUSES, TASK_COLUMNS

KEYSET_DEPTH = 100_000  # rows skipped before the deep page (the depth)
HEAVY_TASKS = KEYSET_DEPTH + 1_000  # the depth, its 50-row page, and some room
HEAVY_EMAIL = "heavy.user@bench.example.com"


def bench_profile() -> Profile:
    name = os.environ.get("DAL_BENCH_PROFILE", "ci")
    return PROFILES["large"].scaled(0.1) if name == "ci" else PROFILES[name]


def load(
    conn: psycopg.Connection[Any],
    profile: Profile,
    *,
    heavy_user: bool = False,
    progress: bool = False,
) -> None:
    """Seed `profile` (and the heavy user), then settle it."""
    seed.PROFILES[profile.name] = profile
    seed.seed(conn, profile.name, progress=progress)
    if heavy_user:
        add_heavy_user(conn)
    settle(conn)


def settle(
    conn: psycopg.Connection[Any], attempts: int = 20, *, index_cleanup: bool = False
) -> None:
    """VACUUM until every page is all-visible, so index-only scans read no heap, as on
    a production table at rest. An autovacuum that started while the seed ran holds an
    old snapshot, and pages VACUUM sees then stay not all-visible: wait it out. With
    `index_cleanup`, dead index entries go too however few pages hold dead rows (VACUUM
    may skip the indexes then)."""
    vacuum = "VACUUM (INDEX_CLEANUP ON, ANALYZE)" if index_cleanup else "VACUUM ANALYZE"
    for _ in range(attempts):
        conn.execute(vacuum)
        lagging = conn.execute(
            """SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relallvisible < c.relpages"""
        ).fetchone()
        if lagging == (0,):
            return
        time.sleep(0.5)


def scale() -> float:
    """How many times bigger than the `ci` data set the benchmark data set is."""
    return bench_profile().tasks / PROFILES["large"].scaled(0.1).tasks


@functools.cache
def growth(profile: Profile) -> dict[str, float]:
    """Per table: its rows at the `large` profile over its rows at `profile`."""

    def rows(of: Profile) -> dict[str, int]:
        counts: dict[str, int] = {}
        for area in loader.AREAS:
            for step in area(Context(of, 42)):
                counts[step.table] = counts.get(step.table, 0) + step.expected_rows
        return counts

    large, here = rows(PROFILES["large"]), rows(profile)
    return {table: large[table] / max(1, here[table]) for table in here}


# Every table and partition of the schema with the table whose growth applies to it
# (the partitioned root for partitions).
_TABLES = """
SELECT c.relname, c.reltuples, root.relname
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_class root ON root.oid = coalesce(pg_partition_root(c.oid), c.oid)
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
"""


def production_rows(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Rows of every table and partition at production (`large` profile) size: the
    planner's reltuples times the table's growth."""
    grow = growth(bench_profile())
    return {
        name: round(max(tuples, 0) * grow.get(root, 1.0))
        for name, tuples, root in conn.execute(_TABLES).fetchall()
    }


def add_heavy_user(conn: psycopg.Connection[Any]) -> uuid.UUID:
    """COPY one user with HEAVY_TASKS tasks of their own (no project), newest a day old."""
    rng = random.Random("dal-bench:heavy-user")
    user_id = seeded_uuid(rng)
    joined = EPOCH - timedelta(days=730)
    user = (
        user_id,
        HEAVY_EMAIL,
        "bench_heavy_user",
        None,
        "Heavy User",
        json.dumps({"tz": "UTC"}),
        "active",
        None,
        None,
        None,
        joined,
        joined,
    )

    def tasks() -> Any:
        for n in range(HEAVY_TASKS):
            created = EPOCH - timedelta(days=1, seconds=n * 300 + rng.uniform(0, 299))
            due = created + timedelta(days=rng.uniform(1, 60)) if rng.random() < 0.6 else None
            yield (
                seeded_uuid(rng),
                user_id,
                None,
                None,
                None,
                None,
                f"Heavy task {n}",
                None,
                rng.choice(STATUSES),
                rng.choice(PRIORITIES),
                due,
                "{}",
                created,
                created + timedelta(hours=rng.uniform(0, 500)),
            )

    with conn.transaction():
        copy_rows(conn, "users", USER_COLUMNS, [user], progress=False)
        copy_rows(conn, "tasks", TASK_COLUMNS, tasks(), progress=False)
    return user_id
