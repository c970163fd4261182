"""Throughput under concurrency (benchmarks/concurrency.py): the DAL's pool shared by
N threads and by N asyncio tasks, against pgbench -S -c N -j 2 on the same server, for
N in 1, 8 and 32. Client and server are placed by the scheduler, as a service's are.
The figures go to the report (and the README's pool-sizing advice); nothing here
asserts a time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from benchmarks import concurrency


@pytest.fixture(scope="module")
def mix_keys(speed_url: str, speed_keys: dict[str, Any]) -> dict[str, Any]:
    with psycopg.connect(speed_url) as conn:
        titles = concurrency.titles_of(conn, speed_keys["task_ids"])
    return speed_keys | {"titles": titles}


@pytest.mark.parametrize("clients", concurrency.CLIENTS)
def test_throughput_against_the_floor(
    clients: int,
    *,
    speed_url: str,
    pgbench_url: str,
    mix_keys: dict[str, Any],
    bench_meta: dict[str, Any],
    tmp_path: Path,
) -> None:
    sides = {
        "pgbench": concurrency.pgbench(pgbench_url, clients, tmp_path),
        "dal_threads": concurrency.dal_threads(speed_url, mix_keys, clients),
        "dal_tasks": concurrency.dal_tasks(speed_url, mix_keys, clients),
    }
    for side, result in sides.items():
        assert result["calls"] > 0, side
    bench_meta.setdefault("concurrency", {})[str(clients)] = sides
