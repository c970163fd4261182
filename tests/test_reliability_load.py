"""Load-shaped faults on a server the tests own: an exhausted pool, statements and
transactions past the server's timeouts, real serialization failures and deadlocks,
and lost-update and double-booking races across a kill -9.

Each test is bounded in seconds and asserts outcomes, never timings; the figures it
prints (`pytest -s`) are the ones docs/RELIABILITY.md reports.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import pytest

import dal
from dal import config_store, events, tasks, users
from dal.config import Settings
from dal.errors import ConcurrentUpdate, PoolExhausted, QueryTimeout, Unavailable
from tests.community_helpers import event, server, user
from tests.owned_server import OwnedServer, migrated

pytestmark = pytest.mark.reliability

SERIALIZABLE = psycopg.IsolationLevel.SERIALIZABLE


@pytest.fixture(scope="module")
def owned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnedServer]:
    # A short deadlock_timeout: a deadlock is found in 0.1 s, not the default 1 s.
    done = migrated(tmp_path_factory.mktemp("load"), settings={"deadlock_timeout": "100ms"})
    yield done
    done.stop("immediate")


def _run_all(targets: Sequence[Callable[[], object]], *, within: float = 60) -> None:
    """Start a thread per target, all at once, and join them; none may hang."""
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=within)
    assert not [t for t in threads if t.is_alive()], "a thread hung"


def _backend_pids(pool: Any) -> set[int]:
    """The server pids behind every connection the pool holds now (all idle)."""
    held = []
    try:
        for _ in range(pool.get_stats()["pool_size"]):
            held.append(pool.getconn(timeout=5))
        return {conn.info.backend_pid for conn in held}
    finally:
        for conn in held:
            pool.putconn(conn)


def test_an_exhausted_pool_refuses_with_pool_exhausted_and_recovers(owned: OwnedServer) -> None:
    settings = Settings(pool_size=2, max_overflow=2, pool_timeout=1.0, pool_max_waiting=4)
    pool = dal.open_pool(owned.conninfo, settings)
    release = threading.Event()
    holding = threading.Barrier(5)
    outcomes: list[tuple[str, float]] = []
    lock = threading.Lock()

    def hold() -> None:  # a slow request: it keeps its connection until released
        with dal.transaction(pool) as conn:
            users.count(conn)
            holding.wait(timeout=10)
            release.wait(timeout=30)

    def call() -> None:
        started = time.monotonic()
        try:
            users.count(pool)
            outcome = "served"
        except PoolExhausted as exc:
            outcome = "refused at once" if "max_waiting" in exc.message else "timed out"
        with lock:
            outcomes.append((outcome, time.monotonic() - started))

    holders = [threading.Thread(target=hold, daemon=True) for _ in range(4)]
    try:
        for holder in holders:
            holder.start()
        holding.wait(timeout=10)  # all 4 connections lent out
        _run_all([call] * 12)
        kinds = Counter(kind for kind, _ in outcomes)
        # 4 may wait (max_waiting): they give up after the pool timeout; 8 more are
        # refused at once. None is mistaken for a server that cannot be reached.
        assert kinds == {"refused at once": 8, "timed out": 4}
        release.set()
        for holder in holders:
            holder.join(timeout=10)
        # Released, every connection is back and serves again: nothing leaked.
        _run_all([lambda: users.count(pool)] * 8)
        stats = pool.get_stats()
        assert stats["pool_size"] == stats["pool_available"] <= 4
        assert stats.get("requests_waiting", 0) == 0
        refused = max(t for kind, t in outcomes if kind == "refused at once") * 1000
        waited = min(t for kind, t in outcomes if kind == "timed out")
        print(f"exhausted pool: 8 refused in at most {refused:.0f} ms, 4 after {waited:.2f} s")
    finally:
        release.set()
        pool.close()


def test_more_callers_than_connections_queue_and_all_succeed(owned: OwnedServer) -> None:
    pool = dal.open_pool(owned.conninfo, Settings(pool_size=4, max_overflow=0, pool_timeout=10))
    failures: list[BaseException] = []
    done = Counter[str]()
    lock = threading.Lock()

    def caller(n: int) -> None:
        for i in range(25):
            try:
                if i % 5 == 0:
                    users.create(pool, email=f"q{n}x{i}@example.com", username=f"q{n}x{i}")
                else:
                    users.count(pool)
            except BaseException as exc:  # reported below
                failures.append(exc)
            with lock:
                done["calls"] += 1

    try:
        started = time.monotonic()
        _run_all([partial(caller, n) for n in range(32)])
        took = time.monotonic() - started
        assert failures == []
        assert done["calls"] == 32 * 25
        stats = pool.get_stats()
        assert stats["pool_size"] == 4 and stats["pool_available"] == 4
        print(f"32 threads on 4 connections: 800 calls in {took:.2f} s, none failed")
    finally:
        pool.close()


def test_a_statement_past_statement_timeout_is_cancelled_and_its_connection_kept(
    owned: OwnedServer,
) -> None:
    settings = Settings(pool_size=4, max_overflow=0, statement_timeout_ms=200)
    pool = dal.open_pool(owned.conninfo, settings)
    timed_out: list[float] = []
    other: list[BaseException] = []
    served = Counter[str]()

    def slow() -> None:
        started = time.monotonic()
        try:
            with dal.transaction(pool) as conn:
                conn.execute("SELECT pg_sleep(5)")
        except QueryTimeout:
            timed_out.append(time.monotonic() - started)
        except BaseException as exc:  # reported below
            other.append(exc)

    def fast() -> None:
        for _ in range(20):
            try:
                users.count(pool)
                served["ok"] += 1
            except BaseException as exc:  # reported below
                other.append(exc)

    try:
        before = _backend_pids(pool)
        _run_all([slow] * 8 + [fast] * 8)
        assert other == []
        assert len(timed_out) == 8 and max(timed_out) < 5  # cancelled, not run to its end
        assert served["ok"] == 160
        # The cancelled statements' connections went back usable: none replaced.
        assert _backend_pids(pool) == before
        with psycopg.connect(owned.conninfo) as admin:
            row = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%%'"
                " AND state = 'active'"
            ).fetchone()
        assert row == (0,)  # nothing left running on the server
        print(
            f"statement_timeout 200 ms: 8 slow statements cancelled after "
            f"{min(timed_out):.2f}-{max(timed_out):.2f} s; 160 other calls served; "
            "0 connections replaced"
        )
    finally:
        pool.close()


@pytest.mark.parametrize("stalled_before", ["a statement", "COMMIT"])
def test_a_transaction_idle_past_the_timeout_is_rolled_back_and_frees_its_locks(
    owned: OwnedServer, stalled_before: str
) -> None:
    settings = Settings(pool_size=3, max_overflow=0, idle_in_transaction_timeout_ms=300)
    pool = dal.open_pool(owned.conninfo, settings)
    alice = users.create(pool, email=f"idle-{len(stalled_before)}@example.com",
                         username=f"idle{len(stalled_before)}")  # fmt: skip
    refused: list[QueryTimeout] = []
    stalled, stall_over = threading.Event(), threading.Event()
    freed_during_the_stall: list[bool] = []

    def stalls() -> None:
        try:
            with dal.transaction(pool) as conn:
                users.update(conn, alice.id, display_name="stalled")  # locks alice's row
                stalled.set()
                time.sleep(3.0)  # the application stops talking to the server
                stall_over.set()
                if stalled_before == "a statement":
                    users.count(conn)
        except QueryTimeout as exc:
            refused.append(exc)

    def waits_for_the_row() -> None:
        stalled.wait(timeout=10)
        started = time.monotonic()
        users.update(pool, alice.id, display_name="next")
        freed_during_the_stall.append(not stall_over.is_set())
        print(f"idle in transaction 300 ms (then {stalled_before}): the row lock was "
              f"freed after {time.monotonic() - started:.2f} s")  # fmt: skip

    try:
        _run_all([stalls, waits_for_the_row])
        assert len(refused) == 1
        assert "idle_in_transaction_session_timeout" in refused[0].message
        assert refused[0].sqlstate == "25P03"
        # The stalled write was rolled back; the blocked one went through when the
        # server ended the stalled session, not when the application woke up.
        assert users.get(pool, alice.id).display_name == "next"
        assert freed_during_the_stall == [True]
        assert users.count(pool) >= 1  # the pool replaced the closed connection
    finally:
        pool.close()


def test_serialization_failures_are_retried_until_no_increment_is_lost(
    owned: OwnedServer,
) -> None:
    """Read-modify-write of one counter at SERIALIZABLE, 8 threads at once."""
    pool = dal.open_pool(owned.conninfo, Settings(pool_size=8, max_overflow=0))
    config_store.set(pool, "reliability.counter", 0)
    attempts = Counter[str]()
    lock = threading.Lock()
    start = threading.Barrier(8)

    def increment(conn: Any) -> None:
        with lock:
            attempts["runs"] += 1
        value = config_store.get(conn, "reliability.counter")
        config_store.set(conn, "reliability.counter", value + 1)

    def worker() -> None:
        start.wait(timeout=10)
        for _ in range(10):
            dal.retry(pool, increment, isolation=SERIALIZABLE, attempts=100,
                      base_delay=0.001, max_delay=0.02)  # fmt: skip

    try:
        _run_all([worker] * 8)
        assert config_store.get(pool, "reliability.counter") == 80  # none lost, none twice
        assert attempts["runs"] > 80  # real serialization failures happened, and were retried
        print(f"serializable counter: 80 increments took {attempts['runs']} runs "
              f"({attempts['runs'] - 80} retried after a serialization failure)")  # fmt: skip
    finally:
        pool.close()


def _in_progress_after_a_race(pool: Any, isolation: psycopg.IsolationLevel) -> int:
    """At most one task in progress per owner, a rule no constraint states: each of 8
    threads checks that none of the owner's is in progress, then starts its own, under
    `retry` at `isolation`. How many ended in progress."""
    name = f"skew{isolation.name.lower()}"
    owner = users.create(pool, email=f"{name}@example.com", username=name)
    mine = [tasks.create(pool, owner_id=owner.id, title=f"t{n}") for n in range(8)]
    start = threading.Barrier(8)
    failures: list[str] = []

    def work(conn: Any, task_id: Any) -> bool:
        if tasks.counts_by_status(conn, owner.id).get("in_progress", 0):
            return False
        tasks.update(conn, task_id, status="in_progress")
        return True

    def worker(task_id: Any) -> None:
        start.wait(timeout=10)
        try:
            dal.retry(pool, partial(work, task_id=task_id), isolation=isolation,
                      attempts=20, base_delay=0.005)  # fmt: skip
        except ConcurrentUpdate as exc:
            failures.append(repr(exc))

    _run_all([partial(worker, t.id) for t in mine])
    assert failures == []
    return tasks.counts_by_status(pool, owner.id).get("in_progress", 0)


def test_write_skew_is_refused_at_serializable_and_the_retry_sees_the_winner(
    owned: OwnedServer,
) -> None:
    pool = dal.open_pool(owned.conninfo, Settings(pool_size=8, max_overflow=0))
    try:
        assert _in_progress_after_a_race(pool, SERIALIZABLE) == 1
        skewed = _in_progress_after_a_race(pool, psycopg.IsolationLevel.READ_COMMITTED)
        print(f"write skew: 1 task in progress at SERIALIZABLE, {skewed} at READ COMMITTED")
    finally:
        pool.close()


def test_a_deadlock_is_broken_by_the_server_and_the_victim_retried(owned: OwnedServer) -> None:
    pool = dal.open_pool(owned.conninfo, Settings(pool_size=4, max_overflow=0))
    owner = users.create(pool, email="deadlock@example.com", username="deadlock")
    first = tasks.create(pool, owner_id=owner.id, title="first")
    second = tasks.create(pool, owner_id=owner.id, title="second")
    both_hold_one = threading.Barrier(2)
    seen: list[str | None] = []
    runs = Counter[str]()

    def crosswise(mine: Any, theirs: Any, name: str) -> Callable[[], None]:
        def work(conn: Any) -> None:
            runs[name] += 1
            tasks.update(conn, mine, description=name)
            if runs[name] == 1:  # the first run waits until each holds one row
                both_hold_one.wait(timeout=10)
            try:
                tasks.update(conn, theirs, description=name)
            except ConcurrentUpdate as exc:
                seen.append(exc.sqlstate)
                raise

        return lambda: dal.retry(pool, work, attempts=5, base_delay=0.01)

    try:
        _run_all([crosswise(first.id, second.id, "a"), crosswise(second.id, first.id, "b")])
        assert seen == ["40P01"]  # one deadlock, found by the server
        assert sorted(runs.values()) == [1, 2]  # its victim ran once more, as a whole
        winner = max(runs, key=lambda name: runs[name])  # the victim ran, and wrote, last
        assert {tasks.get(pool, t.id).description for t in (first, second)} == {winner}
        print("deadlock: found after deadlock_timeout (100 ms); the victim retried once")
    finally:
        pool.close()


def test_races_keep_their_invariants_across_a_kill_9(owned: OwnedServer) -> None:
    """Double booking (32 threads answering events with a capacity) and lost updates
    (read-modify-write of one task with expected_version) while the server is killed
    and started again: each write retried as a whole transaction."""
    pool = dal.open_pool(owned.conninfo, Settings(pool_size=8, max_overflow=8, pool_timeout=30))
    capacity = 5
    with dal.transaction(pool) as conn:
        srv = server(conn)
        shows = [event(conn, srv, capacity=capacity) for _ in range(10)]
        people = [user(conn) for _ in range(40)]
    answers: queue.Queue[tuple[int, Any]] = queue.Queue()
    for show in shows:
        for person in people:
            answers.put((show.id, person.id))
    owner = users.create(pool, email="rmw@example.com", username="rmw")
    shared = tasks.create(pool, owner_id=owner.id, title="shared")
    outcomes = Counter[str]()
    runs = Counter[str]()  # every attempt, the retried ones too
    keys: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    kill_due = threading.Event()  # a quarter of the answers are in
    killed = threading.Event()

    def go(conn: Any, event_id: int, person_id: Any) -> None:
        with lock:
            runs["answers"] += 1
        if kill_due.is_set() and not killed.is_set():
            # Wait for the kill on a connection taken before it, nothing written yet:
            # the answer is cut off and run again, however fast the rest went (the
            # last quarter could otherwise be done before the kill lands).
            killed.wait(timeout=60)
        events.rsvp(conn, event_id, person_id, "going")

    def answer() -> None:
        while True:
            try:
                event_id, person_id = answers.get_nowait()
            except queue.Empty:
                return
            try:
                dal.retry(pool, partial(go, event_id=event_id, person_id=person_id),
                          attempts=20, base_delay=0.05)  # fmt: skip
                outcome = "going"
            except events.EventFull:
                outcome = "full"
            except BaseException as exc:  # reported below
                failures.append(exc)
                continue
            with lock:
                outcomes[outcome] += 1

    def add_keys(n: int) -> None:
        for i in range(15):
            key = f"k{n}-{i}"

            def work(conn: Any, key: str = key) -> None:
                with lock:
                    runs["writes"] += 1
                current = tasks.get(conn, shared.id)
                tasks.update(conn, shared.id, data=current.data | {key: True},
                             expected_version=current.version)  # fmt: skip

            try:
                dal.retry(pool, work, attempts=200, base_delay=0.002, max_delay=0.2)
            except BaseException as exc:  # reported below
                failures.append(exc)
                continue
            with lock:
                keys.append(key)

    def kill_and_start() -> None:
        # Mid-race by the work done, not by the clock: a quarter of the answers in.
        while answers.qsize() > len(shows) * len(people) * 3 // 4:
            time.sleep(0.002)
        kill_due.set()
        try:
            owned.kill9()
        finally:
            killed.set()
        owned.start()

    try:
        started = time.monotonic()
        _run_all([answer] * 24 + [partial(add_keys, n) for n in range(8)] + [kill_and_start],
                 within=120)  # fmt: skip
        took = time.monotonic() - started
        assert failures == []
        assert answers.empty() and sum(outcomes.values()) == len(shows) * len(people)
        # No double booking: each event exactly full, its counter equal to its rows.
        for show in shows:
            assert events.get(pool, show.id).going_count == capacity
            assert events.rsvp_counts(pool, show.id)["going"] == capacity
        assert outcomes == {"going": capacity * len(shows), "full": 35 * len(shows)}
        # No lost update and none applied twice: every key, one version per write.
        final = tasks.get(pool, shared.id)
        assert set(final.data) == set(keys) and len(keys) == 8 * 15
        assert final.version == 1 + len(keys)
        # The kill landed mid-race: answers cut off by it were run again.
        assert runs["answers"] > len(shows) * len(people)
        print(f"races across kill -9: 400 answers ({runs['answers']} runs) and 120 "
              f"read-modify-writes ({runs['writes']} runs) in {took:.1f} s; every event "
              f"exactly full (5), no key lost, version {final.version}")  # fmt: skip
    finally:
        pool.close()


def test_a_pool_timeout_while_the_server_is_down_is_unavailable_not_exhausted(
    tmp_path: Path,
) -> None:
    down = migrated(tmp_path / "down")
    pool = dal.open_pool(down.conninfo, Settings(pool_size=2, max_overflow=2, pool_timeout=1.0))
    try:
        users.count(pool)
        time.sleep(1.2)  # idle long enough to be checked when borrowed
        down.stop("fast")
        with pytest.raises(Unavailable) as refused:
            users.count(pool)
        assert type(refused.value) is Unavailable, refused.value  # not PoolExhausted
        assert "is the server up" in refused.value.message
    finally:
        pool.close()
        down.stop("immediate")
