"""Surveys, questions and answers, with aggregated results (queries in `sql/surveys.sql`).

The database checks each answer against its question's kind and options and
the survey's window (trigger survey_responses_check_answer), so InvalidData
names survey_responses_answer_matches_kind or survey_responses_within_window.
Results are aggregates only; who answered is available for named surveys
alone (`named_responses`), never for anonymous ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final
from uuid import UUID

from psycopg.types.json import Jsonb

from dal import queries
from dal._time import require_aware
from dal.db import Db, snapshot, transaction
from dal.errors import InvalidData, NotFound
from dal.pagination import check_limit

KINDS: Final = ("single_choice", "multi_choice", "rating", "text")
STATUSES: Final = ("draft", "published", "cancelled")


@dataclass(frozen=True, slots=True)
class Survey:
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
class Question:
    id: int
    survey_id: int
    position: int
    kind: str
    prompt: str
    options: Any  # list[str] for choices, {"min": n, "max": m} for ratings, {} for text


@dataclass(frozen=True, slots=True)
class Response:
    question_id: int
    user_id: UUID
    answer: Any
    answered_at: datetime


@dataclass(frozen=True, slots=True)
class _Totals:
    question_id: int
    position: int
    kind: str
    prompt: str
    answers: int
    average_rating: Decimal | None


@dataclass(frozen=True, slots=True)
class QuestionResult:
    """One question's aggregate: answer count, votes per option, average rating."""

    question_id: int
    position: int
    kind: str
    prompt: str
    answers: int
    option_counts: dict[str, int] = field(default_factory=dict)
    average_rating: float | None = None


def _found(survey: Survey | None, survey_id: int) -> Survey:
    if survey is None:
        raise NotFound(f"no survey with id {survey_id}", table="surveys")
    return survey


def create(
    db: Db,
    *,
    server_id: int,
    title: str,
    opens_at: datetime,
    closes_at: datetime,
    creator_id: UUID | None = None,
    event_id: int | None = None,
    description: str = "",
    anonymous: bool = False,
) -> Survey:
    """Create a draft survey. The event, if any, must be in the same server

    (ReferenceMissing surveys_event_id_fkey); InvalidData surveys_opens_before_closes.
    """
    params = {
        "server_id": server_id,
        "event_id": event_id,
        "creator_id": creator_id,
        "title": title,
        "description": description,
        "opens_at": require_aware(opens_at, "opens_at"),
        "closes_at": require_aware(closes_at, "closes_at"),
        "anonymous": anonymous,
    }
    found = queries.fetch_one(db, "surveys.insert", params, Survey)
    assert found is not None
    return found


def get(db: Db, survey_id: int) -> Survey:
    """The survey with this id; NotFound otherwise."""
    return _found(queries.fetch_one(db, "surveys.get_by_id", {"id": survey_id}, Survey), survey_id)


def _set_status(db: Db, survey_id: int, status: str) -> Survey:
    params = {"id": survey_id, "status": status}
    return _found(queries.fetch_one(db, "surveys.set_status", params, Survey), survey_id)


def publish(db: Db, survey_id: int) -> Survey:
    """Accept answers from now on, while inside [opens_at, closes_at)."""
    return _set_status(db, survey_id, "published")


def cancel(db: Db, survey_id: int) -> Survey:
    """Stop accepting answers; the answers given so far stay."""
    return _set_status(db, survey_id, "cancelled")


def set_window(db: Db, survey_id: int, opens_at: datetime, closes_at: datetime) -> Survey:
    """Move the answer window (InvalidData surveys_opens_before_closes)."""
    params = {
        "id": survey_id,
        "opens_at": require_aware(opens_at, "opens_at"),
        "closes_at": require_aware(closes_at, "closes_at"),
    }
    return _found(queries.fetch_one(db, "surveys.set_window", params, Survey), survey_id)


def delete(db: Db, survey_id: int) -> None:
    """Delete the survey with its questions and answers."""
    if queries.execute(db, "surveys.delete", {"id": survey_id}) == 0:
        raise NotFound(f"no survey with id {survey_id}", table="surveys")


