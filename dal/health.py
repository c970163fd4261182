"""The health report: connectivity, latency, server version, migration head, sizes, pool."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from dal import migrate
from dal.arguments import checked
from dal.config import describe
from dal.db import Pool, connection
from dal.errors import translating

# Below this estimate a table is counted exactly; above it the planner's estimate is used.
_EXACT_COUNT_LIMIT = 200_000


@dataclass(frozen=True)
class Health:
    target: str
    server_version: str
    latency_ms: float
    migration_head: str | None
    pending_migrations: list[str]
    row_counts: dict[str, int]
    pool: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        head = self.migration_head or "(none applied)"
        pending = f", {len(self.pending_migrations)} pending" if self.pending_migrations else ""
        out = [
            f"database:   {self.target}",
            f"server:     {self.server_version}",
            f"latency:    {self.latency_ms:.2f} ms (SELECT 1 round trip)",
            f"migrations: head {head}{pending}",
            "tables:",
        ]
        width = max((len(t) for t in self.row_counts), default=0)
        out += [f"  {t:<{width}}  {n:>10,}" for t, n in sorted(self.row_counts.items())]
        if self.pool:
            stats = ", ".join(f"{k}={v}" for k, v in sorted(self.pool.items()))
            out.append(f"pool:       {stats}")
        return out


@checked
def check(pool: Pool, conninfo: str) -> Health:
    """Gather the health report through `pool` (which must be open)."""
    with connection(pool) as conn, translating():
        started = time.perf_counter()
        conn.execute("SELECT 1").fetchone()
        latency = (time.perf_counter() - started) * 1000
        version = conn.execute("SHOW server_version").fetchone()
        counts = _row_counts(conn)
    states = migrate.status(conninfo)
    applied = [s.id for s in states if s.applied]
    return Health(
        target=describe(conninfo),
        server_version=str(version[0]) if version else "unknown",
        latency_ms=latency,
        migration_head=applied[-1] if applied else None,
        pending_migrations=[s.id for s in states if not s.applied],
        row_counts=counts,
        pool={k: v for k, v in pool.get_stats().items() if k.startswith(("pool_", "requests_"))},
    )


def _row_counts(conn: Any) -> dict[str, int]:
    tables = conn.execute(
        """SELECT c.relname, c.reltuples::bigint
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND c.relname <> ALL(%s)
            ORDER BY 1""",
        [list(migrate.BOOKKEEPING_TABLES)],
    ).fetchall()
    counts: dict[str, int] = {}
    for name, estimate in tables:
        if estimate > _EXACT_COUNT_LIMIT:
            counts[name] = int(estimate)
            continue
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name))
        found = conn.execute(query).fetchone()
        counts[name] = int(found[0]) if found else 0
    return counts
