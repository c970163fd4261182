"""The server's own floor: pgbench's select-only rate from one C client, same server."""

from __future__ import annotations

import re
import subprocess
from typing import Any

from dal.server import bin_dir
from tests.fix_db import create_database, drop_database


def test_pgbench_select_only_floor(pg_admin: str, bench_meta: dict[str, Any], pinned: str) -> None:
    """pgbench inherits this process's core, and its backend the server's (pinned)."""
    name = "dal_bench_pgbench"
    url = create_database(pg_admin, name)
    pgbench = str(bin_dir() / "pgbench")
    try:
        subprocess.run([pgbench, "-i", "-s", "1", "-q", url], check=True, capture_output=True)
        done = subprocess.run(
            [pgbench, "-S", "-c", "1", "-T", "5", "-n", "-M", "prepared", url],
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        drop_database(pg_admin, name)
    match = re.search(r"tps = ([\d.]+)", done.stdout)
    assert match, done.stdout
    tps = float(match.group(1))
    assert tps > 0
    bench_meta["pgbench_tps"] = tps
