"""Moods: a person's mood entries, monthly-partitioned (queries in `sql/moods.sql`).

Partitions are `moods_yYYYYmMM` (UTC months) plus `moods_default`, which
takes any row no month covers. Call `ensure_partitions()` from a monthly job
(the migration already made last month through three months ahead); a month
created after rows for it landed in the default partition takes those rows
over in the same transaction.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final
from uuid import UUID

from dal._unset import UNSET, _Unset, update_params
from dal.aio import keyset, queries
from dal.aio.db import Db, transaction
from dal.aio.keyset import TimeOrder
from dal.arguments import checked
from dal.errors import InvalidData, NotFound
from dal.pagination import Page
from dal.rows.moods import DailyAverage, Mood, Partition

__all__ = [
    "MOODS",
    "DailyAverage",
    "Mood",
    "Partition",
    "daily_averages",
    "delete",
    "ensure_partitions",
    "get",
    "history",
    "partitions",
    "record",
    "update",
]

MOODS: Final = (
    "joyful",
    "content",
    "calm",
    "neutral",
    "tired",
    "anxious",
    "stressed",
    "sad",
    "angry",
    "lonely",
)

# A user's moods, newest first.
_NEWEST_FIRST: Final = TimeOrder(
    Mood,
    "moods.list_first_page",
    "moods.list_page_after",
    ("before_recorded_at", "before_id"),
    int,
    lambda mood: (mood.recorded_at, mood.id),
)


@checked
async def record(
    db: Db,
    user_id: UUID,
    *,
    mood: str,
    intensity: int,
    notes: str | None = None,
    recorded_at: datetime | None = None,
) -> Mood:
    """Record a mood (now, unless recorded_at is given; it must be timezone-aware).

    InvalidData names the rule: moods_mood_valid, moods_intensity_range, moods_notes_length.
    """
    params = {
        "user_id": user_id,
        "recorded_at": recorded_at,
        "mood": mood,
        "intensity": intensity,
        "notes": notes,
    }
    found = await queries.fetch_one(db, "moods.insert", params, Mood)
    assert found is not None
    return found


@checked
async def get(db: Db, user_id: UUID, mood_id: int, recorded_at: datetime) -> Mood:
    """One of the user's moods by its key; NotFound otherwise (also for another's mood)."""
    params = {
        "id": mood_id,
        "recorded_at": recorded_at,
        "user_id": user_id,
    }
    found = await queries.fetch_one(db, "moods.get", params, Mood)
    if found is None:
        raise NotFound(f"no mood {mood_id} at {recorded_at} for this user", table="moods")
    return found


@checked
async def update(
    db: Db,
    user_id: UUID,
    mood_id: int,
    recorded_at: datetime,
    *,
    mood: str | _Unset = UNSET,
    intensity: int | _Unset = UNSET,
    notes: str | _Unset | None = UNSET,
) -> Mood:
    """Change the given fields of one of the user's moods (notes=None clears the notes).

    The entry keeps its time (recorded_at is its key and its partition).
    InvalidData names the rule as for `record`; NotFound unless the mood is the user's.
    """
    fields: dict[str, Any] = {
        "mood": mood,
        "intensity": intensity,
        "notes": notes,
    }
    params: dict[str, Any] = {
        "id": mood_id,
        "recorded_at": recorded_at,
        "user_id": user_id,
    } | update_params(fields)
    found = await queries.fetch_one(db, "moods.update", params, Mood)
    if found is None:
        raise NotFound(f"no mood {mood_id} at {recorded_at} for this user", table="moods")
    return found


@checked
async def delete(db: Db, user_id: UUID, mood_id: int, recorded_at: datetime) -> None:
    """Delete the user's mood `mood_id` recorded at `recorded_at` (the partition key);
    NotFound if the user has no such mood."""
    params = {
        "id": mood_id,
        "recorded_at": recorded_at,
        "user_id": user_id,
    }
    if await queries.execute(db, "moods.delete", params) == 0:
        raise NotFound(f"no mood {mood_id} at {recorded_at} for this user", table="moods")


def _period(since: datetime, until: datetime) -> None:
    if since >= until:
        raise InvalidData("since must be before until", column="since")


@checked
async def history(
    db: Db,
    user_id: UUID,
    *,
    since: datetime,
    until: datetime,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Mood]:
    """The user's moods in [since, until), newest first, one keyset page at a time.

    Only the partitions overlapping the period are read.
    """
    _period(since, until)
    params = {"user_id": user_id, "since": since, "until": until}
    return await keyset.page(db, _NEWEST_FIRST, params, cursor=cursor, limit=limit)


@checked
async def daily_averages(
    db: Db, user_id: UUID, *, since: datetime, until: datetime, time_zone: str = "UTC"
) -> list[DailyAverage]:
    """Per day (in `time_zone`) of [since, until): the number of entries and mean intensity.

    Days without entries are left out. An unknown time zone raises InvalidData.
    """
    _period(since, until)
    params = {"user_id": user_id, "since": since, "until": until, "time_zone": time_zone}
    return await queries.fetch_all(db, "moods.daily_averages", params, DailyAverage)


@checked
async def ensure_partitions(db: Db, months_ahead: int = 3, start: date | None = None) -> list[str]:
    """Create the month partitions from `start` (default: this UTC month) through

    `months_ahead` months later, each with its named index; returns the names
    created (existing ones are skipped). Rows waiting in moods_default for a
    new month move into it. Safe to run concurrently (an advisory lock
    serialises callers) and to repeat.
    """
    if not 0 <= months_ahead <= 120:
        raise InvalidData("months_ahead must be between 0 and 120", column="months_ahead")
    async with transaction(db) as conn:
        first = start or await queries.fetch_value(conn, "moods.current_month", {})
        params = {"from_month": first, "months_ahead": months_ahead}
        return [
            row[0] for row in await queries.fetch_tuples(conn, "moods.ensure_partitions", params)
        ]


@checked
async def partitions(db: Db) -> list[Partition]:
    """The partitions of moods, by name, with their bounds and number of indexes."""
    return await queries.fetch_all(db, "moods.list_partitions", {}, Partition)
