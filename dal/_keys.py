"""The natural order of task keys, shared by `dal.tasks` and `dal.importers`.

One function, so that a project's tree and its export list tasks in the same order.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"(\d+)")

NaturalKey = tuple[tuple[tuple[int, int, str], ...], str]


def natural_key(key: str) -> NaturalKey:
    """Sort key for task keys: runs of digits compare as numbers, and a number sorts
    before a word ("1" < "1.2" < "1.10" < "2" < "10" < "T001" < "T2" < "T10").

    The key itself breaks the remaining ties ("01" and "1"), so the order is total.
    """
    parts = tuple(
        (0, int(chunk), "") if chunk.isdigit() else (1, 0, chunk)
        for chunk in _DIGITS.split(key)
        if chunk
    )
    return parts, key
