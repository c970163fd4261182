"""The data set plan checks run on, and samples drawn from it.

`DAL_BENCH_PROFILE=large` uses the `large` seed profile (1,000,000 tasks and moods);
the default, `ci`, a tenth of it: big enough that every check table has far more
than 10,000 rows, so the planner picks its production plans.
"""

from __future__ import annotations

import os
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
    conn.execute("VACUUM ANALYZE")  # all-visible pages: index-only scans as in production


def scale() -> float:
    """How many times bigger than the `ci` data set the benchmark data set is."""
    return bench_profile().tasks / PROFILES["large"].scaled(0.1).tasks
