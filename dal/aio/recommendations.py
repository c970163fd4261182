"""Recommendations for a person and their feedback (queries in `sql/recommendations.sql`).

A recommendation may answer one mood, referenced by the mood's key
(mood_id, mood_recorded_at). There is no foreign key into the partitioned
moods table (see migration 0023); trigger recommendations_check_mood
(migration 0033) checks, for every writer, that the mood exists and belongs
to the same user, and refuses it like a foreign key would: ReferenceMissing
recommendations_mood_belongs_to_user.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final
from uuid import UUID

from dal._unset import UNSET, _Unset, any_given, update_params
from dal.aio import keyset, queries
from dal.aio.db import Db
from dal.aio.keyset import TimeOrder
from dal.arguments import checked
from dal.errors import InvalidData, NotFound
from dal.pagination import Page, check_limit
from dal.rows.recommendations import Feedback, KindRating, Recommendation

__all__ = [
    "KINDS",
    "MOOD_RULE",
    "Feedback",
    "KindRating",
    "Recommendation",
    "active",
    "create",
    "delete",
    "delete_feedback",
    "dismiss",
    "feedback_of",
    "get",
    "give_feedback",
    "history",
    "rating_by_kind",
    "update",
    "update_feedback",
]

KINDS: Final = ("activity", "article", "breathing", "meditation", "music", "social", "professional")
MOOD_RULE: Final = "recommendations_mood_belongs_to_user"

# A user's recommendations, newest first.
_HISTORY: Final = TimeOrder(
    Recommendation,
    "recommendations.history_first_page",
    "recommendations.history_page_after",
    ("before_created_at", "before_id"),
    int,
    lambda made: (made.created_at, made.id),
)


@checked
async def create(
    db: Db,
    user_id: UUID,
    *,
    kind: str,
    content: str,
    relevance_score: float,
    expires_at: datetime | None = None,
    mood: tuple[int, datetime] | None = None,
) -> Recommendation:
    """Recommend something to a user, optionally in answer to one of their moods.

    `mood` is the mood's key (id, recorded_at). InvalidData names the rule
    (recommendations_relevance_score_range, recommendations_kind_valid,
    recommendations_expires_after_created ...); ReferenceMissing when the user
    does not exist (recommendations_user_id_fkey), or the mood is not one of this
    user's (recommendations_mood_belongs_to_user).
    """
    if mood is not None and (not isinstance(mood, tuple) or len(mood) != 2):
        raise InvalidData("mood must be the mood's key: (id, recorded_at)", column="mood")
    params = {
        "user_id": user_id,
        "mood_id": None if mood is None else mood[0],
        "mood_recorded_at": None if mood is None else mood[1],
        "kind": kind,
        "content": content,
        "relevance_score": relevance_score,
        "expires_at": expires_at,
    }
    found = await queries.fetch_one(db, "recommendations.insert", params, Recommendation)
    assert found is not None
    return found


@checked
async def get(db: Db, recommendation_id: int) -> Recommendation:
    """The recommendation with this id; NotFound otherwise."""
    found = await queries.fetch_one(
        db, "recommendations.get_by_id", {"id": recommendation_id}, Recommendation
    )
    if found is None:
        raise NotFound(f"no recommendation with id {recommendation_id}", table="recommendations")
    return found


@checked
async def active(db: Db, user_id: UUID, *, limit: int = 20) -> list[Recommendation]:
    """The user's recommendations that are neither dismissed nor expired, most relevant first."""
    params = {"user_id": user_id, "limit": check_limit(limit)}
    return await queries.fetch_all(db, "recommendations.list_active", params, Recommendation)


@checked
async def update(
    db: Db,
    recommendation_id: int,
    *,
    kind: str | _Unset = UNSET,
    content: str | _Unset = UNSET,
    relevance_score: float | _Unset = UNSET,
    expires_at: datetime | _Unset | None = UNSET,
) -> Recommendation:
    """Change only the fields given (`expires_at=None`: it never expires). NotFound if
    there is no such recommendation; InvalidData names the rule a value breaks
    (recommendations_kind_valid, recommendations_relevance_score_range,
    recommendations_expires_after_created ...), and nothing is written then."""
    fields: dict[str, Any] = {
        "kind": kind,
        "content": content,
        "relevance_score": relevance_score,
        "expires_at": expires_at,
    }
    if not any_given(fields):
        return await get(db, recommendation_id)
    params: dict[str, Any] = {"id": recommendation_id} | update_params(fields)
    found = await queries.fetch_one(db, "recommendations.update", params, Recommendation)
    if found is None:
        raise NotFound(f"no recommendation with id {recommendation_id}", table="recommendations")
    return found


