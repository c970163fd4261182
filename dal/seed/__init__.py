"""Deterministic, realistic seed data for every table, loaded with COPY.

`seed(conn, "dev" | "small" | "large", seed=N)` fills an empty database: each
table is streamed row by row into COPY (nothing of size is held in memory), in
foreign-key order, then ANALYZEd. The same profile and seed give the same rows.
"""

from dal.seed.loader import reset, seed, table_names
from dal.seed.profiles import PROFILES, Profile

__all__ = ["PROFILES", "Profile", "reset", "seed", "table_names"]
