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
