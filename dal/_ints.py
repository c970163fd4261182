"""Integers entering the DAL must be integers.

psycopg sends a float as float8, and PostgreSQL's assignment cast to an integer
column rounds it: `capacity=2.5` would store 3 without a word. A bool is an int
to Python but not a count. Every DAL function that takes an integer column's
value checks it here first, before any query runs.
"""

from __future__ import annotations

from typing import TypeVar

from dal._unset import _Unset
from dal.errors import InvalidData

T = TypeVar("T")


def require_int(value: T, field: str) -> T:
    """`value` unchanged if it is an int (not a bool); InvalidData(column=field) if not.

    None and UNSET (NULL, or "leave as it is") pass through.
    """
    if value is None or isinstance(value, _Unset):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidData(f"{field} must be an integer, not {value!r}", column=field)
    return value
