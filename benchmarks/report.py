"""Build benchmarks/REPORT.md from one run's results (plans, speed, floor, bulk load).

Run through `dal bench` (or `make bench`), which runs the suites first. Every ratio
is of medians: the machines are shared and noisy, and a few slow rounds (another
job, a checkpoint) move a mean far more than a median.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
RESULTS = HERE / ".results"


@dataclass(frozen=True)
class Target:
    """ratio = median time of `slower` / median time of `faster`; the target bounds it."""

    label: str
    faster: str  # benchmark name
    slower: str
    minimum: float | None = None  # at least this many times (None: no lower bound)
    maximum: float | None = None  # at most this many times
    per: int = 1  # units of work per call: times are shown per unit (per id of 50)

    def goal(self) -> str:
        if self.minimum is not None:
            return f">= {self.minimum:g}x"
        if self.maximum is not None:
            return f"<= {self.maximum:g}x"
        return "none (reported)"

    def met(self, ratio: float) -> str:
        if self.minimum is None and self.maximum is None:
            return "-"
        ok = (self.minimum is None or ratio >= self.minimum) and (
            self.maximum is None or ratio <= self.maximum
        )
        return "met" if ok else "**not met**"


def _lookups(what: str, group: str) -> list[Target]:
    dal = f"{group}:dal"
    return [
        Target(f"{what}: DAL vs naive psycopg", dal, f"{group}:naive_psycopg", 1.1),
        Target(f"{what}: DAL vs SQLAlchemy ORM", dal, f"{group}:sqlalchemy_orm", 3.0),
        Target(f"{what}: DAL vs SQLAlchemy Core", dal, f"{group}:sqlalchemy_core"),
    ]


ONE_CORE, TWO_CORES = "one_core/", "two_cores/"  # groups timed pinned (test_speed_paired.py)
FIRST, DEEP, OFFSET = "depth:keyset_first_page", "depth:keyset_deep_page", "depth:offset_deep_page"
# How many times slower OFFSET must be than the first page to count as "far slower".
FAR_SLOWER = 10.0
MANY = 50  # ids per get_many (benchmarks/sides.py)
ORM_ABOVE_FLOOR = 5.0  # on two cores: the ORM's time above the floor over the DAL's

PLACED = [  # timed in every placement
    *_lookups("task by id", "task_by_id"),
    *_lookups("user by email", "user_by_email"),
    *_lookups("user by id", "user_by_id"),
    Target("50-row page: DAL vs naive psycopg", "page:dal", "page:naive_psycopg"),
    Target("50-row page: DAL vs SQLAlchemy ORM", "page:dal", "page:sqlalchemy_orm", 2.0),
]
TARGETS = [
    *PLACED,
    Target(
        "user by id given a pool: DAL vs psycopg_pool",
        "pooled_user_by_id:dal",
        "pooled_user_by_id:naive_psycopg",
    ),
    Target(
        "async user by id: DAL vs psycopg AsyncConnection",
        "async_user_by_id:dal",
        "async_user_by_id:psycopg_async",
        1.0,
    ),
    Target(
        "async user by id: DAL vs asyncpg (prepared fetchrow)",
        "async_user_by_id:dal",
        "async_user_by_id:asyncpg",
        0.9,
    ),
    Target(
        "32 tasks on an 8-connection pool, per lookup: DAL vs asyncpg's pool",
        "async_pool:dal",
        "async_pool:asyncpg",
        0.9,
    ),
    Target(
        "32 tasks on an 8-connection pool, per lookup: DAL vs psycopg_pool",
        "async_pool:dal",
        "async_pool:psycopg_pool",
    ),
    Target(
        "50 users by id, per id: get_many vs a loop of get",
        "get_many_users:get_many",
        "get_many_users:loop",
        10.0,
        per=MANY,
    ),
    Target(
        "50 users by id, per id: get_many vs naive `= ANY(%s)` unprepared",
        "get_many_users:get_many",
        "get_many_users:any_unprepared",
        per=MANY,
    ),
    Target(
        "50 tasks by id, per id: get_many vs a loop of get",
        "get_many_tasks:get_many",
        "get_many_tasks:loop",
        10.0,
        per=MANY,
    ),
    Target(
        "task by id: as a superuser (no policy applies) vs under row-level security "
        "(the application role, acting for the owner)",
        "row_level_security:without",
        "row_level_security:with",
    ),
    Target(
        "the seam's cost: user by id with vs without its logging and tracing hooks",
        "seam:without_observation",
        "seam:with_observation",
        maximum=1.03,
    ),
    *(
        Target(
            f"a failed transaction in 18 calls vs none (prepare threshold {threshold}{note})",
            f"rollbacks:commit_threshold_{threshold}",
            f"rollbacks:rollback_threshold_{threshold}",
        )
        for threshold, note in ((5, ", the default"), (1, ""), (0, ""))
    ),
    Target("keyset page at depth vs first page (time)", FIRST, DEEP, maximum=1.5),
    Target("OFFSET at depth vs first page (time)", FIRST, OFFSET, minimum=FAR_SLOWER),
    Target(
        "prepared vs unprepared statements (user by email, one core)",
        "prepared:prepared",
        "prepared:unprepared",
    ),
]


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}){memory}"


def _load(name: str) -> Any:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def _medians(speed: Any, paired: Any) -> tuple[dict[str, float], str]:
    """Median seconds per call by "group:side", and where they come from.

    The paired run (test_speed_paired.py: sides timed in turn) is preferred; without
    it, pytest-benchmark's own medians (test_speed.py: one side after another)."""
    medians: dict[str, float] = {}
    for bench in (speed or {}).get("benchmarks", []):
        name = str(bench["name"]).removeprefix("test_")
        if "[" in name:  # test_user_by_email[dal] -> user_by_email:dal
            group, side = name.rstrip("]").split("[", 1)
            medians[f"{group}:{side}"] = float(bench["stats"]["median"])
    for group, by_side in (paired or {}).items():
        for side, result in by_side.items():
            medians[f"{group}:{side}"] = float(result["median"])
    return medians, "paired" if paired else "pytest-benchmark"


