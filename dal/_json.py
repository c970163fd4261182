"""JSON values entering and leaving the DAL.

Entering: psycopg serialises a `Jsonb` only while it sends the query, where a
value JSON cannot hold (a set, an object, NaN) would surface as a bare TypeError
or ValueError. Here it is serialised once, up front, and refused as InvalidData
naming the column (and, for columns that must hold an object, the CHECK).

Leaving: `loads` parses json and jsonb columns on the DAL's connections. orjson
does it thirty times faster than the standard library for a small object, which
is a quarter of the time a page of tasks spends in Python; it gives the same
values, except for what the standard library is kept for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import orjson
from psycopg.abc import AdaptContext, Buffer
from psycopg.adapt import Loader
from psycopg.types.json import Jsonb, set_json_loads

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


# orjson turns an integer beyond 64 bits into a float, where jsonb holds it exactly
# and the standard library gives it back exact; 19 digits in a row may be one.
_LONG_NUMBER = re.compile(rb"[0-9]{19}")


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse a json or jsonb value from the server, as `json.loads` would."""
    raw = data if type(data) is bytes else data.encode() if isinstance(data, str) else bytes(data)
    if len(raw) < 19 or _LONG_NUMBER.search(raw) is None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:  # a number beyond a double, such as 1e400
            pass
    return json.loads(raw)


class _TextLoader(Loader):
    """json and jsonb in text format, parsed by `loads` in one call (psycopg's own
    loader adds a call of its own around the function it is given: on a page of 50
    rows that was a tenth of the time spent in Python)."""

    def load(self, data: Buffer) -> Any:
        return loads(data)


def use_loads(context: AdaptContext) -> None:
    """Parse json and jsonb with `loads` on `context` (a connection): text format by
    `_TextLoader`, binary through psycopg's own loaders."""
    set_json_loads(loads, context)
    for name in ("json", "jsonb"):
        context.adapters.register_loader(name, _TextLoader)
