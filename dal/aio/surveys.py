"""Surveys, questions and answers, with aggregated results (queries in `sql/surveys.sql`).

The database checks each answer against its question's kind and options and
the survey's window (trigger survey_responses_check_answer), so InvalidData
names survey_responses_answer_matches_kind or survey_responses_within_window.
Results are aggregates only; who answered is available for named surveys
alone (`named_responses`), never for anonymous ones.

Status moves one way: draft, then published, then cancelled (InvalidData
surveys_status_transition otherwise). A question can be edited until someone
answers it; an answer can be changed or withdrawn while the survey is open.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final
from uuid import UUID

from psycopg.types.json import Jsonb

from dal._json import jsonb
from dal._unset import UNSET, _Unset, update_params
from dal.acting import refuse_for_others
from dal.aio import queries
from dal.aio.db import Db, snapshot, transaction
from dal.arguments import checked
from dal.errors import Conflict, InvalidData, NotFound, PermissionDenied, not_allowed
from dal.pagination import check_limit
from dal.rows.surveys import Question, QuestionResult, Response, Survey, _Totals

__all__ = [
    "KINDS",
    "STATUSES",
    "STATUS_RULE",
    "Question",
    "QuestionResult",
    "Response",
    "Survey",
    "add_question",
    "answer",
    "answer_all",
    "cancel",
    "change_answer",
    "create",
    "delete",
    "delete_question",
    "for_server",
    "get",
    "get_question",
    "named_responses",
    "publish",
    "questions",
    "results",
    "set_window",
    "update",
    "update_question",
    "withdraw_answer",
]

KINDS: Final = ("single_choice", "multi_choice", "rating", "text")
STATUSES: Final = ("draft", "published", "cancelled")
# A cancelled survey stays cancelled and a published one never becomes a draft
# again: the trigger surveys_keep_status_moves refuses any other move, whoever
# writes it, naming this rule.
STATUS_RULE: Final = "surveys_status_transition"


def _found(survey: Survey | None, survey_id: int) -> Survey:
    if survey is None:
        raise NotFound(f"no survey with id {survey_id}", table="surveys")
    return survey


@checked
async def create(
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
    The server's moderators create surveys, as their creator (PermissionDenied otherwise).
    """
    params = {
        "server_id": server_id,
        "event_id": event_id,
        "creator_id": creator_id,
        "title": title,
        "description": description,
        "opens_at": opens_at,
        "closes_at": closes_at,
        "anonymous": anonymous,
    }
    found = await queries.fetch_one(db, "surveys.insert", params, Survey)
    assert found is not None
    return found


@checked
async def get(db: Db, survey_id: int) -> Survey:
    """The survey with this id; NotFound otherwise."""
    return _found(
        await queries.fetch_one(db, "surveys.get_by_id", {"id": survey_id}, Survey), survey_id
    )


async def _changed(db: Db, survey: Survey | None, survey_id: int) -> Survey:
    """The survey a write returned; else NotFound, or PermissionDenied for a member of
    its server who is not a moderator (row-level security let them see it, not change it)."""
    if survey is None:
        await get(db, survey_id)  # NotFound when it is not there to see
        raise not_allowed(f"survey {survey_id}", table="surveys")
    return survey


async def _set_status(db: Db, survey_id: int, status: str) -> Survey:
    params = {"id": survey_id, "status": status}
    return await _changed(
        db, await queries.fetch_one(db, "surveys.set_status", params, Survey), survey_id
    )


@checked
async def publish(db: Db, survey_id: int) -> Survey:
    """Accept answers from now on, while inside [opens_at, closes_at).

    Idempotent; InvalidData surveys_status_transition for a cancelled survey.
    """
    return await _set_status(db, survey_id, "published")


@checked
async def cancel(db: Db, survey_id: int) -> Survey:
    """Stop accepting answers, for good; the answers given so far stay. Idempotent."""
    return await _set_status(db, survey_id, "cancelled")


@checked
async def update(
    db: Db,
    survey_id: int,
    *,
    title: str | _Unset = UNSET,
    description: str | _Unset = UNSET,
) -> Survey:
    """Change the title and/or description of a draft or published survey.

    InvalidData names the rule (surveys_title_length, surveys_description_length);
    Conflict (column status) for a cancelled survey, which is kept as it was.
    """
    fields: dict[str, Any] = {"title": title, "description": description}
    params: dict[str, Any] = {"id": survey_id} | update_params(fields)
    async with transaction(db) as conn:
        found = await queries.fetch_one(conn, "surveys.update", params, Survey)
        if found is not None:
            return found
        current = await get(conn, survey_id)  # NotFound when there is no such survey
    if current.status != "cancelled":
        raise not_allowed(f"survey {survey_id}", table="surveys")
    raise Conflict(
        f"survey {survey_id} is cancelled: it can no longer be changed",
        table="surveys",
        column="status",
    )


