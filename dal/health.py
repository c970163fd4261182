"""Health: a one-round-trip `ping` for probes, and the full report behind `dal health`.

`ping` is what a liveness or readiness probe calls: one statement, no table read.
`check` gathers the report an operator reads: latency, server version, the migration
head against the code's, pending or edited migrations, pool statistics, queries running
long, and sessions waiting for a lock. It says it is unhealthy (`Health.healthy`) when
the schema and the code disagree; slow queries and lock waits are warnings.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from dal import migrate
from dal.arguments import checked
from dal.config import describe
from dal.db import Db, Pool, connection
from dal.errors import MigrationError, translating

LONG_RUNNING_S = 30.0  # a query running longer is reported

_PING = "SELECT current_setting('server_version'), pg_is_in_recovery()"

# Other sessions' statements running past the threshold; never their text's parameters
# (the server shows statements as sent: the DAL's are bound, so the text holds none).
_LONG_RUNNING = """
SELECT pid, usename, application_name, state,
       extract(epoch FROM now() - query_start)::float8 AS seconds, left(query, 200)
  FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid()
   AND state <> 'idle' AND now() - query_start > make_interval(secs => %(threshold)s)
 ORDER BY query_start
"""

# Sessions waiting for a lock, and who holds them up.
_WAITING = """
SELECT pid, usename, pg_blocking_pids(pid),
       extract(epoch FROM now() - state_change)::float8 AS seconds, left(query, 200)
  FROM pg_stat_activity
 WHERE datname = current_database() AND wait_event_type = 'Lock'
 ORDER BY state_change
"""

# Rows per table from the planner's statistics: no table is read.
_ESTIMATES = """
SELECT c.relname, greatest(c.reltuples, 0)::bigint
  FROM pg_class c
 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
   AND NOT c.relispartition AND c.relname <> ALL(%(skip)s)
 ORDER BY 1
"""


@dataclass(frozen=True)
class Ping:
    """What one round trip learnt: the server answers, its version, whether it is a
    standby (in recovery: it takes no writes)."""

    latency_ms: float
    server_version: str
    in_recovery: bool


@dataclass(frozen=True)
class Session:
    """Another session running long or waiting for a lock (`blocked_by`: the pids it waits
    for). `query` is the first 200 characters of its statement."""

    pid: int
    user: str | None
    seconds: float
    query: str
    application: str | None = None
    state: str | None = None
    blocked_by: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Health:
    """The full report; `problems` say why it is not `healthy`, `warnings` what to look at."""

    target: str
    server_version: str
    in_recovery: bool
    latency_ms: float
    migration_head: str | None
    code_head: str | None
    pending_migrations: list[str]
    edited_migrations: list[str]
    long_running: list[Session]
    waiting_for_locks: list[Session]
    estimated_rows: dict[str, int]
    pool: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def warnings(self) -> list[str]:
        said = [
            f"query of pid {s.pid} running {s.seconds:.0f} s: {s.query}" for s in self.long_running
        ]
        said += [
            f"pid {s.pid} waiting {s.seconds:.0f} s for a lock held by {s.blocked_by}"
            for s in self.waiting_for_locks
        ]
        return said

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values (``dal health --json``)."""
        return asdict(self) | {"healthy": self.healthy, "warnings": self.warnings}

    def lines(self) -> list[str]:
        """The report as text, one fact a line."""
        head = self.migration_head or "(none applied)"
        pending = f", {len(self.pending_migrations)} pending" if self.pending_migrations else ""
        role = "standby (read-only)" if self.in_recovery else "primary"
        out = [
            f"status:     {'healthy' if self.healthy else 'UNHEALTHY'}",
            f"database:   {self.target}",
            f"server:     {self.server_version}, {role}",
            f"latency:    {self.latency_ms:.2f} ms (one round trip)",
            f"migrations: head {head} (code: {self.code_head or 'none'}){pending}",
        ]
        out += [f"problem:    {p}" for p in self.problems]
        out += [f"warning:    {w}" for w in self.warnings]
        if self.pool:
            stats = ", ".join(f"{k}={v}" for k, v in sorted(self.pool.items()))
            out.append(f"pool:       {stats}")
        out.append("rows (planner's estimates):")
        width = max((len(t) for t in self.estimated_rows), default=0)
        out += [f"  {t:<{width}}  {n:>10,}" for t, n in sorted(self.estimated_rows.items())]
        return out


@checked
def ping(db: Db) -> Ping:
    """One round trip to the server, reading no table: for liveness and readiness probes.

    Raises `Unavailable` (or `ConnectionLost`) when the server does not answer."""
    with connection(db) as conn, translating():
        started = time.perf_counter()
        row = conn.execute(_PING).fetchone()
        latency = (time.perf_counter() - started) * 1000
    version, in_recovery = row if row else ("unknown", False)
    return Ping(latency_ms=latency, server_version=str(version), in_recovery=bool(in_recovery))


@checked
def check(pool: Pool, conninfo: str, *, long_running_s: float = LONG_RUNNING_S) -> Health:
    """Gather the full report through `pool` (which must be open); `conninfo` is where the
    migrations are read (the owner's URL or the application's: both may read them).
    A statement running longer than `long_running_s` seconds is a warning."""
    answer = ping(pool)
    with connection(pool) as conn, translating():
        slow = [
            Session(pid=r[0], user=r[1], application=r[2], state=r[3], seconds=r[4], query=r[5])
            for r in conn.execute(_LONG_RUNNING, {"threshold": long_running_s}).fetchall()
        ]
        waiting = [
            Session(pid=r[0], user=r[1], blocked_by=list(r[2]), seconds=r[3], query=r[4])
            for r in conn.execute(_WAITING).fetchall()
        ]
        skip = list(migrate.BOOKKEEPING_TABLES)
        rows = {str(r[0]): int(r[1]) for r in conn.execute(_ESTIMATES, {"skip": skip})}
    problems: list[str] = []
    try:
        states = migrate.status(conninfo)
    except MigrationError as exc:  # the database is ahead of the code, or unreadable
        states, problems = [], [exc.message]
    applied = [s.id for s in states if s.applied]
    pending = [s.id for s in states if not s.applied]
    edited = [s.id for s in states if s.drifted]
    if pending:
        problems.append(f"{len(pending)} migration(s) not applied: {', '.join(pending)}")
    if edited:
        problems.append(f"migration(s) edited since applied: {', '.join(edited)}")
    return Health(
        target=describe(conninfo),
        server_version=answer.server_version,
        in_recovery=answer.in_recovery,
        latency_ms=answer.latency_ms,
        migration_head=applied[-1] if applied else None,
        code_head=states[-1].id if states else None,
        pending_migrations=pending,
        edited_migrations=edited,
        long_running=slow,
        waiting_for_locks=waiting,
        estimated_rows=rows,
        pool={k: v for k, v in pool.get_stats().items() if k.startswith(("pool_", "requests_"))},
        problems=problems,
    )
