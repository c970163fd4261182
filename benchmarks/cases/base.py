"""What a plan check states: parameters drawn from the data, expected indexes, a buffer bound."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

Sample = Mapping[str, Any]  # interesting ids and values read from the loaded data set


@dataclass(frozen=True)
class Inner:
    """A statement a SECURITY DEFINER function runs for a query. Its plan is not in
    the query's EXPLAIN (a Function Scan is all it shows), so it is checked on its own,
    as the function's owner runs it for the acting user.

    `statement` counts the function's dynamic statements (its `$q$ ... $q$` texts,
    run by EXECUTE with their values, as plans.explain_function_statement says);
    `args` is a SELECT giving their $1, $2, ... in that same context, with the case's
    parameters as `%(name)s`."""

    function: str  # its signature, as regprocedure reads it
    statement: int
    args: str
    indexes: tuple[str, ...]
    max_buffers: int
    max_sort_rows: int | None = None
    grows_with_data: bool = False

    def as_case(self) -> Case:
        """The statement's bounds as a plan check holds them."""
        return Case(
            params=lambda _sample: {},
            indexes=self.indexes,
            max_buffers=self.max_buffers,
            max_sort_rows=self.max_sort_rows,
            grows_with_data=self.grows_with_data,
        )


@dataclass(frozen=True)
class Case:
    params: Callable[[Sample], dict[str, Any]]
    indexes: tuple[str, ...]
    max_buffers: int = 64
    # Rows a Sort may take. The default is one page: where a query has an index
    # order it must use it. Set it only where no index order can exist, and say why.
    max_sort_rows: int | None = None
    # True where the work is inherently a share of the data (ranked full-text matches,
    # one user's unpaginated memberships, a period's ratings): the bounds, stated for
    # the `ci` data set, then grow with the data set (x10 at `large`). Otherwise a
    # bound holds at any size: that is what an index is for.
    grows_with_data: bool = False
    # Under row-level security, where the policies cost more than reading the acting
    # user's servers or projects once (POLICY_BUFFERS): a probe per row, or an index
    # the policy forces. Set them only where that is so, and say why.
    rls_max_buffers: int | None = None
    rls_indexes: tuple[str, ...] | None = None
    rls_max_sort_rows: int | None = None
    # Where the query's work is done inside a SECURITY DEFINER function.
    inner: tuple[Inner, ...] = ()

    def under_rls(self) -> Case:
        """The case as the plan check under row-level security holds it."""
        return dataclasses.replace(
            self,
            indexes=self.indexes if self.rls_indexes is None else self.rls_indexes,
            max_buffers=self.max_buffers if self.rls_max_buffers is None else self.rls_max_buffers,
            max_sort_rows=self.rls_max_sort_rows or self.max_sort_rows,
        )

    def bounds(self, scale: float) -> tuple[int, int | None]:
        """(max buffers, max sorted rows) at a data set `scale` times the ci one."""
        factor = max(1.0, scale) if self.grows_with_data else 1.0
        sort = None if self.max_sort_rows is None else round(self.max_sort_rows * factor)
        return round(self.max_buffers * factor), sort


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
