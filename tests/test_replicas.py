"""Read replicas against a real streaming replica (dal.aio.replicas, dal.routing).

The tests own a primary and a standby made from it with pg_basebackup -R. Pausing
the standby's WAL replay makes it visibly behind: a write made on the primary by
someone else (plain SQL) is not there yet, so a read that returns the old row came
from the replica, and one that returns the new row came from the primary.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

import dal
import dal.aio.replicas
import dal.aio.users
import dal.replicas
import dal.users
from dal import routing
from dal.config import Settings
from dal.db import Pool
from dal.errors import ConfigError, InvalidData
from tests.owned_server import OwnedServer, migrated

pytestmark = pytest.mark.reliability


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OwnedServer, OwnedServer]]:
    root = tmp_path_factory.mktemp("replicas")
    primary = migrated(root / "primary")
    standby = OwnedServer(root / "standby").standby_of(primary)
    standby.start()
    yield primary, standby
    standby.stop("immediate")
    primary.stop("immediate")


@pytest.fixture
def standby_running(pair: tuple[OwnedServer, OwnedServer]) -> Iterator[OwnedServer]:
    """The standby, up and replaying, for this test and after it."""
    _, standby = pair
    if not standby.accepts():
        standby.start()
    _replay(standby, "resume")
    yield standby
    if not standby.accepts():
        standby.start()
    _replay(standby, "resume")


def _replay(standby: OwnedServer, what: str) -> None:
    with psycopg.connect(standby.conninfo, autocommit=True) as conn:
        conn.execute(f"SELECT pg_wal_replay_{what}()")  # what: a literal of this file


def _caught_up(primary: OwnedServer, standby: OwnedServer) -> None:
    with psycopg.connect(primary.conninfo, autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    target = routing.parse_lsn(row[0])
    deadline = time.monotonic() + 30
    with psycopg.connect(standby.conninfo, autocommit=True) as conn:
        while True:
            got = conn.execute("SELECT pg_last_wal_replay_lsn()::text").fetchone()
            if got and got[0] and routing.parse_lsn(got[0]) >= target:
                return
            assert time.monotonic() < deadline, "the standby did not catch up"
            time.sleep(0.05)


def _settings(standby: OwnedServer, **kw: Any) -> Settings:
    return Settings(pool_size=2, max_overflow=0, replica_urls=(standby.conninfo,), **kw)


def _behind_the_dal(primary: OwnedServer, user_id: Any, name: str) -> None:
    """Another client's write on the primary: it sets no position for this caller."""
    with psycopg.connect(primary.conninfo, autocommit=True) as conn:
        conn.execute("UPDATE users SET display_name = %s WHERE id = %s", [name, user_id])


@pytest.fixture
def pool(pair: tuple[OwnedServer, OwnedServer], standby_running: OwnedServer) -> Iterator[Pool]:
    primary, _ = pair
    opened = dal.open_pool(primary.conninfo, _settings(standby_running))
    yield opened
    opened.close()


def _new_user(pool: Pool, name: str) -> dal.users.User:
    with routing.on_primary():
        return dal.users.create(pool, email=f"{name}@example.com", username=name)


def _paused_after_new_user(
    pool: Pool, pair: tuple[OwnedServer, OwnedServer], name: str
) -> dal.users.User:
    """A new user the standby has replayed, and the standby's replay paused after it."""
    primary, standby = pair
    user = _new_user(pool, name)
    _caught_up(primary, standby)
    _replay(standby, "pause")
    return user


def test_a_read_routed_per_call_runs_on_the_replica(
    pair: tuple[OwnedServer, OwnedServer], pool: Pool
) -> None:
    primary, _ = pair
    user = _paused_after_new_user(pool, pair, "replica_one")
    _behind_the_dal(primary, user.id, "changed")
    with dal.on_replica():
        assert dal.users.get(pool, user.id).display_name is None  # the replica: behind
        with dal.on_primary():
            assert dal.users.get(pool, user.id).display_name == "changed"
    assert dal.users.get(pool, user.id).display_name == "changed"  # not routed: primary


