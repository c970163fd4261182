"""One table's worth of seed rows: a name, its COPY columns, a row count, a generator."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Step:
    table: str
    columns: Sequence[str]
    expected_rows: int  # for the progress bar; the generator decides the real count
    rows: Callable[[], Iterator[Sequence[Any]]]
