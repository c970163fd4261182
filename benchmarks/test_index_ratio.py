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
transactions on the same connection, timed in turn round by round as every comparison
is (benchmarks/paired.py), the statement unprepared on both: each execution is planned
for its values, as the EXPLAIN shown was (a prepared statement may switch to a generic
plan after five runs, which would not be the plan shown). Nothing asserts a time; the
assertions are that the plan with the index uses it, that the transactions timed without
it see none of it (a partitioned index's partitions' included), and that it is whole
again after each, else the two sides would not compare what the index does.

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
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from benchmarks import dataset, paired, plans
from benchmarks.cases import CASES
from dal import queries
from dal._task_list import DEFAULT_DESCENDING, Filters, build
from dal.query_files import Query

RESULTS = Path(__file__).parent / ".results" / "index_ratio.json"

ROUNDS = 7  # rounds of benchmarks.paired.measure: the two sides in turn, a transaction each
BATCH = 3  # executions of a side per round, timed together
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
        "batch": BATCH,
        "warm_up": paired.WARM_UP,
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


def _missing(conn: psycopg.Connection[Any], names: set[str]) -> int:
    """How many of the indexes `names` this transaction does not see."""
    row = conn.execute(
        "SELECT count(*) FROM unnest(%s::text[]) AS i WHERE to_regclass(i) IS NULL",
        [sorted(names)],
    ).fetchone()
    assert row is not None
    return int(row[0])


@contextmanager
def _hidden(conn: psycopg.Connection[Any], hide: tuple[str, ...], gone: set[str]) -> Iterator[None]:
    """A transaction, rolled back on the way out whatever happens in it, with the
    indexes `hide` dropped in it. `gone` is every name the drop must take (a partitioned
    index's partitions' too): it fails unless the transaction sees none of them."""
    with conn.transaction(force_rollback=True):
        if hide:
            conn.execute("SELECT set_config('lock_timeout', %s, true)", [LOCK_TIMEOUT])
            for index in hide:
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(index)))
            assert _missing(conn, gone) == len(gone), f"{sorted(gone)} not all hidden"
        yield


def _side(
    conn: psycopg.Connection[Any],
    query: Query,
    params: dict[str, Any],
    hide: tuple[str, ...],
    gone: set[str],
) -> tuple[plans.PlanSummary, paired.Timed]:
    """One side: its EXPLAIN, and its executions (execute and fetch) for
    `paired.measure`, each batch in a transaction of its own with `hide` hidden."""
    with _hidden(conn, hide, gone):
        # plans.explain's own transaction is a savepoint inside this one.
        summary = plans.summarise(plans.explain(conn, query.text, params))

    def run(n: int) -> float:
        with _hidden(conn, hide, gone), conn.cursor() as cur:
            began = time.perf_counter()
            for _ in range(n):
                cur.execute(query.text, params, prepare=False)
                cur.fetchall()
            return time.perf_counter() - began

    return summary, run


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
    with_plan, with_index = _side(plan_conn, query, params, (), names)
    without_plan, without_index = _side(plan_conn, query, params, hot.hidden, names)
    # Timed in turn, round by round, so drift on a shared machine falls on both sides.
    medians = paired.measure(
        {"with": with_index, "without": without_index}, rounds=ROUNDS, batch=BATCH
    )
    assert with_plan.indexes & names, f"{hot.label} does not use {hot.hidden}: {with_plan.line()}"
    assert _missing(plan_conn, names) == 0, f"{hot.label}: a hidden index is not back"
    with_median, without_median = medians["with"]["median"], medians["without"]["median"]
    report[hot.label] = {
        "hidden": list(hot.hidden),
        "hidden_partitions": len(names) - len(hot.hidden),
        "with": _shown(with_plan, with_median),
        "without": _shown(without_plan, without_median),
        "ratio": without_median / with_median,
    }