def for_server(db: Db, server_id: int, *, limit: int = 50) -> list[Survey]:
    """A server's surveys, the latest window first."""
    params = {"server_id": server_id, "limit": check_limit(limit)}
    return queries.fetch_all(db, "surveys.list_for_server", params, Survey)


def add_question(
    db: Db,
    survey_id: int,
    *,
    position: int,
    kind: str,
    prompt: str,
    options: Sequence[str] | Mapping[str, int] | None = None,
) -> Question:
    """Add a question. Options: a list of choices for single_choice / multi_choice,

    {"min": 1, "max": 5} for rating, nothing for text. InvalidData
    survey_questions_options_match_kind if they do not fit; Conflict
    survey_questions_survey_id_position_key for a taken position.
    """
    value: Any = {} if options is None else options
    value = list(value) if isinstance(value, Sequence) and not isinstance(value, str) else value
    params = {
        "survey_id": survey_id,
        "position": position,
        "kind": kind,
        "prompt": prompt,
        "options": Jsonb(dict(value) if isinstance(value, Mapping) else value),
    }
    found = queries.fetch_one(db, "surveys.insert_question", params, Question)
    assert found is not None
    return found


def questions(db: Db, survey_id: int) -> list[Question]:
    """A survey's questions in position order."""
    return queries.fetch_all(db, "surveys.list_questions", {"survey_id": survey_id}, Question)


def delete_question(db: Db, question_id: int) -> None:
    if queries.execute(db, "surveys.delete_question", {"id": question_id}) == 0:
        raise NotFound(f"no survey question with id {question_id}", table="survey_questions")


def answer(db: Db, question_id: int, user_id: UUID, value: Any) -> Response:
    """Record one person's answer: a choice (str), choices (list[str]), a rating (int), a text.

    Once per person per question (Conflict survey_responses_pkey); only while the
    survey is published and open (InvalidData survey_responses_within_window);
    the value must fit the question (InvalidData survey_responses_answer_matches_kind).
    """
    params = {"question_id": question_id, "user_id": user_id, "answer": Jsonb(value)}
    found = queries.fetch_one(db, "surveys.insert_response", params, Response)
    assert found is not None
    return found


def answer_all(db: Db, user_id: UUID, answers: Mapping[int, Any]) -> list[Response]:
    """Answer several questions at once: all are recorded, or none."""
    with transaction(db) as conn:
        return [answer(conn, question_id, user_id, value) for question_id, value in answers.items()]


def results(db: Db, survey_id: int) -> list[QuestionResult]:
    """Aggregates per question, in position order: never who answered.

    Choice questions get votes per option (every option, zero included; a
    multi-choice answer counts once for each option picked); rating questions
    get the average; text questions only the number of answers.

    NotFound if there is no such survey. Totals and option counts are read from one
    snapshot (see `dal.db.snapshot`: inside a caller's transaction, from the caller's).
    """
    params = {"survey_id": survey_id}
    with snapshot(db) as conn:
        get(conn, survey_id)
        totals = queries.fetch_all(conn, "surveys.question_totals", params, _Totals)
        votes: dict[int, dict[str, int]] = {}
        for question_id, option, n in queries.fetch_tuples(conn, "surveys.option_counts", params):
            votes.setdefault(question_id, {})[option] = int(n)
    return [
        QuestionResult(
            question_id=t.question_id,
            position=t.position,
            kind=t.kind,
            prompt=t.prompt,
            answers=t.answers,
            option_counts=votes.get(t.question_id, {}),
            average_rating=None if t.average_rating is None else float(t.average_rating),
        )
        for t in totals
    ]


def named_responses(db: Db, survey_id: int) -> list[Response]:
    """Every answer with who gave it, for a named survey.

    InvalidData for an anonymous survey: its respondents are never revealed
    (the query itself also returns nothing for one).
    """
    survey = get(db, survey_id)
    if survey.anonymous:
        raise InvalidData(
            f"survey {survey_id} is anonymous: who answered is never revealed",
            table="surveys",
            column="anonymous",
        )
    params = {"survey_id": survey_id}
    return queries.fetch_all(db, "surveys.list_named_responses", params, Response)