def test_a_callers_own_write_is_read_back_whatever_the_replica_lags(
    pair: tuple[OwnedServer, OwnedServer], pool: Pool
) -> None:
    primary, standby = pair
    user = _paused_after_new_user(pool, pair, "replica_two")
    with dal.on_replica():
        dal.users.update(pool, user.id, display_name="mine")  # a write: on the primary
        assert dal.routing.written_at() is not None
        assert dal.users.get(pool, user.id).display_name == "mine"  # replica behind it
        _replay(standby, "resume")
        _caught_up(primary, standby)
        _replay(standby, "pause")
        _behind_the_dal(primary, user.id, "theirs")
        # The replica replayed the caller's write: it serves the caller again.
        assert dal.users.get(pool, user.id).display_name == "mine"


def test_a_write_inside_a_transaction_is_waited_for_from_its_commit(
    pair: tuple[OwnedServer, OwnedServer], pool: Pool
) -> None:
    user = _paused_after_new_user(pool, pair, "replica_tx")
    with dal.transaction(pool) as tx:
        dal.users.update(tx, user.id, display_name="in a transaction")
    with dal.on_replica():
        assert dal.users.get(pool, user.id).display_name == "in a transaction"


def test_a_position_carried_to_another_request(
    pair: tuple[OwnedServer, OwnedServer], pool: Pool
) -> None:
    primary, _ = pair
    user = _paused_after_new_user(pool, pair, "replica_carry")
    with psycopg.connect(primary.conninfo, autocommit=True) as conn:
        conn.execute("UPDATE users SET display_name = 'elsewhere' WHERE id = %s", [user.id])
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    with dal.on_replica():
        assert dal.users.get(pool, user.id).display_name is None
        with dal.read_after(row[0]):
            assert dal.users.get(pool, user.id).display_name == "elsewhere"


def test_per_function_routing_by_query_name(
    pair: tuple[OwnedServer, OwnedServer], standby_running: OwnedServer
) -> None:
    primary, standby = pair
    settings = _settings(standby, replica_queries=frozenset({"users.get_by_id"}))
    with dal.open_pool(primary.conninfo, settings) as pool:
        user = _paused_after_new_user(pool, pair, "replica_three")
        _behind_the_dal(primary, user.id, "changed")
        assert dal.users.get(pool, user.id).display_name is None  # routed by name
        assert dal.users.get_by_email(pool, user.email).display_name == "changed"  # not
        with dal.on_primary():
            assert dal.users.get(pool, user.id).display_name == "changed"


@pytest.mark.parametrize(
    ("queries", "message"),
    [
        ("users.nope", "names no query 'users.nope'"),
        ("users.update", "users.update writes"),
        ("servers.lock_by_id", "servers.lock_by_id writes"),  # FOR UPDATE: the primary's
    ],
)
def test_routing_a_write_or_an_unknown_query_is_refused(
    pair: tuple[OwnedServer, OwnedServer], standby_running: OwnedServer, queries: str, message: str
) -> None:
    primary, _ = pair
    with pytest.raises(ConfigError, match=message):
        dal.open_pool(primary.conninfo, _settings(standby_running, replica_queries={queries}))


