"""Row types of the surveys area: the same classes in both flavours."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from dal.rows.base import Row


@dataclass(frozen=True, slots=True)
class Survey(Row):
    """A server's survey (table surveys), open between `opens_at` and `closes_at`."""

    id: int
    server_id: int
    event_id: int | None
    creator_id: UUID | None
    title: str
    description: str
    opens_at: datetime
    closes_at: datetime
    anonymous: bool
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Question(Row):
    """One question of a survey (table survey_questions), at its position."""

    id: int
    survey_id: int
    position: int
    kind: str
    prompt: str
    options: Any  # list[str] for choices, {"min": n, "max": m} for ratings, {} for text


@dataclass(frozen=True, slots=True)
class Response(Row):
    """A member's answer to one question (table survey_responses)."""

    question_id: int
    user_id: UUID
    answer: Any
    answered_at: datetime


@dataclass(frozen=True, slots=True)
class _Totals(Row):
    question_id: int
    position: int
    kind: str
    prompt: str
    answers: int
    average_rating: Decimal | None


@dataclass(frozen=True, slots=True)
class QuestionResult(Row):
    """One question's aggregate: answer count, votes per option, average rating."""

    question_id: int
    position: int
    kind: str
    prompt: str
    answers: int
    option_counts: dict[str, int] = field(default_factory=dict)
    average_rating: float | None = None
