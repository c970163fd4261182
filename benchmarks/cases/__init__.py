"""The plan check of every named query, one module per area.

Every query in `sql/` must appear in an area's CASES (its plan is checked) or
EXEMPT (with the reason it needs none); `test_every_query_has_a_plan_check`
fails otherwise, so a new query cannot land unchecked. Each area module also
has `sample(conn)`: the ids its cases use, read from the loaded data set.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import psycopg

from benchmarks.cases import community, configuration, identity, importing, tracking, wellbeing
from benchmarks.cases.base import Case, Sample

AREAS: list[ModuleType] = [identity, tracking, importing, community, wellbeing, configuration]

CASES: dict[str, Case] = {}
EXEMPT: dict[str, str] = {}
for _area in AREAS:
    CASES.update(_area.CASES)
    EXEMPT.update(_area.EXEMPT)


def sample(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for area in AREAS:
        found.update(area.sample(conn))
    return found


__all__ = ["CASES", "EXEMPT", "Case", "Sample", "sample"]
