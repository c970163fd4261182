"""Task Master's id, dependency, status and priority conventions.

Shared by the parser and the exporter so both read and write ids the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final

TM_STATUSES: Final = {
    "pending": "pending",
    "in-progress": "in_progress",
    "done": "done",
    "review": "review",
    "deferred": "deferred",
    "cancelled": "cancelled",
    "blocked": "blocked",
    "completed": "completed",  # only in tm-core's TaskStatus type, but written by some
}
"""Every status some Task Master version writes, to ours."""

STATUS_TO_TM: Final = {ours: tm for tm, ours in TM_STATUSES.items()}

_DIGITS = re.compile(r"[0-9]+")

Id = int | str


def default_id(local: str) -> Id:
    """How export writes an id part when the file gave no other form: 7, or "slug"."""
    return int(local) if _DIGITS.fullmatch(local) and str(int(local)) == local else local


def local_id(raw: Id) -> str:
    """A subtask's id within its parent: "7.1" and 1 both give "1" (as normalizeTaskIds)."""
    return str(raw).rsplit(".", 1)[-1]


def local_part(key: str, parent_key: str | None) -> str:
    """A key without its parent's prefix: "12.3" -> "3"; keys from elsewhere ("T003a") whole."""
    prefix = f"{parent_key}."
    return key[len(prefix) :] if parent_key is not None and key.startswith(prefix) else key


def candidates(dep: Id, parent_key: str | None, parents: Mapping[str, str | None]) -> list[str]:
    """The keys a `dependencies` entry may name, preferred first; empty if none exists.

    `parents` maps every key of the import to its parent key. As Task Master reads them: for a
    subtask of P an int means sibling P.<n>, or a top-level task when no sibling has
    that number (real files use both); a string means that key ("3.8" subtask 8 of task
    3, "2" or "rust-core" a top-level task), and a slug the import has no top-level task
    for means the sibling of that string id ("repo-issue-creation" for
    P.repo-issue-creation). A string of digits never names a sibling: text files write
    sibling dependencies dotted ("12.1") and other tasks by their number.
    """
    text = str(dep)
    if parent_key is not None and isinstance(dep, int):
        keys = [f"{parent_key}.{text}", text]
    elif parent_key is not None and not text.isdigit() and "." not in text:
        keys = [text, f"{parent_key}.{text}"]
    else:
        keys = [text]
    return [key for key in keys if key in parents]


def render(
    depends_on: Iterable[str], parent_key: str | None, parents: Mapping[str, str | None]
) -> list[Id]:
    """The default `dependencies` list for keys: what the JS CLI writes.

    Siblings as their number, top-level tasks as their id (a string when a sibling has
    the same number, so it cannot be misread), anything else as its full key.
    """
    out: list[Id] = []
    for key in depends_on:
        target_parent = parents.get(key)
        if parent_key is not None and target_parent == parent_key:
            sibling = default_id(local_part(key, parent_key))
            out.append(sibling if isinstance(sibling, int) else key)
        elif target_parent is None and key in parents:
            as_id = default_id(key)
            shadowed = parent_key is not None and f"{parent_key}.{key}" in parents
            out.append(key if shadowed else as_id)
        else:
            out.append(key)
    return out