def test_a_replica_lagging_beyond_the_limit_is_skipped(
    pair: tuple[OwnedServer, OwnedServer],
    standby_running: OwnedServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    primary, standby = pair
    monkeypatch.setattr(dal.replicas, "CHECK_EVERY_S", 0.0)
    with dal.open_pool(primary.conninfo, _settings(standby, replica_max_lag_ms=1500)) as pool:
        user = _paused_after_new_user(pool, pair, "replica_lag")
        _behind_the_dal(primary, user.id, "changed")
        with dal.on_replica():
            time.sleep(2)  # the unreplayed write is older than the limit now
            with caplog.at_level(logging.WARNING, logger="dal.replicas"):
                assert dal.users.get(pool, user.id).display_name == "changed"  # primary
            assert any("lags beyond" in r.getMessage() for r in caplog.records)
            _replay(standby, "resume")
            _behind_the_dal(primary, user.id, "fresh")  # replayed at once: no lag
            _caught_up(primary, standby)
            _replay(standby, "pause")
            _behind_the_dal(primary, user.id, "later")
            assert dal.users.get(pool, user.id).display_name == "fresh"  # replica again


def test_a_replica_stopped_mid_run_is_skipped_then_used_again(
    pair: tuple[OwnedServer, OwnedServer],
    standby_running: OwnedServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    primary, standby = pair
    monkeypatch.setattr(dal.replicas, "RETRY_AFTER_S", 0.5)
    with dal.open_pool(primary.conninfo, _settings(standby)) as pool, dal.on_replica():
        user = _new_user(pool, "replica_down")
        _caught_up(primary, standby)
        assert dal.users.get(pool, user.id).id == user.id  # warms the replica's pool
        standby.stop("immediate")
        with caplog.at_level(logging.WARNING, logger="dal.replicas"):
            for _ in range(3):
                assert dal.users.get(pool, user.id).id == user.id  # from the primary
        mine = [r for r in caplog.records if r.name == "dal.replicas"]
        assert len(mine) == 1 and "failed" in mine[0].getMessage()
        standby.start()
        _caught_up(primary, standby)
        time.sleep(0.6)
        _replay(standby, "pause")
        _behind_the_dal(primary, user.id, "changed")
        deadline = time.monotonic() + 20  # the replica's pool reconnects in the background
        while dal.users.get(pool, user.id).display_name == "changed":
            assert time.monotonic() < deadline, "reads never went back to the replica"
            time.sleep(0.2)


def test_the_async_flavour_routes_and_reads_its_writes(
    pair: tuple[OwnedServer, OwnedServer], standby_running: OwnedServer
) -> None:
    primary, standby = pair

    async def run() -> None:
        async with await dal.aio.open_pool(primary.conninfo, _settings(standby)) as pool:
            with routing.on_primary():
                user = await dal.aio.users.create(
                    pool, email="async@example.com", username="replica_async"
                )
            _caught_up(primary, standby)
            _replay(standby, "pause")
            _behind_the_dal(primary, user.id, "changed")
            with dal.on_replica():
                assert (await dal.aio.users.get(pool, user.id)).display_name is None
                await dal.aio.users.update(pool, user.id, display_name="mine")
                assert (await dal.aio.users.get(pool, user.id)).display_name == "mine"

    asyncio.run(run())


def test_positions() -> None:
    contextvars.Context().run(_positions)  # a caller that wrote nothing yet


def _positions() -> None:
    assert routing.parse_lsn("16/B374D848") == (0x16 << 32) | 0xB374D848
    with routing.read_after("0/3000148"):
        assert routing.written_at() == "0/3000148"
    assert routing.written_at() is None
    with pytest.raises(InvalidData, match="not a WAL position"):
        routing.parse_lsn("3000148")


def test_bad_replica_settings_name_the_setting() -> None:
    with pytest.raises(ConfigError, match="DATABASE_REPLICA_URLS"):
        Settings.from_env({"DATABASE_REPLICA_URLS": "mysql://x"}, dotenv=Path("/nonexistent"))
    read = Settings.from_env(
        {
            "DATABASE_REPLICA_URLS": "postgresql://a/db, postgresql://b/db",
            "DATABASE_REPLICA_MAX_LAG": "2s",
            "DATABASE_REPLICA_QUERIES": "users.get_by_id, tasks.get",
        },
        dotenv=Path("/nonexistent"),
    )
    assert read.replica_urls == ("postgresql://a/db", "postgresql://b/db")
    assert read.replica_max_lag_ms == 2000
    assert read.replica_queries == {"users.get_by_id", "tasks.get"}


def test_a_connection_of_its_own_is_left_idle_after_its_commit(
    pair: tuple[OwnedServer, OwnedServer], pool: Pool
) -> None:
    """The WAL position read after a commit opens no transaction on a connection that
    is not in autocommit."""
    primary, _ = pair
    user = _new_user(pool, "replica_own_conn")
    with dal.open_connection(primary.conninfo, Settings()) as conn:
        assert not conn.autocommit
        with dal.transaction(conn):
            dal.users.update(conn, user.id, display_name="mine")
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert routing.written_at() is not None
