"""Graph and ordering helpers shared by the parsers and the import plan."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_CHUNK = re.compile(r"(\d+)")


def natural_key(key: str) -> tuple[tuple[int, str], ...]:
    """Sort key putting "2" before "10" and "1.2" before "1.10"."""
    return tuple(
        (int(chunk), "") if chunk.isdigit() else (-1, chunk) for chunk in _CHUNK.split(key) if chunk
    )


def find_cycle(edges: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A dependency cycle as a path that starts and ends on the same key, or None.

    Iterative depth-first search (files can hold long chains; no recursion limit),
    visiting keys in the mapping's order so the reported cycle is deterministic.
    """
    done: set[str] = set()
    for start in edges:
        if start in done:
            continue
        path: list[str] = [start]
        on_path = {start}
        stack = [iter(edges.get(start, ()))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                continue
            if nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in done:
                path.append(nxt)
                on_path.add(nxt)
                stack.append(iter(edges.get(nxt, ())))
    return None
