"""What a plan check states: parameters drawn from the data, expected indexes, a buffer bound."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from benchmarks.plans import PAGE_SIZE

Sample = Mapping[str, Any]  # interesting ids and values read from the loaded data set


@dataclass(frozen=True)
class Case:
    """`indexes`: each must appear in the plan; "a|b" accepts either (two indexes that
    both cover the lookup's columns, e.g. a pair key and its reverse)."""

    params: Callable[[Sample], dict[str, Any]]
    indexes: tuple[str, ...]
    max_buffers: int = 64
    # Rows a Sort may take. A page by default; raise it only where no index order can
    # exist (a rank or an aggregate, a merge of several index ranges), saying why.
    max_sorted: int = PAGE_SIZE


def same(params: dict[str, Any]) -> Callable[[Sample], dict[str, Any]]:
    """Parameters that do not depend on the data."""
    return lambda _sample: params
