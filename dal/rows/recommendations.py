"""Row types of the recommendations area: the same classes in both flavours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from dal.rows.base import Row


@dataclass(frozen=True, slots=True)
class Recommendation(Row):
    """A recommendation for a user (table recommendations), perhaps tied to a mood."""

    id: int
    user_id: UUID
    mood_id: int | None
    mood_recorded_at: datetime | None
    kind: str
    content: str
    relevance_score: float
    created_at: datetime
    expires_at: datetime | None
    dismissed: bool
    dismissed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Feedback(Row):
    """A user's rating of a recommendation (table feedback): 1 to 5, one per user."""

    id: int
    user_id: UUID
    recommendation_id: int
    rating: int
    comment: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class KindRating(Row):
    """Ratings of one kind of recommendation: how many, and their average."""

    kind: str
    ratings: int
    average_rating: Decimal
