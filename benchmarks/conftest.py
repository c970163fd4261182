import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

pytest_plugins = ["tests.fix_db"]

RESULTS = Path(__file__).parent / ".results"


@pytest.fixture(scope="session")
def bench_meta(pg_admin: str) -> Iterator[dict[str, Any]]:
    """Facts for the report (server, data set, floor), written when the session ends."""
    from benchmarks import dataset

    with psycopg.connect(pg_admin) as conn:
        version = conn.execute("SHOW server_version").fetchone()
    profile = dataset.bench_profile()
    meta: dict[str, Any] = {
        "server_version": version[0] if version else "?",
        "profile": profile.name,
        "rows": f"{profile.users:,} users, {profile.tasks:,} tasks, {profile.moods:,} moods",
    }
    yield meta
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "meta.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps(old | meta, indent=2))


@pytest.fixture(scope="session")
def speed_url(pg_admin: str, template_db: str) -> Iterator[str]:
    """One loaded database shared by the speed suites, with the dedicated heavy user
    whose tasks reach keyset depth 100,000 (benchmarks.dataset)."""
    from benchmarks import dataset
    from tests.fix_db import create_database, drop_database

    name = "dal_bench_speed"
    url = create_database(pg_admin, name, template=template_db)
    with psycopg.connect(url, autocommit=True) as conn:
        dataset.load(conn, dataset.bench_profile(), heavy_user=True)
    yield url
    drop_database(pg_admin, name)
