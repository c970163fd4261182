"""Graph helpers shared by the parsers and the import plan (key order: dal._keys)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import TypeVar

Node = TypeVar("Node", bound=Hashable)


def find_cycle(edges: Mapping[Node, Iterable[Node]]) -> list[Node] | None:
    """A dependency cycle as a path that starts and ends on the same node, or None.

    Nodes are keys for a file, task ids (and keys of tasks not yet stored) for a project.

    Iterative depth-first search (files can hold long chains; no recursion limit),
    visiting keys in the mapping's order so the reported cycle is deterministic.
    """
    done: set[Node] = set()
    for start in edges:
        if start in done:
            continue
        path: list[Node] = [start]
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
