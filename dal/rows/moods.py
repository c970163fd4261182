"""Row types of the moods area: the same classes in both flavours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from dal.rows.base import Row


@dataclass(frozen=True, slots=True)
class Mood(Row):
    """One mood a user recorded (table moods, partitioned by month of `recorded_at`)."""

    id: int
    user_id: UUID
    recorded_at: datetime
    mood: str
    intensity: int
    notes: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DailyAverage(Row):
    """A user's moods of one day: how many, and their average intensity."""

    day: date
    entries: int
    average_intensity: Decimal


@dataclass(frozen=True, slots=True)
class Partition(Row):
    """One monthly partition of moods (or the default one), for `moods.partitions`."""

    name: str
    bounds: str  # "FOR VALUES FROM (...) TO (...)" or "DEFAULT"
    index_count: int
