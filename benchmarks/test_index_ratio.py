"""With and without the index: what each hot query's index is worth, in plan and time.

The plan checks prove that a query uses its index; they do not say what the index
buys. Here each hot query (a user's open tasks by due date, a user's mood history, a
server's upcoming events) is EXPLAINed (ANALYZE, BUFFERS) and timed with its index,
then again with the index hidden, and the report shows both and the ratio (time
without over time with), for the heavy user or server the plan checks use
(`benchmarks.cases`), on a data set loaded as theirs is.

Hiding an index: `DROP INDEX` inside a transaction that is always rolled back. DDL is
transactional in PostgreSQL, so the index is gone for that transaction alone and comes
back whole, with no rebuild; the table stays locked meanwhile, which the benchmarks'
plan database can afford (a lock_timeout bounds the wait for it). Both sides run in
transactions on the same connection, alternating round by round, the statement
unprepared on both: each execution is planned for its values, as the EXPLAIN shown was
(a prepared statement may switch to a generic plan after five runs, which would not be
the plan shown). Nothing asserts a time; the assertions are that the plan with the index
uses it, that the transactions timed without it see none of it (a partitioned index's
partitions' included), and that it is whole again after each, else the two sides would
not compare what the index does.

Which indexes are hidden, and why no more (checked against the plans):

- tasks: `tasks_owner_id_due_at_idx` alone. It is the only index in the order
  `coalesce(due_at, 'infinity'), id`; without it the planner reaches the owner's open
  tasks through `tasks_owner_id_status_idx` (owner, status, project) and sorts them.
  That is not a sibling with the same order but the real fallback: hiding every index
  that leads with owner_id too would time a table nobody has.
- moods: `moods_user_id_recorded_at_idx`, the partitioned index: a partition's own
  index cannot be dropped while attached, and dropping the parent drops every month's
  with it. The primary key (id, recorded_at) does not lead with the user.
- events: `events_server_id_status_starts_at_idx`; no other index leads with server_id.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from benchmarks import dataset, plans
from benchmarks.cases import CASES
from dal import queries
from dal._task_list import DEFAULT_DESCENDING, Filters, build
from dal.query_files import Query

RESULTS = Path(__file__).parent / ".results" / "index_ratio.json"

ROUNDS = 5  # the two sides alternate, a transaction each, round by round
WARM_UP = 1  # untimed runs first in each round: both sides read from a warm cache
RUNS = 3  # timed runs per side and round; the median of all of a side's is kept
LOCK_TIMEOUT = "5s"  # DROP INDEX waits for an exclusive lock on the table

# The "open" filter shape of benchmarks/test_task_list_plans.py.
OPEN = frozenset({"pending", "in_progress", "blocked"})


@dataclass(frozen=True)
class HotQuery:
    """A hot query, the index(es) hidden to time it without, and its statement."""

    label: str
    hidden: tuple[str, ...]
    statement: Callable[[dict[str, Any]], tuple[Query, dict[str, Any]]]


def _open_tasks_by_due(sample: dict[str, Any]) -> tuple[Query, dict[str, Any]]:
    return build(
        sample["task_owner"],
        Filters(statuses=OPEN),
        sort="due",
        descending=DEFAULT_DESCENDING["due"],
        after=None,
        limit=51,
    )


def _named(name: str) -> Callable[[dict[str, Any]], tuple[Query, dict[str, Any]]]:
    """A named query with its plan check's parameters."""
    return lambda sample: (queries.get(name), CASES[name].params(sample))


HOT = [
    HotQuery(
        "a user's open tasks by due date (tasks.list_for_user)",
        ("tasks_owner_id_due_at_idx",),
        _open_tasks_by_due,
    ),
    HotQuery(
        "a user's mood history (moods.list_first_page)",
        ("moods_user_id_recorded_at_idx",),
        _named("moods.list_first_page"),
    ),
    HotQuery(
        "a server's upcoming events (events.upcoming_for_server_first_page)",
        ("events_server_id_status_starts_at_idx",),
        _named("events.upcoming_for_server_first_page"),
    ),
]


@pytest.fixture(scope="module")
def report() -> Iterator[dict[str, Any]]:
    """Each query's two sides, written to .results/index_ratio.json for the report."""
    measured: dict[str, Any] = {}
    yield measured
    RESULTS.parent.mkdir(exist_ok=True)
    found = {
        "profile": dataset.bench_profile().name,
        "rounds": ROUNDS,
        "warm_up": WARM_UP,
        "runs": ROUNDS * RUNS,
        "queries": measured,
    }
    RESULTS.write_text(json.dumps(found, indent=2))


