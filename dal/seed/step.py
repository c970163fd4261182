"""One table's worth of seed rows: a name, its COPY columns, a row count, a generator."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

Hook = Callable[[psycopg.Connection[Any]], None]


@dataclass(frozen=True)
class Step:
    table: str
    columns: Sequence[str]
    expected_rows: int  # for the progress bar; the generator decides the real count
    rows: Callable[[], Iterator[Sequence[Any]]]
    # Run on the seeding connection just before / after this step's COPY (e.g. create
    # the partitions the rows need, or restore state a trigger check needed changed).
    before: Hook | None = None
    after: Hook | None = None