def _us(seconds: float) -> str:
    """Seconds as microseconds, for the tables."""
    return f"{seconds * 1e6:,.1f} µs"


def build() -> str:
    plans = _load("plans.json") or {}
    task_list = _load("task_list_plans.json") or {}
    speed = _load("speed.json")
    meta = _load("meta.json") or {}
    medians, source = _medians(speed, _load("paired.json"))
    depth = meta.get("keyset_depth")
    heavy = meta.get("heavy_user_tasks")
    out = [
        "# Benchmark report",
        "",
        f"- when: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {_machine()}",
        f"- server: PostgreSQL {meta.get('server_version', '?')}",
        "- placement while timing: unpinned for the main table, as a service runs; then",
        f"  {meta.get('placement_one_core', 'one core')} and"
        f" {meta.get('placement_two_cores', 'two cores')} (benchmarks/pinning.py says why)",
        f"- data set: profile `{meta.get('profile', '?')}` ({meta.get('rows', '?')})",
        f"- keyset depth: {depth:,} rows, in the tasks of one dedicated user ({heavy:,} tasks)"
        if depth and heavy
        else "- keyset depth: not measured",
        "",
        "Reproduce with `make bench` (default profile `ci`, a tenth of `large`) or",
        "`dal bench --profile large`.",
        "",
        "## Speed targets (ratios measured in this run)",
        "",
        *(
            [
                "The sides of each comparison were timed in turn, round by round in a",
                "shuffled order (benchmarks/paired.py: 200 rounds of 10 calls a side for",
                "lookups), so drift on this shared machine falls on every side alike;",
                "pytest-benchmark's own run of each sync side alone is in the saved JSON (the",
                "prepared against unprepared row is pytest-benchmark's only).",
            ]
            if source == "paired"
            else ["Each side was timed alone by pytest-benchmark (test_speed.py)."]
        ),
        "Each side is the median time per call, and each ratio is of medians, not",
        "means: a few slow rounds (another job, a checkpoint) move a mean far more than",
        "a median. A ratio is the right side's time over the left side's: for the DAL",
        "rows, how many times faster the DAL is. The DAL runs on a connection it",
        "opened (`dal.db.open_connection`, as its pool's), where it prepares its",
        "queries itself; naive psycopg on a plain `psycopg.connect()` one. Given a pool,",
        "each side borrows per call from a pool of its own: psycopg_pool checks each",
        "connection it lends (`check_connection`, a round trip), the DAL's pool all but",
        "one handed back under a second ago (dal/aio/db.py says why).",
        "The async rows (benchmarks/async_sides.py) run in asyncio's default loop;",
        "asyncpg's lookup is a prepared statement's `fetchrow`. The seam's row times",
        "the same DAL call with `dal.observe`'s two hooks switched off. The failed",
        "transaction rows time a service's mix of calls (benchmarks/sides.py), where",
        "each rollback makes psycopg drop its prepared statements (DEALLOCATE ALL).",
        "",
        "| comparison | left (median) | right (median) | ratio | target | |",
        "|---|---|---|---|---|---|",
    ]
    out += _target_rows(TARGETS, medians)
    out += _bulk_row(meta)
    out += [
        "",
        f"OFFSET counts as far slower at {FAR_SLOWER:g}x the first page or more. "
        "The seeder row is one timed load of each kind (test_bulk_load.py), not a median.",
        "Rows per id divide the time of one call by its 50 ids.",
        "The row-level security row is what the policies cost a point lookup: its ratio is "
        "the time with them over the time without (the acting user sent with the query, "
        "the policy's once-per-statement reads).",
    ]
    out += _throughput(medians) + _concurrency(meta) + _cache(meta)
    out += _pinned(medians, meta) + _depth(medians, depth) + _bulk(meta)
    out += _get_many_plans(meta) + _index_ratio(_load("index_ratio.json"))
    out += [
        "",
        "## Query plans",
        "",
        "Every named query in `sql/`, EXPLAIN (ANALYZE, BUFFERS) on the data set above.",
        "A Seq Scan is judged by the table's size at the `large` profile (see",
        "benchmarks/dataset.py), so a `ci` run fails one on users as full size would.",
        "",
        *_plan_table(plans),
        "",
        "### tasks.list_for_user (built by dal/_task_list.py)",
        "",
        "The hottest query: every sort, filter shape, and the first page and a page",
        "1,000 rows deep, for a heavy (not the heaviest) task owner.",
        "",
        *_plan_table(task_list, label="sort / filter / page"),
    ]
    return "\n".join(out) + "\n"