def _with_partitions(conn: psycopg.Connection[Any], index: str) -> set[str]:
    """The index and, for a partitioned index, every partition's index attached to it:
    the names a plan shows when it uses it."""
    rows = conn.execute(
        "SELECT relid::regclass::text FROM pg_partition_tree(%s::regclass)", [index]
    ).fetchall()
    return {index, *(row[0] for row in rows)}


def _timed(conn: psycopg.Connection[Any], query: Query, params: dict[str, Any]) -> list[float]:
    """Wall times of RUNS executions (execute + fetchall), after WARM_UP untimed ones."""
    times: list[float] = []
    with conn.cursor() as cur:
        for run in range(WARM_UP + RUNS):
            start = time.perf_counter()
            cur.execute(query.text, params, prepare=False)
            cur.fetchall()
            if run >= WARM_UP:
                times.append(time.perf_counter() - start)
    return times


def _missing(conn: psycopg.Connection[Any], names: set[str]) -> int:
    """How many of the indexes `names` this transaction does not see."""
    row = conn.execute(
        "SELECT count(*) FROM unnest(%s::text[]) AS i WHERE to_regclass(i) IS NULL",
        [sorted(names)],
    ).fetchone()
    assert row is not None
    return int(row[0])


def _round(
    conn: psycopg.Connection[Any],
    query: Query,
    params: dict[str, Any],
    hide: tuple[str, ...],
    *,
    gone: set[str],
    explain: bool,
) -> tuple[plans.PlanSummary | None, list[float]]:
    """One side's round: the query timed (and EXPLAINed, the first time) with the indexes
    `hide` dropped meanwhile, in a transaction rolled back on the way out whatever
    happens in it. `gone` is every name the drop must take (a partitioned index's
    partitions' too): the round fails unless this transaction sees none of them."""
    with conn.transaction(force_rollback=True):
        if hide:
            conn.execute("SELECT set_config('lock_timeout', %s, true)", [LOCK_TIMEOUT])
            for index in hide:
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(index)))
            assert _missing(conn, gone) == len(gone), f"{sorted(gone)} not all hidden"
        # plans.explain's own transaction is a savepoint inside this one.
        summary = plans.summarise(plans.explain(conn, query.text, params)) if explain else None
        times = _timed(conn, query, params)
    return summary, times


def _shown(summary: plans.PlanSummary, median: float) -> dict[str, Any]:
    nodes = " > ".join(dict.fromkeys(summary.node_types))
    indexes = ", ".join(sorted(summary.indexes)) or "no index"
    return {
        "plan": f"{nodes}; {indexes}; {summary.buffers:,} buffers",
        "summary": summary.line(),
        "buffers": summary.buffers,
        "median_s": median,
    }


@pytest.mark.parametrize("hot", HOT, ids=["tasks", "moods", "events"])
def test_time_with_and_without_the_index(
    hot: HotQuery,
    plan_conn: psycopg.Connection[Any],
    sample: dict[str, Any],
    report: dict[str, Any],
) -> None:
    """The plan and median time with the index and with it hidden, for the report."""
    query, params = hot.statement(sample)
    names = set[str]().union(*(_with_partitions(plan_conn, index) for index in hot.hidden))
    shown: dict[bool, plans.PlanSummary] = {}
    times: dict[bool, list[float]] = {True: [], False: []}
    # The sides alternate, round by round, so drift on a shared machine falls on both.
    for number in range(ROUNDS):
        for with_index in (True, False) if number % 2 == 0 else (False, True):
            hide = () if with_index else hot.hidden
            summary, taken = _round(
                plan_conn, query, params, hide, gone=names, explain=with_index not in shown
            )
            if summary is not None:
                shown[with_index] = summary
            times[with_index] += taken
    with_plan, without_plan = shown[True], shown[False]
    assert with_plan.indexes & names, f"{hot.label} does not use {hot.hidden}: {with_plan.line()}"
    assert _missing(plan_conn, names) == 0, f"{hot.label}: a hidden index is not back"
    with_median, without_median = statistics.median(times[True]), statistics.median(times[False])
    report[hot.label] = {
        "hidden": list(hot.hidden),
        "hidden_partitions": len(names) - len(hot.hidden),
        "with": _shown(with_plan, with_median),
        "without": _shown(without_plan, without_median),
        "ratio": without_median / with_median,
    }
