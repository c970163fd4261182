"""What a plan check states: parameters drawn from the data, expected indexes, a buffer bound."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

Sample = Mapping[str, Any]  # interesting ids and values read from the loaded data set


@dataclass(frozen=True)
class Case:
    params: Callable[[Sample], dict[str, Any]]
    indexes: tuple[str, ...]
    max_buffers: int = 64
    # Rows a Sort may take. The default is one page: where a query has an index
    # order it must use it. Set it only where no index order can exist, and say why.
    max_sort_rows: int | None = None


def same(params: dict[str, Any]) -> Callable[[Sample], dict[str, Any]]:
    """Parameters that do not depend on the data."""
    return lambda _sample: params


def one(
    conn: psycopg.Connection[Any],
    query: Any,
    params: Sequence[Any] | Mapping[str, Any] | None = None,
) -> tuple[Any, ...]:
    """The single row a sampling query must find."""
    row = conn.execute(query, params).fetchone()
    assert row is not None, query
    return tuple(row)
