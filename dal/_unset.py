"""The UNSET sentinel of partial updates: "leave this column as it is" (None sets NULL)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()
"""Default of `update()` arguments: leave the column as it is (None sets NULL)."""


def update_params(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Named-query parameters for a partial update: `set_<name>` flags and values.

    For each field, ``set_<name>`` is True when a value was given, and ``<name>``
    is that value (None when UNSET), matching the
    ``col = CASE WHEN %(set_col)s THEN %(col)s ELSE col END`` pattern in `sql/`.
    """
    params: dict[str, Any] = {}
    for name, value in fields.items():
        given = not isinstance(value, _Unset)
        params[f"set_{name}"] = given
        params[name] = value if given else None
    return params


def any_given(fields: Mapping[str, Any]) -> bool:
    """Whether a partial update sets anything: with nothing given, callers return the
    row as it is rather than write it (a write would move updated_at and version)."""
    return any(not isinstance(value, _Unset) for value in fields.values())
