"""Recommendations and feedback: constraints, active ranking, dismissal, ratings by kind."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest

from dal import Conflict, InvalidData, NotFound, ReferenceMissing
from dal.errors import translating
from tests.community_helpers import count, now, user
from tests.flavoured import moods, recommendations

pytestmark = pytest.mark.flavours

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
    for who, mood in [
        (other.id, (mine.id, mine.recorded_at)),  # someone else's mood
        (person.id, (mine.id + 1000, mine.recorded_at)),  # no such mood
        (person.id, (mine.id, mine.recorded_at + timedelta(seconds=1))),  # not its key
    ]:
        with pytest.raises(ReferenceMissing) as caught:
            recommend(conn, who, mood=mood)
        assert caught.value.constraint == "recommendations_mood_belongs_to_user"
        assert (caught.value.table, caught.value.column) == ("recommendations", "mood_id")
    with pytest.raises(psycopg.errors.CheckViolation) as half:
        conn.execute(
            "UPDATE recommendations SET mood_recorded_at = NULL WHERE id = %s", [linked.id]
        )
    assert half.value.diag.constraint_name == "recommendations_mood_ref_complete"
    assert count(conn, "recommendations") == 1


def test_mood_reference_is_checked_for_every_writer(conn: Conn) -> None:
    person, other = user(conn), user(conn)
    mine = moods.record(conn, person.id, mood="sad", intensity=4)
    theirs = moods.record(conn, other.id, mood="calm", intensity=5)
    rec = recommend(conn, person.id, mood=(mine.id, mine.recorded_at))
    repoint = "UPDATE recommendations SET mood_id = %s, mood_recorded_at = %s WHERE id = %s"
    with pytest.raises(ReferenceMissing) as caught, translating():
        conn.execute(repoint, [theirs.id, theirs.recorded_at, rec.id])
    assert caught.value.constraint == "recommendations_mood_belongs_to_user"
    with pytest.raises(ReferenceMissing) as moved, translating():
        conn.execute("UPDATE recommendations SET user_id = %s WHERE id = %s", [other.id, rec.id])
    assert moved.value.constraint == "recommendations_mood_belongs_to_user"
    assert recommendations.get(conn, rec.id) == rec  # nothing written
    # Checked when written, not later: the mood may go, and the row stays usable.
    moods.delete(conn, person.id, mine.id, mine.recorded_at)
    assert recommendations.dismiss(conn, person.id, rec.id).mood_id == mine.id
    conn.execute("UPDATE recommendations SET mood_id = mood_id WHERE id = %s", [rec.id])
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


def test_update_and_delete_feedback(conn: Conn) -> None:
    person, other = user(conn), user(conn)
    rec = recommend(conn, person.id)
    given = recommendations.give_feedback(conn, person.id, rec.id, rating=2, comment="meh")
    better = recommendations.update_feedback(conn, person.id, rec.id, rating=4)
    assert (better.rating, better.comment, better.created_at) == (4, "meh", given.created_at)
    cleared = recommendations.update_feedback(conn, person.id, rec.id, comment=None)
    assert (cleared.rating, cleared.comment) == (4, None)
    refused: list[tuple[dict[str, Any], str]] = [
        ({"rating": 6}, "feedback_rating_range"),
        ({"rating": 1, "comment": ""}, "feedback_comment_length"),
    ]
    for fields, constraint in refused:
        with pytest.raises(InvalidData) as caught:
            recommendations.update_feedback(conn, person.id, rec.id, **fields)
        assert caught.value.constraint == constraint
    assert recommendations.feedback_of(conn, person.id, rec.id) == cleared  # nothing written
    with pytest.raises(NotFound):
        recommendations.update_feedback(conn, other.id, rec.id, rating=1)
    with pytest.raises(NotFound):
        recommendations.delete_feedback(conn, other.id, rec.id)
    recommendations.delete_feedback(conn, person.id, rec.id)
    with pytest.raises(NotFound):
        recommendations.feedback_of(conn, person.id, rec.id)
    with pytest.raises(NotFound):
        recommendations.delete_feedback(conn, person.id, rec.id)
    assert count(conn, "feedback") == 0
    # Withdrawn feedback may be given again.
    assert recommendations.give_feedback(conn, person.id, rec.id, rating=5).rating == 5


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


def test_partial_update_changes_only_what_is_given(conn: Conn) -> None:
    person = user(conn)
    made = recommend(conn, person.id, expires_at=now() + timedelta(days=3))
    changed = recommendations.update(conn, made.id, content="Four-square breathing")
    assert changed.content == "Four-square breathing"
    assert (changed.kind, changed.relevance_score, changed.expires_at) == (
        made.kind,
        made.relevance_score,
        made.expires_at,
    )
    assert recommendations.update(conn, made.id, expires_at=None).expires_at is None
    assert recommendations.update(conn, made.id) == recommendations.get(conn, made.id)
    for fields, constraint in (
        ({"relevance_score": 2.0}, "recommendations_relevance_score_range"),
        ({"kind": "horoscope"}, "recommendations_kind_valid"),
        ({"expires_at": now() - timedelta(days=400)}, "recommendations_expires_after_created"),
    ):
        with pytest.raises(InvalidData) as caught:
            recommendations.update(conn, made.id, **fields)
        assert caught.value.constraint == constraint
    assert recommendations.get(conn, made.id).content == "Four-square breathing"
    with pytest.raises(NotFound):
        recommendations.update(conn, 10**12, content="x")


def test_history_pages_through_every_recommendation_newest_first(conn: Conn) -> None:
    person, other = user(conn), user(conn)
    made = [recommend(conn, person.id, content=f"Tip {n}") for n in range(7)]
    recommend(conn, other.id)
    recommendations.dismiss(conn, person.id, made[2].id)
    recommendations.update(conn, made[4].id, expires_at=made[4].created_at + timedelta(seconds=1))
    seen: list[int] = []
    cursor = None
    while True:
        page = recommendations.history(conn, person.id, cursor=cursor, limit=3)
        assert len(page.items) <= 3
        seen += [r.id for r in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    expected = sorted(made, key=lambda r: (r.created_at, r.id), reverse=True)
    assert seen == [r.id for r in expected]  # dismissed and expired ones included
    with pytest.raises(InvalidData):
        recommendations.history(conn, person.id, cursor="not-a-cursor")
