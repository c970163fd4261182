"""Deterministic, realistic seed data for every table, loaded with COPY.

`seed(conn, "dev" | "small" | "large", seed=N)` fills an empty database: each
table is streamed row by row into COPY (nothing of size is held in memory), in
foreign-key order, then ANALYZEd. The same profile and seed give the same rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dal.seed.profiles import PROFILES, Profile

if TYPE_CHECKING:
    from dal.seed.loader import reset, seed, table_names

__all__ = ["PROFILES", "Profile", "reset", "seed", "table_names"]


def __getattr__(name: str) -> Any:
    """The loader's functions, imported at their first use (the CLI's parser needs only
    the profiles' names)."""
    if name in ("reset", "seed", "table_names"):
        from dal.seed import loader

        return getattr(loader, name)
    raise AttributeError(f"module 'dal.seed' has no attribute {name!r}")
