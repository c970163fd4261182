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
    from dal.testing import create_database, drop_database

    name = "dal_bench_speed"
    url = create_database(pg_admin, name, template=template_db)
    with psycopg.connect(url, autocommit=True) as conn:
        dataset.load(conn, dataset.bench_profile(), heavy_user=True)
    yield url
    drop_database(pg_admin, name)


@pytest.fixture(scope="session")
def plan_conn(
    pg_admin: str, template_db: str, bench_meta: dict[str, Any]
) -> Iterator[psycopg.Connection[Any]]:
    """The loaded data set (no dedicated heavy user) that every module reading plans
    shares, loaded once: what they change there (writes, a DROP INDEX) they change in
    transactions rolled back."""
    from benchmarks import dataset
    from dal.testing import create_database, drop_database

    name = "dal_bench_plans"
    url = create_database(pg_admin, name, template=template_db)
    with psycopg.connect(url, autocommit=True) as conn:
        dataset.load(conn, dataset.bench_profile())
        yield conn
    drop_database(pg_admin, name)


@pytest.fixture(scope="session")
def sample(plan_conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """The heavy users, servers and rows the plan checks use (benchmarks.cases)."""
    from benchmarks.cases import sample as draw_sample

    return draw_sample(plan_conn)


@pytest.fixture(scope="session")
def pgbench_url(pg_admin: str) -> Iterator[str]:
    """A database holding pgbench's tables (scale 1), for the server's floor."""
    import subprocess

    from dal.server import bin_dir
    from dal.testing import create_database, drop_database

    name = "dal_bench_pgbench"
    url = create_database(pg_admin, name)
    pgbench = str(bin_dir() / "pgbench")
    subprocess.run([pgbench, "-i", "-s", "1", "-q", url], check=True, capture_output=True)
    yield url
    drop_database(pg_admin, name)


@pytest.fixture(scope="session")
def speed_keys(speed_url: str) -> dict[str, Any]:
    """Keys the lookups cycle through: 2,000 users (id and email) and 2,000 task ids."""
    with psycopg.connect(speed_url) as conn:
        users = conn.execute("SELECT id, email FROM users ORDER BY id LIMIT 2000").fetchall()
        tasks = conn.execute("SELECT id FROM tasks ORDER BY id LIMIT 2000").fetchall()
    return {
        "user_ids": [r[0] for r in users],
        "emails": [r[1] for r in users],
        "task_ids": [r[0] for r in tasks],
    }


@pytest.fixture(scope="session")
def heavy(speed_url: str, bench_meta: dict[str, Any]) -> dict[str, Any]:
    """The data set's dedicated heavy user and the row at keyset depth KEYSET_DEPTH."""
    from benchmarks import dataset
    from benchmarks.sides import PAGE

    depth = dataset.KEYSET_DEPTH
    with psycopg.connect(speed_url) as conn:
        row = conn.execute(
            "SELECT u.id, count(*) FROM users u JOIN tasks t ON t.owner_id = u.id "
            "WHERE u.email = %s GROUP BY u.id",
            [dataset.HEAVY_EMAIL],
        ).fetchone()
        assert row is not None
        owner, count = row
        assert count >= depth + PAGE, f"the heavy user has {count:,} tasks"
        # The last row skipped (the deep keyset page starts after it) and the first row shown.
        edge = conn.execute(
            "SELECT created_at, id FROM tasks WHERE owner_id = %s "
            "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 2",
            [owner, depth - 1],
        ).fetchall()
    assert len(edge) == 2
    bench_meta["keyset_depth"] = depth
    bench_meta["heavy_user_tasks"] = int(count)
    return {"owner": owner, "depth": depth, "at": edge[0], "first_id": edge[1][1]}


@pytest.fixture(scope="module")
def pinned(pg_admin: str, bench_meta: dict[str, Any]) -> Iterator[str]:
    """Client and server pinned to one core for a timing module (benchmarks.pinning).
    Connections opened inside it get the server's placement."""
    from benchmarks import pinning

    with pinning.pinned(pg_admin, one_core=True) as placement:
        yield placement


@pytest.fixture
def speed_conns(speed_url: str) -> Iterator[Any]:
    """The DAL's connection (set up as its pool's are) and naive psycopg's plain one,
    both in autocommit, placed by the scheduler as a service's are."""
    from benchmarks import sides

    with sides.connections(speed_url) as conns:
        yield conns


@pytest.fixture(scope="session")
def paired() -> Iterator[dict[str, Any]]:
    """Medians of the sides timed in turn (benchmarks/paired.py) by "group" and side,
    written to .results/paired.json when the session ends."""
    results: dict[str, Any] = {}
    yield results
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "paired.json").write_text(json.dumps(results, indent=2))
