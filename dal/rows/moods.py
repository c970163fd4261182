"""Row types of the moods area: the same classes in both flavours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Mood:
    id: int
    user_id: UUID
    recorded_at: datetime
    mood: str
    intensity: int
    notes: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DailyAverage:
    day: date
    entries: int
    average_intensity: Decimal


@dataclass(frozen=True, slots=True)
class Partition:
    name: str
    bounds: str  # "FOR VALUES FROM (...) TO (...)" or "DEFAULT"
    index_count: int
