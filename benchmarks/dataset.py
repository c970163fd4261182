"""The data set plan checks run on, and samples drawn from it.

`DAL_BENCH_PROFILE=large` uses the `large` seed profile (1,000,000 tasks and moods);
the default, `ci`, a tenth of it: big enough that every check table has far more
than 10,000 rows, so the planner picks its production plans.
"""

from __future__ import annotations

import os
import time
from typing import Any

import psycopg

from dal import seed
from dal.seed.profiles import PROFILES, Profile


def bench_profile() -> Profile:
    name = os.environ.get("DAL_BENCH_PROFILE", "ci")
    return PROFILES["large"].scaled(0.1) if name == "ci" else PROFILES[name]


def load(conn: psycopg.Connection[Any], profile: Profile, *, progress: bool = False) -> None:
    seed.PROFILES[profile.name] = profile
    seed.seed(conn, profile.name, progress=progress)
    settle(conn)


def settle(conn: psycopg.Connection[Any], attempts: int = 20) -> None:
    """VACUUM until every page is all-visible, so index-only scans read no heap, as on
    a production table at rest. An autovacuum that started while the seed ran holds an
    old snapshot, and pages VACUUM sees then stay not all-visible: wait it out."""
    for _ in range(attempts):
        conn.execute("VACUUM ANALYZE")
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
