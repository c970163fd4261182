"""JSON values entering the DAL: checked in Python, so bad input is a typed error.

psycopg serialises a `Jsonb` only while it sends the query, where a value JSON
cannot hold (a set, an object, NaN) would surface as a bare TypeError or
ValueError. Here it is serialised once, up front, and refused as InvalidData
naming the column (and, for columns that must hold an object, the CHECK).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from psycopg.types.json import Jsonb

from dal.errors import InvalidData


def jsonb(value: Any, column: str, *, object_constraint: str | None = None) -> Jsonb:
    """`value` as a jsonb parameter; InvalidData if it is not JSON.

    With `object_constraint` (the CHECK that keeps the column an object), a value
    that is not a mapping is refused under that constraint's name.
    """
    if object_constraint is not None and not isinstance(value, Mapping):
        raise InvalidData(
            f"{column} must be a JSON object (a mapping), not {type(value).__name__}",
            constraint=object_constraint,
            column=column,
        )
    if isinstance(value, Mapping) and not isinstance(value, dict):
        value = dict(value)  # any Mapping the signatures accept, not only dicts
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidData(f"{column} is not valid JSON: {exc}", column=column) from None
    return Jsonb(value, dumps=lambda _value: text)
