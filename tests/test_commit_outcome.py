"""A COMMIT whose answer was lost is resolved, not guessed at: the transaction's id is
taken before COMMIT and asked about afterwards (pg_xact_status). The cut comes from a
proxy that drops the connection just after the server answered COMMIT."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from dal import commit_outcome, users
from dal.config import Settings
from dal.db import Pool, open_connection, open_pool, retry, transaction
from dal.errors import CommitOutcomeUnknown, ConnectionLost, InvalidData, Unavailable
from tests.cutting_proxy import CuttingProxy


@pytest.fixture
def proxy(db_url: str) -> Iterator[CuttingProxy]:
    with CuttingProxy(db_url) as cutting:
        yield cutting


@pytest.fixture
def cut_pool(proxy: CuttingProxy, db_url: str) -> Iterator[Pool]:
    dbname = str(psycopg.conninfo.conninfo_to_dict(db_url)["dbname"])
    opened = open_pool(proxy.conninfo(dbname), Settings(pool_size=2, max_overflow=1))
    yield opened
    opened.close()


def test_a_transaction_found_committed_leaves_the_block_as_if_nothing_happened(
    proxy: CuttingProxy, cut_pool: Pool
) -> None:
    proxy.cut_next_commit()
    with transaction(cut_pool) as conn:
        users.create(conn, email="once@example.com", username="once")
    assert proxy.cuts == 1  # the answer to COMMIT never arrived
    assert users.count(cut_pool) == 1


def test_given_a_connection_the_lost_commit_carries_its_id_to_ask_about(
    proxy: CuttingProxy, cut_pool: Pool, db_url: str
) -> None:
    dbname = str(psycopg.conninfo.conninfo_to_dict(db_url)["dbname"])
    with open_connection(proxy.conninfo(dbname), Settings()) as conn:
        proxy.cut_next_commit()
        with pytest.raises(CommitOutcomeUnknown) as lost, transaction(conn):
            users.create(conn, email="asked@example.com", username="asked")
    assert lost.value.xid is not None and lost.value.outcome == "unknown"
    assert commit_outcome(cut_pool, lost.value.xid) == "committed"
    with psycopg.connect(db_url) as raw:  # a transaction that took an id, then rolled back
        row = raw.execute("SELECT pg_current_xact_id()::text").fetchone()
        raw.rollback()
    assert row is not None
    assert commit_outcome(cut_pool, row[0]) == "aborted"


def test_retry_returns_the_result_of_work_found_committed(
    proxy: CuttingProxy, cut_pool: Pool
) -> None:
    runs: list[int] = []

    def work(conn: psycopg.Connection[Any]) -> str:
        runs.append(1)
        return users.create(conn, email="r@example.com", username="retried").username

    proxy.cut_next_commit()
    assert retry(cut_pool, work, base_delay=0.001) == "retried"
    assert proxy.cuts == 1
    assert runs == [1]  # committed once: not run again
    assert users.count(cut_pool) == 1


def test_a_lost_commit_of_a_transaction_that_wrote_nothing_is_connection_lost(
    proxy: CuttingProxy, cut_pool: Pool
) -> None:
    proxy.cut_next_commit()
    with pytest.raises(ConnectionLost, match="had written nothing"), transaction(cut_pool):
        users.count(cut_pool)
    assert proxy.cuts == 1


def test_a_lost_commit_raised_inside_the_block_is_not_taken_for_its_own(
    pool: Pool, db_url: str
) -> None:
    with psycopg.connect(db_url) as raw:  # some other transaction, committed
        row = raw.execute("SELECT pg_current_xact_id()::text").fetchone()
    assert row is not None
    other = CommitOutcomeUnknown("another transaction's", xid=row[0])
    with pytest.raises(CommitOutcomeUnknown) as raised, transaction(pool):
        raise other
    assert raised.value is other  # not swallowed as "committed": the block was rolled back


def test_retry_never_repeats_an_unknown_outcome_even_when_told_unavailable_is_transient(
    pool: Pool,
) -> None:
    runs: list[int] = []

    def work(conn: psycopg.Connection[Any]) -> None:
        runs.append(1)
        raise CommitOutcomeUnknown("lost during COMMIT", xid=None)

    with pytest.raises(CommitOutcomeUnknown):
        retry(pool, work, transient=(Unavailable,), base_delay=0.001)
    assert runs == [1]


def test_commit_outcome_refuses_what_is_no_transaction_id(pool: Pool) -> None:
    with pytest.raises(InvalidData) as refused:
        commit_outcome(pool, "12; DROP TABLE users")
    assert refused.value.column == "xid"
    assert commit_outcome(pool, str(2**62)) == "unknown"  # one the server never saw
