"""Streaming rows into COPY with a progress bar."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter


def copy_rows(
    conn: psycopg.Connection[Any],
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    total: int | None = None,
    progress: bool = True,
) -> int:
    """COPY `rows` into `table`; return how many were written."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    written = 0
    bar = _progress_bar(
        total=total,
        desc=f"{table:<20}",
        unit=" rows",
        unit_scale=True,
        disable=not progress,
        file=sys.stderr,
        leave=True,
        mininterval=0.5,
    )
    # A queued writer sends to the server from a thread while this one generates rows.
    with bar, conn.cursor() as cur, cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
        for row in rows:
            copy.write_row(row)
            written += 1
            if written % 5000 == 0:
                bar.update(5000)
        bar.update(written % 5000)
    return written


class _NoBar:
    """What stands for a progress bar without tqdm (the `seed` extra) or when off."""

    def update(self, n: int = 1) -> None:
        """Nothing to show."""

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _progress_bar(**options: Any) -> Any:
    """A tqdm bar, or a `_NoBar` when tqdm is not installed or the bar is off."""
    if options.get("disable"):
        return _NoBar()
    try:
        from tqdm import tqdm
    except ModuleNotFoundError:
        return _NoBar()
    return tqdm(**options)
