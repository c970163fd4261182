"""The server's own floor: pgbench's select-only rate from one C client, same server,
in each placement the comparisons are timed in (benchmarks/pinning.py)."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest

from benchmarks import pinning
from dal.server import bin_dir


@pytest.mark.parametrize("placement", ["unpinned", "one_core", "two_cores"])
def test_pgbench_select_only_floor(
    pgbench_url: str, bench_meta: dict[str, Any], placement: str
) -> None:
    """pgbench inherits this process's core, and its backend the server's."""
    url = pgbench_url
    with pinning.placed(pgbench_url, placement):
        done = subprocess.run(
            [str(bin_dir() / "pgbench"), "-S", "-c", "1", "-T", "5", "-n", "-M", "prepared", url],
            check=True,
            capture_output=True,
            text=True,
        )
    match = re.search(r"tps = ([\d.]+)", done.stdout)
    assert match, done.stdout
    tps = float(match.group(1))
    assert tps > 0
    bench_meta.setdefault("floor_tps", {})[placement] = tps