def _target_rows(targets: list[Target], medians: dict[str, float]) -> list[str]:
    rows = []
    for target in targets:
        if target.faster not in medians or target.slower not in medians:
            rows.append(f"| {target.label} | - | - | - | {target.goal()} | not measured |")
            continue
        faster, slower = medians[target.faster], medians[target.slower]
        ratio = slower / faster
        rows.append(
            f"| {target.label} | {_us(faster / target.per)} | {_us(slower / target.per)} "
            f"| {ratio:.2f}x | {target.goal()} | {target.met(ratio)} |"
        )
    return rows


def _throughput(medians: dict[str, float]) -> list[str]:
    sides = [("DAL", "dal"), ("psycopg_pool", "psycopg_pool"), ("asyncpg", "asyncpg")]
    found = [(label, medians.get(f"async_pool:{side}")) for label, side in sides]
    if not all(time for _label, time in found):
        return []
    return [
        "",
        "32 tasks sharing an 8-connection pool, each looking users up one after another:",
        "",
        "| pool | lookups/s |",
        "|---|---|",
        *(f"| {label} | {1 / time:,.0f} |" for label, time in found if time),
    ]


def _concurrency(meta: dict[str, Any]) -> list[str]:
    """Throughput and latency with N clients, the DAL's against the server's floor
    (benchmarks/concurrency.py)."""
    runs = meta.get("concurrency") or {}
    if not runs:
        return []
    out = [
        "",
        "## Throughput under concurrency",
        "",
        "N threads (sync) and N asyncio tasks (async) share one DAL pool of N",
        "connections, each calling one after another for 3 s a read-mostly mix (of ten",
        "calls: four users and four tasks by id, a user by email, a task's update);",
        "the floor is pgbench -S -c N -j 2 (a select-only lookup by key, prepared) on",
        "the same server. Calls per second, their ratio to the floor's transactions per",
        "second, and the median and 99th-percentile latency of a call:",
        "",
        "| N | pgbench -S | p50 / p99 | DAL, N threads | / floor | p50 / p99 "
        "| DAL async, N tasks | / floor | p50 / p99 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for clients, sides in sorted(runs.items(), key=lambda item: int(item[0])):
        floor = sides["pgbench"]
        cells = [f"{floor['per_s']:,.0f}/s", _latency(floor)]
        for side in ("dal_threads", "dal_tasks"):
            got = sides[side]
            cells += [
                f"{got['per_s']:,.0f}/s",
                f"{got['per_s'] / floor['per_s']:.2f}",
                _latency(got),
            ]
        out.append(f"| {clients} | " + " | ".join(cells) + " |")
    return out


def _cache(meta: dict[str, Any]) -> list[str]:
    """The Redis read-through cache (benchmarks/test_cache.py)."""
    lookup, mix = meta.get("cache_lookup"), meta.get("cache_mix")
    if not lookup or not mix:
        return []
    return [
        "",
        "## Redis read-through cache",
        "",
        "Lookups through a pool that reads through Redis (every call a hit), against the",
        "same calls through a pool without it, timed in turn in one run (medians of 15",
        "rounds of 400 calls): a user by id as the owner role, and a project membership",
        "as the application role acting for its member (row-level security).",
        "",
        "| lookup | PostgreSQL | Redis | ratio | target | |",
        "|---|---|---|---|---|---|",
        *(
            f"| {name} | {got['postgresql_us']:.0f} us | {got['redis_us']:.0f} us "
            f"| {got['ratio']:.2f}x | 1.5x | {'met' if got['ratio'] >= 1.5 else 'missed'} |"
            for name, got in lookup.items()
        ),
        "",
        f"A read-mostly mix of {mix['calls']:,} calls (users by id and by email, skewed",
        f"towards few users; {mix['writes']} of them a user's update, which moves on that",
        "user's counter and the counter every lookup by email checks) read",
        f"{mix['hit_rate']:.0%} of its lookups from Redis.",
    ]


def _latency(result: dict[str, float]) -> str:
    return f"{_us(result['p50_us'] / 1e6)} / {_us(result['p99_us'] / 1e6)}"


def _pinned(medians: dict[str, float], meta: dict[str, Any]) -> list[str]:
    """The lookups and the page again, on one core and on two cores; on two cores
    also each side's time above the server's floor there."""
    out: list[str] = []
    floors = meta.get("floor_tps") or {}
    for prefix, key, text in (
        (
            ONE_CORE,
            "one_core",
            "the round trip at its cheapest: what each client stack costs shows most.",
        ),
        (
            TWO_CORES,
            "two_cores",
            "each round trip also pays a wake-up across cores, through the hypervisor,\n"
            "which no client can shorten; it is added to every side, so every ratio\n"
            "shrinks, as a network between application and database would.",
        ),
    ):
        targets = [
            Target(t.label, prefix + t.faster, prefix + t.slower, t.minimum, t.maximum)
            for t in PLACED
        ]
        if not any(t.faster in medians for t in targets):
            continue
        where = meta.get(f"placement_{key}", key.replace("_", " "))
        out += [
            "",
            f"The same comparisons with {where} (benchmarks/pinning.py): {text}",
            "",
            "| comparison | left (median) | right (median) | ratio | target | |",
            "|---|---|---|---|---|---|",
            *_target_rows(targets, medians),
        ]
        if prefix == TWO_CORES and floors.get(key):
            out += _above_floor(medians, 1.0 / floors[key], prefix)
    if floors:
        out += [
            "",
            "Floor: `pgbench -S -c 1 -M prepared` against the same server, transactions/s"
            " (µs each):",
            "",
            "| placement | transactions/s | µs each |",
            "|---|---|---|",
            *(
                f"| {name.replace('_', ' ')} | {tps:,.0f} | {1e6 / tps:.1f} |"
                for name, tps in floors.items()
            ),
        ]
    return out


def _above_floor(medians: dict[str, float], floor: float, prefix: str) -> list[str]:
    """Time above the floor: what each client stack adds to the server's own round trip."""
    rows = [
        "",
        f"Above the server's floor there ({_us(floor)} a lookup): the ORM's time above it",
        f"over the DAL's, target >= {ORM_ABOVE_FLOOR:g}x (the DAL adds at most a fifth of"
        " what the ORM adds).",
        "",
        "| lookup | DAL above floor | ORM above floor | ratio | target | |",
        "|---|---|---|---|---|---|",
    ]
    for label, group in (
        ("task by id", "task_by_id"),
        ("user by email", "user_by_email"),
        ("user by id", "user_by_id"),
    ):
        dal, orm = (
            medians.get(f"{prefix}{group}:dal"),
            medians.get(f"{prefix}{group}:sqlalchemy_orm"),
        )
        if not (dal and orm):
            continue
        ratio = (orm - floor) / max(dal - floor, 1e-9)
        met = "met" if ratio >= ORM_ABOVE_FLOOR else "**not met**"
        rows.append(
            f"| {label} | {_us(dal - floor)} | {_us(orm - floor)} | {ratio:.2f}x "
            f"| >= {ORM_ABOVE_FLOOR:g}x | {met} |"
        )
    return rows


def _get_many_plans(meta: dict[str, Any]) -> list[str]:
    plans = meta.get("get_many_plans")
    if not plans:
        return []
    rows = [
        "",
        "## 50 ids in one statement: planning",
        "",
        "EXPLAIN (ANALYZE) of 50 users by id (benchmarks/test_get_many_plans.py). Naive",
        "`= ANY(%s)` unprepared is planned on every call, for the 50 values it is given;",
        "`users.get_many` is prepared by psycopg, and once PostgreSQL settles on its",
        "generic plan (`unnest` of the array, a probe of users_pkey per id) nothing is",
        "planned per call.",
        "",
        "| statement | plan | planning | execution |",
        "|---|---|---|---|",
    ]
    for label, found in plans.items():
        rows.append(
            f"| {label} | {found['plan']} | {found['planning_ms']:.3f} ms "
            f"| {found['execution_ms']:.3f} ms |"
        )
    return rows


def _index_ratio(found: Any) -> list[str]:
    """Each hot query with its index and with it hidden (benchmarks/test_index_ratio.py)."""
    if not found or not found.get("queries"):
        return []
    rows = [
        "",
        "## With and without the index",
        "",
        "Each hot query, for the heavy user or server of its plan check, with its index and",
        "with the index hidden: `DROP INDEX` inside a transaction rolled back afterwards (a",
        "partitioned index takes every partition's index with it), so the planner chose",
        "among the other indexes. Both sides were measured in this run, on one connection,",
        "the statement unprepared (planned for its values, as in the EXPLAIN shown): a time",
        f"is the median of {found['rounds']} rounds' means of {found['batch']} executions"
        " (execute and fetch),",
        "the two sides timed in turn each round in a shuffled order (benchmarks/paired.py)",
        f"after {found['warm_up']} untimed ones each,",
        "and the ratio is the time without the index over the time with it. A plan is one",
        "EXPLAIN (ANALYZE, BUFFERS): its nodes, the indexes it uses and the shared buffers",
        "it reads.",
        "",
        "| query | index hidden | plan with | plan without | time with | time without | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, got in found["queries"].items():
        hidden = ", ".join(f"`{name}`" for name in got["hidden"])
        if got["hidden_partitions"]:
            hidden += f" (and its {got['hidden_partitions']} partitions' indexes)"
        with_, without = got["with"], got["without"]
        rows.append(
            f"| {label} | {hidden} | {with_['plan']} | {without['plan']} "
            f"| {_us(with_['median_s'])} | {_us(without['median_s'])} | {got['ratio']:.2f}x |"
        )
    return rows


def _plan_table(plans: dict[str, Any], label: str = "query") -> list[str]:
    if not plans:
        return ["(not run)"]
    rows = [f"| {label} | plan | buffer bound | problems |", "|---|---|---|---|"]
    for name, result in sorted(plans.items()):
        problems = "; ".join(result["problems"]) or "none"
        shown = f"`{name}`" if label == "query" else name
        rows.append(f"| {shown} | {result['summary']} | {result['buffer_bound']} | {problems} |")
    return rows


def _bulk_row(meta: dict[str, Any]) -> list[str]:
    bulk = meta.get("bulk")
    if not bulk:
        return ["| bulk load: seeder vs raw COPY | - | - | - | >= 0.7x | not measured |"]
    ratio = bulk["raw_copy_seconds"] / bulk["seeder_seconds"]  # the seeder's rows/s over COPY's
    met = "met" if ratio >= 0.7 else "**not met**"
    rows = bulk["rows"]
    return [
        f"| bulk load: seeder vs raw COPY | {rows / bulk['seeder_seconds']:,.0f} rows/s "
        f"| {rows / bulk['raw_copy_seconds']:,.0f} rows/s | {ratio:.2f}x | >= 0.7x | {met} |"
    ]


def _depth(medians: dict[str, float], depth: int | None) -> list[str]:
    first, deep, offset = (medians.get(name) for name in (FIRST, DEEP, OFFSET))
    if not (first and deep and offset):
        return []
    return [
        "",
        f"Keyset against OFFSET, a user's tasks newest first, 50 rows at depth {depth:,}:"
        if depth
        else "Keyset against OFFSET, a user's tasks newest first, 50 rows:",
        "",
        "| page | median | vs first page |",
        "|---|---|---|",
        f"| keyset, first page | {_us(first)} | 1.00x |",
        f"| keyset, at depth | {_us(deep)} | {deep / first:.2f}x (target <= 1.5x) |",
        f"| OFFSET, at depth | {_us(offset)} | {offset / first:.2f}x "
        f"({offset / deep:.0f}x the keyset page at the same depth) |",
    ]


def _bulk(meta: dict[str, Any]) -> list[str]:
    bulk = meta.get("bulk")
    if not bulk:
        return []
    rows = bulk["rows"]
    seeder = rows / bulk["seeder_seconds"]
    raw = rows / bulk["raw_copy_seconds"]
    return [
        "",
        f"Bulk load of the whole data set ({rows:,} rows, every table, indexes and triggers on):",
        "",
        "| loader | rows/s | vs raw COPY |",
        "|---|---|---|",
        f"| raw COPY of the same rows | {raw:,.0f} | 1.00x |",
        f"| the seeder (generates as it goes) | {seeder:,.0f} | {seeder / raw:.2f}x "
        "(target >= 0.7x) |",
        f"| executemany INSERT (tasks) | {bulk['executemany_rows_per_second']:,.0f} | "
        f"{bulk['executemany_rows_per_second'] / raw:.2f}x |",
        "",
        f"Peak memory of the seeding process: {bulk['seeder_peak_rss_mb']:.0f} MB (bound 500 MB).",
    ]


def main() -> None:
    target = HERE / "REPORT.md"
    target.write_text(build(), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
