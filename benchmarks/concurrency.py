"""Throughput and latency under concurrency: N threads (sync) or N asyncio tasks
sharing one DAL pool of N connections, against the server's own floor, pgbench -S with
N clients on 2 threads, on the same server.

The DAL's workload is a read-mostly mix, one call at a time per worker: of every ten
calls, four users by id, four tasks by id, one user by email, and one write (a task's
title set to what it is: an UPDATE with its index entries and triggers). pgbench's is a
select-only lookup by key. Each runs for `SECONDS`; every call's latency is kept, and the
results are calls per second and the median and 99th-percentile latency.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from statistics import quantiles
from typing import Any

from dal import aio, tasks, users
from dal.config import Settings
from dal.db import open_pool
from dal.server import bin_dir

SECONDS = 3.0
CLIENTS = (1, 8, 32)


def summary(latencies: list[float], seconds: float) -> dict[str, float]:
    """Calls per second, and the median and 99th percentile latency in microseconds."""
    cuts = quantiles(latencies, n=100, method="inclusive")
    return {
        "per_s": len(latencies) / seconds,
        "p50_us": cuts[49] * 1e6,
        "p99_us": cuts[98] * 1e6,
        "calls": float(len(latencies)),
    }


def _settings(clients: int) -> Settings:
    return Settings(pool_size=clients, max_overflow=0, pool_timeout=30.0)


def _mix(keys: dict[str, Any], worker: int) -> Callable[[Any], tuple[Any, ...]]:
    """The ten calls of one worker's cycle, as (function, *args) tuples for `db`."""
    user_ids = itertools.cycle(keys["user_ids"][worker::7] or keys["user_ids"])
    task_ids = itertools.cycle(keys["task_ids"][worker::7] or keys["task_ids"])
    emails = itertools.cycle(keys["emails"][worker::7] or keys["emails"])
    titles = keys["titles"]
    steps = itertools.cycle(range(10))

    def next_call(area: Any) -> tuple[Any, ...]:
        step = next(steps)
        if step < 4:
            return (area["users"].get, next(user_ids))
        if step < 8:
            return (area["tasks"].get, next(task_ids))
        if step == 8:
            return (area["users"].get_by_email, next(emails))
        task_id = next(task_ids)
        return (area["update"], task_id, titles[task_id])

    return next_call


def _sync_area() -> dict[str, Any]:
    return {
        "users": users,
        "tasks": tasks,
        "update": lambda db, task_id, title: tasks.update(db, task_id, title=title),
    }


def _async_area() -> dict[str, Any]:
    return {
        "users": aio.users,
        "tasks": aio.tasks,
        "update": lambda db, task_id, title: aio.tasks.update(db, task_id, title=title),
    }


def dal_threads(url: str, keys: dict[str, Any], clients: int) -> dict[str, float]:
    """`clients` threads sharing a pool of as many connections, for SECONDS."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    area = _sync_area()
    with open_pool(url, _settings(clients)) as pool:
        start = threading.Barrier(clients + 1)
        stop_at: list[float] = []

        def work(worker: int) -> None:
            calls, mine = _mix(keys, worker), latencies[worker]
            start.wait()
            while time.perf_counter() < stop_at[0]:
                fn, *args = calls(area)
                began = time.perf_counter()
                fn(pool, *args)
                mine.append(time.perf_counter() - began)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        stop_at.append(time.perf_counter() + SECONDS)
        start.wait()
        for thread in threads:
            thread.join()
    return summary([t for mine in latencies for t in mine], SECONDS)


def dal_tasks(url: str, keys: dict[str, Any], clients: int) -> dict[str, float]:
    """`clients` asyncio tasks sharing an async pool of as many connections."""

    async def run() -> list[float]:
        area = _async_area()
        pool = await aio.open_pool(url, _settings(clients))
        try:
            stop_at = time.perf_counter() + SECONDS

            async def work(worker: int) -> list[float]:
                calls, mine = _mix(keys, worker), []
                while time.perf_counter() < stop_at:
                    fn, *args = calls(area)
                    began = time.perf_counter()
                    await fn(pool, *args)
                    mine.append(time.perf_counter() - began)
                return mine

            done = await asyncio.gather(*(work(n) for n in range(clients)))
        finally:
            await pool.close()
        return [t for mine in done for t in mine]

    return summary(asyncio.run(run()), SECONDS)


def pgbench(url: str, clients: int, logs: Path) -> dict[str, float]:
    """pgbench -S -c `clients` -j 2 for SECONDS, its per-transaction log read back."""
    logs.mkdir(parents=True, exist_ok=True)
    for old in logs.glob("pgbench_log*"):
        old.unlink()
    prefix = logs / "pgbench_log"
    done = subprocess.run(
        [str(bin_dir() / "pgbench"), "-S", "-c", str(clients), "-j", str(min(2, clients)),
         "-T", f"{SECONDS:g}", "-n", "-M", "prepared", "-l", f"--log-prefix={prefix}", url],
        check=True, capture_output=True, text=True, cwd=logs,
    )  # fmt: skip
    match = re.search(r"tps = ([\d.]+)", done.stdout)
    assert match, done.stdout
    latencies = [
        int(line.split()[2]) / 1e6  # client, transaction, latency in microseconds, ...
        for path in logs.glob("pgbench_log*")
        for line in path.read_text().splitlines()
        if line.strip()
    ]
    result = summary(latencies, SECONDS)
    result["per_s"] = float(match.group(1))  # pgbench's own count, connections excluded
    return result


def titles_of(conn: Any, task_ids: Sequence[Any]) -> dict[Any, str]:
    """Each task's title, for the mix's write (which sets it unchanged)."""
    rows = conn.execute("SELECT id, title FROM tasks WHERE id = ANY(%s)", [list(task_ids)])
    return dict(rows.fetchall())