@checked
async def history(
    db: Db, user_id: UUID, *, cursor: str | None = None, limit: int = 50
) -> Page[Recommendation]:
    """Every recommendation made to the user, dismissed and expired ones too, newest
    first, one keyset page at a time (pass the page's `next_cursor` for the next)."""
    params = {"user_id": user_id}
    return await keyset.page(db, _HISTORY, params, cursor=cursor, limit=limit)


@checked
async def dismiss(db: Db, user_id: UUID, recommendation_id: int) -> Recommendation:
    """Hide a recommendation from the user's active list; NotFound unless it is theirs."""
    params = {"id": recommendation_id, "user_id": user_id}
    found = await queries.fetch_one(db, "recommendations.dismiss", params, Recommendation)
    if found is None:
        raise NotFound(
            f"user {user_id} has no recommendation {recommendation_id}", table="recommendations"
        )
    return found


@checked
async def delete(db: Db, recommendation_id: int) -> None:
    """Delete a recommendation (its feedback goes with it); NotFound if there is none."""
    if await queries.execute(db, "recommendations.delete", {"id": recommendation_id}) == 0:
        raise NotFound(f"no recommendation with id {recommendation_id}", table="recommendations")


@checked
async def give_feedback(
    db: Db, user_id: UUID, recommendation_id: int, *, rating: int, comment: str | None = None
) -> Feedback:
    """Rate a recommendation made for this user, once.

    Conflict feedback_user_id_recommendation_id_key on a second rating;
    InvalidData feedback_rating_range; ReferenceMissing
    feedback_recommendation_id_fkey when the recommendation is not this user's.
    """
    params = {
        "user_id": user_id,
        "recommendation_id": recommendation_id,
        "rating": rating,
        "comment": comment,
    }
    found = await queries.fetch_one(db, "recommendations.insert_feedback", params, Feedback)
    assert found is not None
    return found


def _no_feedback() -> NotFound:
    return NotFound("no feedback from this user on that recommendation", table="feedback")


@checked
async def feedback_of(db: Db, user_id: UUID, recommendation_id: int) -> Feedback:
    """The user's feedback on a recommendation; NotFound if they gave none."""
    params = {"user_id": user_id, "recommendation_id": recommendation_id}
    found = await queries.fetch_one(db, "recommendations.get_feedback", params, Feedback)
    if found is None:
        raise _no_feedback()
    return found


@checked
async def update_feedback(
    db: Db,
    user_id: UUID,
    recommendation_id: int,
    *,
    rating: int | _Unset = UNSET,
    comment: str | _Unset | None = UNSET,
) -> Feedback:
    """Change the user's rating and/or comment (comment=None clears it).

    It keeps created_at, so it still counts in the period it was first given
    (`rating_by_kind`). InvalidData feedback_rating_range / feedback_comment_length;
    NotFound when the user has given no feedback on it.
    """
    fields: dict[str, Any] = {"rating": rating, "comment": comment}
    params: dict[str, Any] = {
        "user_id": user_id,
        "recommendation_id": recommendation_id,
    } | update_params(fields)
    found = await queries.fetch_one(db, "recommendations.update_feedback", params, Feedback)
    if found is None:
        raise _no_feedback()
    return found


@checked
async def delete_feedback(db: Db, user_id: UUID, recommendation_id: int) -> None:
    """Withdraw the user's feedback on a recommendation; NotFound if there is none."""
    params = {"user_id": user_id, "recommendation_id": recommendation_id}
    if await queries.execute(db, "recommendations.delete_feedback", params) == 0:
        raise _no_feedback()


@checked
async def rating_by_kind(db: Db, *, since: datetime) -> list[KindRating]:
    """Average rating (and number of ratings) per recommendation kind, for feedback since a time."""
    params = {"since": since}
    return await queries.fetch_all(db, "recommendations.rating_by_kind_since", params, KindRating)
