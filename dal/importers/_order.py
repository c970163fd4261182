"""Keep a project's task order (the file's order) with as few row writes as possible.

Each stored task remembers a sort position. On re-import, the tasks whose stored
positions already follow the file's order (a longest increasing subsequence) keep
them; only the others ("moved") and new tasks get a position, interpolated between
their kept neighbours. So adding a subtask to task 3 of 90 rewrites nothing else.
Positions are JSON numbers (ints, floats after inserts between two kept tasks).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Mapping, Sequence

Position = int | float


def place(
    order: Sequence[str], stored: Mapping[str, Position | None]
) -> tuple[dict[str, Position], set[str]]:
    """Positions for every key of `order` (the file's order), and the stored keys that moved.

    `stored` maps the keys already in the project to their stored position (None when
    the row has none, e.g. a task created by hand).
    """
    present = [key for key in order if stored.get(key) is not None]
    kept = _increasing(present, stored)
    positions: dict[str, Position] = {}
    waiting: list[str] = []
    previous: Position | None = None
    for key in order:
        if key not in kept:
            waiting.append(key)
            continue
        here = stored[key]
        assert here is not None
        positions |= _between(waiting, previous, here)
        positions[key] = here
        waiting, previous = [], here
    positions |= _between(waiting, previous, None)
    values = [positions[key] for key in order]
    if any(a >= b for a, b in itertools.pairwise(values)):
        # Repeated inserts into one gap exhausted float precision: number afresh.
        positions = {key: index for index, key in enumerate(order)}
        kept = {key for key in present if stored[key] == positions[key]}
    moved = {key for key in order if key in stored and key not in kept}
    return positions, moved


def _increasing(keys: list[str], stored: Mapping[str, Position | None]) -> set[str]:
    """The keys of a longest subsequence of `keys` whose stored positions strictly increase."""
    tails: list[Position] = []  # smallest last value of an increasing run of each length
    tail_index: list[int] = []
    previous: list[int] = []
    for index, key in enumerate(keys):
        value = stored[key]
        assert value is not None
        length = bisect.bisect_left(tails, value)
        if length == len(tails):
            tails.append(value)
            tail_index.append(index)
        else:
            tails[length] = value
            tail_index[length] = index
        previous.append(tail_index[length - 1] if length else -1)
    kept: set[str] = set()
    index = tail_index[-1] if tail_index else -1
    while index >= 0:
        kept.add(keys[index])
        index = previous[index]
    return kept


def _between(keys: list[str], low: Position | None, high: Position | None) -> dict[str, Position]:
    """Evenly spaced positions strictly between `low` and `high` (integers at the ends)."""
    count = len(keys)
    if not count:
        return {}
    if low is None and high is None:
        return {key: index for index, key in enumerate(keys)}
    if high is None:
        assert low is not None
        start = int(low) + 1 if low == int(low) else low + 1
        return {key: start + index for index, key in enumerate(keys)}
    if low is None:
        start = int(high) - count if high == int(high) else high - count
        return {key: start + index for index, key in enumerate(keys)}
    step = (high - low) / (count + 1)
    return {key: low + step * (index + 1) for index, key in enumerate(keys)}
