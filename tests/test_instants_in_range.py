"""An aware datetime whose UTC value Python cannot hold (outside the years 1 to 9999)
is refused before the write: no call raises after its write committed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from dal import events, moods, recommendations, surveys, tasks
from dal.errors import InvalidData
from tests.community_helpers import server
from tests.factories import count, user

pytestmark = pytest.mark.flavours

EARLIEST = datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=14)))  # year 0 in UTC
LATEST = datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-14)))  # year 10000
NOW = datetime.now(UTC)

CASES: dict[str, tuple[str, str, Callable[[Any, Any, Any, datetime], Any]]] = {
    "tasks.create": (
        "tasks",
        "due_at",
        lambda db, who, _srv, at: tasks.create(db, owner_id=who.id, title="t", due_at=at),
    ),
    "moods.record": (
        "moods",
        "recorded_at",
        lambda db, who, _srv, at: moods.record(
            db, user_id=who.id, mood="calm", intensity=3, recorded_at=at
        ),
    ),
    "events.create": (
        "events",
        "ends_at",
        lambda db, who, srv, at: events.create(
            db, server_id=srv.id, creator_id=who.id, title="e", starts_at=NOW, ends_at=at
        ),
    ),
    "surveys.create": (
        "surveys",
        "closes_at",
        lambda db, _who, srv, at: surveys.create(
            db, server_id=srv.id, title="s", opens_at=NOW, closes_at=at
        ),
    ),
    "recommendations.create": (
        "recommendations",
        "expires_at",
        lambda db, who, _srv, at: recommendations.create(
            db, who.id, kind="activity", content="walk", relevance_score=0.5, expires_at=at
        ),
    ),
}


@pytest.mark.parametrize("at", [EARLIEST, LATEST], ids=["before year 1", "after year 9999"])
@pytest.mark.parametrize("case", list(CASES))
def test_an_instant_python_cannot_read_back_is_refused_before_the_write(
    conn: Any, pool: Any, case: str, at: datetime
) -> None:
    table, field, call = CASES[case]
    who, srv = user(conn), server(conn)
    before = count(conn, table)
    with pytest.raises(InvalidData) as refused:
        call(pool, who, srv, at)
    assert refused.value.column == field
    assert count(conn, table) == before
