"""Client and server pinned to known cores while the sides of a comparison are timed.

On a small virtual machine a round trip costs two to four times more when the
client and its server backend run on different cores than when they share one:
waking the other core goes through the hypervisor. Left to the scheduler, two
connections of one run land differently: in one run the naive side's backend
shared the client's core and took 24 µs a lookup while the DAL's, on the other
core, took 69 µs. So the comparisons are timed three ways, every side alike, the
last two with the client and the server (the postmaster, whose backends inherit
its CPU set when they fork) pinned:

- unpinned (the report's main table): as a service runs, the scheduler placing
  both; each connection's backend lands where it lands, which the shuffled rounds
  of benchmarks/paired.py spread over every side;
- one core (the second table): the round trip at its cheapest, so the comparison
  shows what each client stack costs, as pgbench's floor does for C;
- two cores (the third table): each wake-up pays the hypervisor, a cost no client
  can change that shrinks every ratio, as a network would; there the report
  compares each side's time above the server's floor (pgbench in the same place).

Only a server on this machine can be pinned; elsewhere, or without the right to
set another process's CPU set, the run goes on unpinned and the report says so.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psycopg

_LOCAL = ("127.0.0.1", "::1", "localhost")
# The cores this process may use, read before any pinning (a pinned block may nest).
_CORES = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def _postmaster(conn: psycopg.Connection[object]) -> int | None:
    """The pid of the server's postmaster, if the server runs on this machine."""
    host = conn.info.host
    if not (host.startswith("/") or host in _LOCAL):
        return None
    backend = Path(f"/proc/{conn.info.backend_pid}")
    try:
        if (backend / "comm").read_text().strip() != "postgres":
            return None
        # /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces.
        parent = int((backend / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return parent


@contextmanager
def pinned(conninfo: str, *, one_core: bool) -> Iterator[str]:
    """Pin this thread to the first core and the server to the same core (`one_core`)
    or the last one, for the block; yields how the run was placed, for the report.
    Connections opened inside the block get the server's placement."""
    cores = _CORES
    if len(cores) < 2:
        yield "not pinned (fewer than two cores)"
        return
    with psycopg.connect(conninfo) as conn:
        postmaster = _postmaster(conn)
    if postmaster is None:
        yield "not pinned (the server is not on this machine)"
        return
    client = cores[0]
    server = client if one_core else cores[-1]
    own, servers = os.sched_getaffinity(0), os.sched_getaffinity(postmaster)
    try:
        os.sched_setaffinity(postmaster, {server})
        os.sched_setaffinity(0, {client})
    except PermissionError:
        _restore(postmaster, servers)
        yield "not pinned (no permission to set the server's CPU set)"
        return
    placement = f"client on CPU {client}, server on CPU {server}"
    try:
        yield f"client and server on CPU {client}" if one_core else placement
    finally:
        os.sched_setaffinity(0, own)
        _restore(postmaster, servers)


UNPINNED = "client and server unpinned, placed by the scheduler"


@contextmanager
def placed(conninfo: str, placement: str) -> Iterator[str]:
    """`pinned` by name: "unpinned", "one_core" or "two_cores"; yields the placement."""
    if placement == "unpinned":
        yield UNPINNED
        return
    with pinned(conninfo, one_core=placement == "one_core") as where:
        yield where


def _restore(postmaster: int, cores: set[int]) -> None:
    """Give the server its cores back (backends forked meanwhile keep the pinned set
    until they exit: the benchmarks close theirs)."""
    with suppress(OSError):  # the server stopped meanwhile
        os.sched_setaffinity(postmaster, cores)
