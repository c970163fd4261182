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
        Target(f"{what}: DAL vs naive psycopg", dal, f"{group}:naive_psycopg", 1.0),
        Target(f"{what}: DAL vs SQLAlchemy ORM", dal, f"{group}:sqlalchemy_orm", 3.0),
        Target(f"{what}: DAL vs SQLAlchemy Core", dal, f"{group}:sqlalchemy_core"),
    ]


TWO_CORES = "two_cores/"  # groups timed with the server on another core (test_speed_paired.py)
FIRST, DEEP, OFFSET = "depth:keyset_first_page", "depth:keyset_deep_page", "depth:offset_deep_page"
# How many times slower OFFSET must be than the first page to count as "far slower".
FAR_SLOWER = 10.0

TARGETS = [
    *_lookups("task by id", "task_by_id"),
    *_lookups("user by email", "user_by_email"),
    *_lookups("user by id", "user_by_id"),
    Target(
        "user by id given a pool: DAL vs psycopg_pool",
        "pooled_user_by_id:dal",
        "pooled_user_by_id:naive_psycopg",
    ),
    Target("50-row page: DAL vs naive psycopg", "page:dal", "page:naive_psycopg"),
    Target("50-row page: DAL vs SQLAlchemy ORM", "page:dal", "page:sqlalchemy_orm", 2.0),
    Target("keyset page at depth vs first page (time)", FIRST, DEEP, maximum=1.5),
    Target("OFFSET at depth vs first page (time)", FIRST, OFFSET, minimum=FAR_SLOWER),
    Target(
        "prepared vs unprepared statements (user by email)",
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
        f"- placement while timing: {meta.get('placement', 'not recorded')} "
        "(benchmarks/pinning.py says why)",
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
                "The sides of each comparison were timed in turn, round by round",
                "in a shuffled order (benchmarks/test_speed_paired.py: 200 rounds of 10 calls",
                "a side for lookups),",
                "so drift on this shared machine falls on every side alike; pytest-benchmark's",
                "own run of each side alone is in the saved JSON (of all but the lookup given",
                "a pool; the prepared against unprepared row is pytest-benchmark's only).",
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
        "each side borrows per call from a pool of its own that checks what it lends; the",
        "DAL runs the lookup in autocommit, where psycopg wraps it in BEGIN and COMMIT.",
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
    ]
    out += _two_cores(medians, meta) + _depth(medians, depth) + _bulk(meta)
    floor = meta.get("pgbench_tps")
    if floor:
        out += [
            "",
            f"Floor: `pgbench -S -c 1` ran {floor:,.0f} transactions/s "
            f"({1e6 / floor:.1f} µs each) against the same server.",
        ]
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
        ratio = medians[target.slower] / medians[target.faster]
        rows.append(
            f"| {target.label} | {_us(medians[target.faster])} | {_us(medians[target.slower])} "
            f"| {ratio:.2f}x | {target.goal()} | {target.met(ratio)} |"
        )
    return rows


def _two_cores(medians: dict[str, float], meta: dict[str, Any]) -> list[str]:
    """The lookups and the page again, timed with the server on another core."""
    targets = [
        Target(t.label, TWO_CORES + t.faster, TWO_CORES + t.slower, t.minimum, t.maximum)
        for t in TARGETS
        if t.faster.startswith(("user_by", "task_by", "page:"))
    ]
    if not any(t.faster in medians for t in targets):
        return []
    return [
        "",
        f"The same comparisons with {meta.get('placement_two_cores', 'the server on another core')}"
        " (benchmarks/pinning.py): each round trip also pays a wake-up across cores,",
        "through the hypervisor, which no client can shorten; it is added to every side,",
        "so every ratio shrinks, as a network between application and database would.",
        "",
        "| comparison | left (median) | right (median) | ratio | target | |",
        "|---|---|---|---|---|---|",
        *_target_rows(targets, medians),
    ]


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