@checked
async def set_window(db: Db, survey_id: int, opens_at: datetime, closes_at: datetime) -> Survey:
    """Move the answer window (InvalidData surveys_opens_before_closes)."""
    params = {
        "id": survey_id,
        "opens_at": opens_at,
        "closes_at": closes_at,
    }
    return await _changed(
        db, await queries.fetch_one(db, "surveys.set_window", params, Survey), survey_id
    )


@checked
async def delete(db: Db, survey_id: int) -> None:
    """Delete the survey with its questions and answers (its server's moderators may)."""
    if await queries.execute(db, "surveys.delete", {"id": survey_id}) == 0:
        await _changed(db, None, survey_id)


@checked
async def for_server(db: Db, server_id: int, *, limit: int = 50) -> list[Survey]:
    """A server's surveys, the latest window first."""
    params = {"server_id": server_id, "limit": check_limit(limit)}
    return await queries.fetch_all(db, "surveys.list_for_server", params, Survey)


@checked
async def add_question(
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
    survey_questions_options_match_kind if they do not fit the kind,
    survey_questions_options_valid_choices if a choice is blank, longer than
    200 characters or repeated (after trimming); Conflict
    survey_questions_survey_id_position_key for a taken position.
    """
    params = {
        "survey_id": survey_id,
        "position": position,
        "kind": kind,
        "prompt": prompt,
        "options": _options(options),
    }
    found = await queries.fetch_one(db, "surveys.insert_question", params, Question)
    assert found is not None
    return found


def _options(options: Sequence[str] | Mapping[str, int] | None) -> Jsonb:
    value: Any = {} if options is None else options
    value = list(value) if isinstance(value, Sequence) and not isinstance(value, str) else value
    return jsonb(dict(value) if isinstance(value, Mapping) else value, "options")


@checked
async def get_question(db: Db, question_id: int) -> Question:
    """The question with this id; NotFound otherwise."""
    found = await queries.fetch_one(db, "surveys.get_question", {"id": question_id}, Question)
    if found is None:
        raise NotFound(f"no survey question with id {question_id}", table="survey_questions")
    return found


@checked
async def update_question(
    db: Db,
    question_id: int,
    *,
    position: int | _Unset = UNSET,
    kind: str | _Unset = UNSET,
    prompt: str | _Unset = UNSET,
    options: Sequence[str] | Mapping[str, int] | _Unset | None = UNSET,
) -> Question:
    """Change the given fields of a question, as long as nobody has answered it.

    The rules of `add_question` apply (a new kind usually needs new options).
    Conflict (table survey_questions) once the question has an answer: answers
    were given to the question as it was. The question is locked first, so an
    answer being written meanwhile is waited for and then counts; one arriving
    during the edit waits for it and is checked against the edited question
    (migration 0032). In a caller's REPEATABLE READ transaction, an answer
    committed after its snapshot is not seen: use READ COMMITTED (the default).
    """
    fields: dict[str, Any] = {
        "position": position,
        "kind": kind,
        "prompt": prompt,
        "options": options if isinstance(options, _Unset) else _options(options),
    }
    params: dict[str, Any] = {"id": question_id} | update_params(fields)
    async with transaction(db) as conn:
        if (
            await queries.fetch_one(conn, "surveys.lock_question", {"id": question_id}, Question)
            is None
        ):
            await get_question(conn, question_id)  # NotFound when it is not there to see
            raise not_allowed(f"question {question_id}", table="survey_questions")
        found = await queries.fetch_one(conn, "surveys.update_question", params, Question)
        if found is not None:
            return found
    raise Conflict(
        f"question {question_id} has answers: it can no longer be changed",
        table="survey_questions",
    )


@checked
async def questions(db: Db, survey_id: int) -> list[Question]:
    """A survey's questions in position order."""
    return await queries.fetch_all(db, "surveys.list_questions", {"survey_id": survey_id}, Question)


@checked
async def delete_question(db: Db, question_id: int) -> None:
    """Remove a question with its answers (the survey's server's moderators may)."""
    if await queries.execute(db, "surveys.delete_question", {"id": question_id}) == 0:
        await get_question(db, question_id)  # NotFound when it is not there to see
        raise not_allowed(f"question {question_id}", table="survey_questions")


@checked
async def answer(db: Db, question_id: int, user_id: UUID, value: Any) -> Response:
    """Record one person's answer: a choice (str), choices (list[str]), a rating (int), a text.

    Once per person per question (Conflict survey_responses_pkey); only while the
    survey is published and open (InvalidData survey_responses_within_window);
    the value must fit the question (InvalidData survey_responses_answer_matches_kind).
    """
    params = {"question_id": question_id, "user_id": user_id, "answer": jsonb(value, "answer")}
    found = await queries.fetch_one(db, "surveys.insert_response", params, Response)
    assert found is not None
    return found


@checked
async def change_answer(db: Db, question_id: int, user_id: UUID, value: Any) -> Response:
    """Replace one's answer to a question (answered_at becomes now).

    The rules of `answer` apply again: only while the survey is published and
    open (InvalidData survey_responses_within_window), and the value must fit
    (InvalidData survey_responses_answer_matches_kind). NotFound if the user
    has not answered the question.
    """
    params = {"question_id": question_id, "user_id": user_id, "answer": jsonb(value, "answer")}
    found = await queries.fetch_one(db, "surveys.update_response", params, Response)
    if found is None:
        refuse_for_others(user_id, f"the answer of {user_id}", table="survey_responses")
        raise NotFound(
            f"user {user_id} has not answered question {question_id}", table="survey_responses"
        )
    return found


@checked
async def withdraw_answer(db: Db, question_id: int, user_id: UUID) -> None:
    """Remove one's answer to a question, while the survey is published and open.

    InvalidData survey_responses_within_window when it is not (the answer
    stays); NotFound if there is no such question, or no answer from the user.
    """
    params = {"question_id": question_id, "user_id": user_id}
    found = await queries.fetch_tuples(db, "surveys.delete_response", params)
    if not found:
        raise NotFound(f"no survey question with id {question_id}", table="survey_questions")
    ((is_open, deleted),) = found
    if deleted:
        return
    if not is_open:
        raise InvalidData(
            "the survey is not open: answers can no longer be withdrawn",
            constraint="survey_responses_within_window",
            table="survey_responses",
        )
    refuse_for_others(user_id, f"the answer of {user_id}", table="survey_responses")
    raise NotFound(
        f"user {user_id} has not answered question {question_id}", table="survey_responses"
    )


@checked
async def answer_all(db: Db, user_id: UUID, answers: Mapping[int, Any]) -> list[Response]:
    """Answer several questions at once: all are recorded, or none."""
    async with transaction(db) as conn:
        return [
            await answer(conn, question_id, user_id, value)
            for question_id, value in answers.items()
        ]


@checked
async def results(db: Db, survey_id: int) -> list[QuestionResult]:
    """Aggregates per question, in position order: never who answered.

    Choice questions get votes per option (every option, zero included; a
    multi-choice answer counts once for each option picked); rating questions
    get the average; text questions only the number of answers.

    NotFound if there is no such survey; PermissionDenied for a member of its server who
    is not a moderator (the results count every member's answers, which only moderators
    may read). Totals and option counts are read from one snapshot (see
    `dal.db.snapshot`: inside a caller's transaction, from the caller's).
    """
    params = {"survey_id": survey_id}
    async with snapshot(db) as conn:
        await _results_access(conn, survey_id)
        totals = await queries.fetch_all(conn, "surveys.question_totals", params, _Totals)
        votes: dict[int, dict[str, int]] = {}
        for question_id, option, n in await queries.fetch_tuples(
            conn, "surveys.option_counts", params
        ):
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


@checked
async def named_responses(db: Db, survey_id: int) -> list[Response]:
    """Every answer with who gave it, for a named survey.

    InvalidData for an anonymous survey: its respondents are never revealed
    (the query itself also returns nothing for one). PermissionDenied for a member
    of its server who is not a moderator.
    """
    if await _results_access(db, survey_id):
        raise InvalidData(
            f"survey {survey_id} is anonymous: who answered is never revealed",
            table="surveys",
            column="anonymous",
        )
    params = {"survey_id": survey_id}
    return await queries.fetch_all(db, "surveys.list_named_responses", params, Response)


async def _results_access(db: Db, survey_id: int) -> bool:
    """Whether the survey is anonymous; NotFound if it is not there to see,
    PermissionDenied if the acting user may not read its results."""
    found = await queries.fetch_tuples(db, "surveys.results_access", {"id": survey_id})
    if not found:
        raise NotFound(f"no survey with id {survey_id}", table="surveys")
    ((anonymous, allowed),) = found
    if not allowed:
        raise PermissionDenied(
            f"the acting user may see survey {survey_id} but not its results "
            "(its server's moderators may)",
            table="surveys",
            sqlstate="42501",
        )
    return bool(anonymous)
