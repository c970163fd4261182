"""Faults injected into a real server the tests own (tests/owned_server.py): restarts,
kills, read-only servers and a failover to a promoted standby.

Each test is bounded in seconds. What was injected and what was observed is written to
docs/RELIABILITY.md, kept in step with these tests.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

import dal
from dal import migrate, users
from dal.config import Settings
from tests.owned_server import OwnedServer

pytestmark = pytest.mark.reliability


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnedServer]:
    owned = OwnedServer(tmp_path_factory.mktemp("owned")).init()
    owned.start()
    migrate.migrate(owned.conninfo)
    yield owned
    owned.stop("immediate")


def _calls_after(pool: Any, count: int) -> list[float]:
    """`count` DAL calls in a row; the seconds each took."""
    took = []
    for _ in range(count):
        started = time.monotonic()
        users.count(pool)
        took.append(time.monotonic() - started)
    return took


@pytest.mark.parametrize("how", ["restart", "kill -9", "terminate"])
def test_a_pool_whose_idle_connections_all_died_serves_the_next_call(
    server: OwnedServer, how: str
) -> None:
    # The documented defaults: 10 connections, 30 s pool timeout.
    pool = dal.open_pool(server.conninfo, Settings())
    try:
        users.count(pool)
        time.sleep(1.2)  # every connection idle, none lent a moment ago
        if how == "restart":
            server.restart()
        elif how == "kill -9":
            server.kill9()
            server.start()  # crash recovery, then accepting connections again
        else:
            with psycopg.connect(server.conninfo, autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = 'dal' AND pid <> pg_backend_pid()"
                )
        # The next call, and every one after it, succeeds: no pool timeout, no error.
        took = _calls_after(pool, 20)
        assert pool.get_stats()["pool_size"] >= 1
        first, later = took[0] * 1000, max(took[1:]) * 1000
        print(f"{how}: first call {first:.0f} ms, slowest later {later:.0f} ms")
    finally:
        pool.close()
