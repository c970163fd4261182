"""Recommendations and feedback: constraints, active ranking, dismissal, ratings by kind."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest

from dal import Conflict, InvalidData, NotFound, ReferenceMissing, moods, recommendations
from tests.community_helpers import count, now, user

Conn = psycopg.Connection[Any]


def recommend(conn: Conn, user_id: Any, **extra: Any) -> recommendations.Recommendation:
    fields: dict[str, Any] = {
        "kind": "breathing",
        "content": "Box breathing",
        "relevance_score": 0.5,
    }
    return recommendations.create(conn, user_id, **(fields | extra))


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"relevance_score": 1.01}, "recommendations_relevance_score_range"),
        ({"relevance_score": -0.1}, "recommendations_relevance_score_range"),
        ({"kind": "horoscope"}, "recommendations_kind_valid"),
        ({"content": " "}, "recommendations_content_length"),
        ({"expires_at": "past"}, "recommendations_expires_after_created"),
    ],
)
def test_recommendation_checks(conn: Conn, fields: dict[str, Any], constraint: str) -> None:
    person = user(conn)
    if fields.get("expires_at") == "past":
        fields = {"expires_at": now() - timedelta(days=1)}
    with pytest.raises(InvalidData) as caught:
        recommend(conn, person.id, **fields)
    assert caught.value.constraint == constraint
    assert count(conn, "recommendations") == 0


def test_mood_reference_must_be_the_users_own(conn: Conn) -> None:
    person, other = user(conn), user(conn)
    mine = moods.record(conn, person.id, mood="anxious", intensity=7)
    linked = recommend(conn, person.id, mood=(mine.id, mine.recorded_at))
    assert (linked.mood_id, linked.mood_recorded_at) == (mine.id, mine.recorded_at)
    with pytest.raises(ReferenceMissing) as caught:
        recommend(conn, other.id, mood=(mine.id, mine.recorded_at))
    assert caught.value.column == "mood_id"
    with pytest.raises(psycopg.errors.CheckViolation) as half:
        conn.execute(
            "UPDATE recommendations SET mood_recorded_at = NULL WHERE id = %s", [linked.id]
        )
    assert half.value.diag.constraint_name == "recommendations_mood_ref_complete"
    assert count(conn, "recommendations") == 1


def test_active_ranked_by_relevance_without_expired_or_dismissed(conn: Conn) -> None:
    person, other = user(conn), user(conn)
    low = recommend(conn, person.id, relevance_score=0.2, content="low")
    high = recommend(conn, person.id, relevance_score=0.9, content="high")
    mid = recommend(
        conn, person.id, relevance_score=0.5, content="mid", expires_at=now() + timedelta(days=1)
    )
    expired = recommend(conn, person.id, relevance_score=0.95, content="expired")
    conn.execute(  # age it: created two days ago, expired yesterday
        "UPDATE recommendations SET created_at = now() - interval '2 days', "
        "expires_at = now() - interval '1 day' WHERE id = %s",
        [expired.id],
    )
    recommend(conn, other.id, relevance_score=1.0, content="not mine")
    assert [r.content for r in recommendations.active(conn, person.id)] == ["high", "mid", "low"]
    dismissed = recommendations.dismiss(conn, person.id, high.id)
    assert dismissed.dismissed and dismissed.dismissed_at is not None
    again = recommendations.dismiss(conn, person.id, high.id)
    assert again.dismissed_at == dismissed.dismissed_at
    assert [r.id for r in recommendations.active(conn, person.id, limit=1)] == [mid.id]
    with pytest.raises(NotFound):
        recommendations.dismiss(conn, other.id, low.id)
    assert not recommendations.get(conn, low.id).dismissed


def test_feedback_once_per_user_and_only_by_its_user(conn: Conn) -> None:
    person, other = user(conn), user(conn)
    rec = recommend(conn, person.id)
    given = recommendations.give_feedback(conn, person.id, rec.id, rating=4, comment="helped")
    assert recommendations.feedback_of(conn, person.id, rec.id) == given
    with pytest.raises(Conflict) as twice:
        recommendations.give_feedback(conn, person.id, rec.id, rating=5)
    assert twice.value.constraint == "feedback_user_id_recommendation_id_key"
    with pytest.raises(ReferenceMissing) as not_theirs:
        recommendations.give_feedback(conn, other.id, rec.id, rating=5)
    assert not_theirs.value.constraint == "feedback_recommendation_id_fkey"
    for rating in (0, 6):
        with pytest.raises(InvalidData) as bad:
            recommendations.give_feedback(
                conn, person.id, recommend(conn, person.id).id, rating=rating
            )
        assert bad.value.constraint == "feedback_rating_range"
    with pytest.raises(InvalidData) as empty:
        recommendations.give_feedback(
            conn, person.id, recommend(conn, person.id).id, rating=3, comment=""
        )
    assert empty.value.constraint == "feedback_comment_length"
    assert count(conn, "feedback") == 1
    recommendations.delete(conn, rec.id)
    assert count(conn, "feedback") == 0


def test_average_rating_per_kind(conn: Conn) -> None:
    people = [user(conn) for _ in range(3)]
    for person, (music, article) in zip(people, [(5, 2), (4, None), (3, 1)], strict=True):
        recommendations.give_feedback(
            conn, person.id, recommend(conn, person.id, kind="music").id, rating=music
        )
        if article is not None:
            recommendations.give_feedback(
                conn, person.id, recommend(conn, person.id, kind="article").id, rating=article
            )
    stats = recommendations.rating_by_kind(conn, since=now() - timedelta(hours=1))
    assert [(s.kind, s.ratings, float(s.average_rating)) for s in stats] == [
        ("article", 2, 1.5),
        ("music", 3, 4.0),
    ]
    assert recommendations.rating_by_kind(conn, since=now() + timedelta(hours=1)) == []


def test_naive_datetimes_are_refused(conn: Conn) -> None:
    person = user(conn)
    base: dict[str, Any] = {"kind": "music", "content": "Play something", "relevance_score": 0.5}
    with pytest.raises(InvalidData) as expires:
        recommendations.create(
            conn, person.id, **base, expires_at=(now() + timedelta(days=1)).replace(tzinfo=None)
        )
    assert expires.value.column == "expires_at"
    with pytest.raises(InvalidData) as mood:
        recommendations.create(conn, person.id, **base, mood=(1, datetime(2030, 1, 1)))
    assert mood.value.column == "mood"
    with pytest.raises(InvalidData) as since:
        recommendations.rating_by_kind(conn, since=datetime(2030, 1, 1))
    assert since.value.column == "since"
    assert count(conn, "recommendations") == 0
