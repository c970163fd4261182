"""Build benchmarks/REPORT.md from one run's results (plans, speed, floor).

Run through `dal bench` (or `make bench`), which runs the suites first.
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
    """`subject` must be at least `minimum` times as fast as `peer` (throughput ratio)."""

    label: str
    subject: str
    peer: str
    minimum: float | None  # None: reported, no target


TARGETS = [
    Target(
        "user by id: DAL vs naive psycopg",
        "test_user_by_id_dal",
        "test_user_by_id_naive_psycopg",
        1.0,
    ),
    Target(
        "user by id: DAL vs SQLAlchemy ORM",
        "test_user_by_id_dal",
        "test_user_by_id_sqlalchemy_orm",
        3.0,
    ),
    Target(
        "user by id: DAL vs SQLAlchemy Core",
        "test_user_by_id_dal",
        "test_user_by_id_sqlalchemy_core",
        None,
    ),
    Target(
        "user by email: DAL vs naive psycopg",
        "test_user_by_email_dal",
        "test_user_by_email_naive_psycopg",
        1.0,
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


def _means(speed: Any) -> dict[str, float]:
    if not speed:
        return {}
    return {b["name"]: float(b["stats"]["mean"]) for b in speed.get("benchmarks", [])}


def build() -> str:
    plans = _load("plans.json") or {}
    speed = _load("speed.json")
    meta = _load("meta.json") or {}
    means = _means(speed)
    out = [
        "# Benchmark report",
        "",
        f"- when: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {_machine()}",
        f"- server: PostgreSQL {meta.get('server_version', '?')}",
        f"- data set: profile `{meta.get('profile', '?')}` ({meta.get('rows', '?')})",
        "",
        "Reproduce with `make bench` (default profile `ci`, a tenth of `large`) or",
        "`DAL_BENCH_PROFILE=large make bench`.",
        "",
        "## Speed targets (ratios measured in this run)",
        "",
        "| comparison | DAL mean | peer mean | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for target in TARGETS:
        if target.subject not in means or target.peer not in means:
            out.append(f"| {target.label} | - | - | - | - | not measured |")
            continue
        ratio = means[target.peer] / means[target.subject]
        goal = f">= {target.minimum:g}x" if target.minimum is not None else "-"
        met = "-" if target.minimum is None else ("yes" if ratio >= target.minimum else "NO")
        out.append(
            f"| {target.label} | {means[target.subject] * 1e6:.1f} µs | "
            f"{means[target.peer] * 1e6:.1f} µs | {ratio:.2f}x | {goal} | {met} |"
        )
    out += _depth(means, meta) + _bulk(meta)
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
        "",
        "| query | plan | buffer bound | problems |",
        "|---|---|---|---|",
    ]
    for name, result in sorted(plans.items()):
        problems = "; ".join(result["problems"]) or "none"
        out.append(f"| `{name}` | {result['summary']} | {result['buffer_bound']} | {problems} |")
    return "\n".join(out) + "\n"


def _depth(means: dict[str, float], meta: dict[str, Any]) -> list[str]:
    first = means.get("test_depth_keyset_first_page")
    deep = means.get("test_depth_keyset_deep_page")
    offset = means.get("test_depth_offset_deep_page")
    if not (first and deep and offset):
        return []
    depth = meta.get("keyset_depth", "?")
    verdict = "yes" if deep / first <= 1.5 else "NO"
    return [
        "",
        f"Keyset against OFFSET, a user's tasks newest first, 50 rows at depth {depth}:",
        "",
        "| page | mean | vs first page |",
        "|---|---|---|",
        f"| keyset, first page | {first * 1e6:.0f} µs | 1.00x |",
        f"| keyset, at depth | {deep * 1e6:.0f} µs | {deep / first:.2f}x "
        f"(target <= 1.5x: {verdict}) |",
        f"| OFFSET, at depth | {offset * 1e6:.0f} µs | {offset / first:.2f}x |",
    ]


def _bulk(meta: dict[str, Any]) -> list[str]:
    bulk = meta.get("bulk")
    if not bulk:
        return []
    rows = bulk["rows"]
    seeder = rows / bulk["seeder_seconds"]
    raw = rows / bulk["raw_copy_seconds"]
    verdict = "yes" if seeder / raw >= 0.7 else "NO"
    return [
        "",
        f"Bulk load of the whole data set ({rows:,} rows, every table, indexes and triggers on):",
        "",
        "| loader | rows/s | vs raw COPY |",
        "|---|---|---|",
        f"| raw COPY of the same rows | {raw:,.0f} | 1.00x |",
        f"| the seeder (generates as it goes) | {seeder:,.0f} | {seeder / raw:.2f}x "
        f"(target >= 0.7x: {verdict}) |",
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
