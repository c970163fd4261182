"""Plan checks of the moods and recommendations queries.

Moods are partitioned by month; the cases read one month well inside the seeded
history (the 13 months before the seed's EPOCH), so every plan must prune to
that month's partition and use its named index.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg

from benchmarks.cases.base import Case, one
from dal.seed.context import EPOCH

# The month six months before the seed's EPOCH, and its partition's indexes.
SINCE = datetime(
    EPOCH.year - (EPOCH.month <= 6), (EPOCH.month - 7) % 12 + 1, 1, tzinfo=EPOCH.tzinfo
)
UNTIL = (SINCE + timedelta(days=32)).replace(day=1)
PARTITION = f"moods_y{SINCE:%Y}m{SINCE:%m}"
MOOD_BY_USER = f"{PARTITION}_user_id_recorded_at_idx"
MOOD_KEY = f"{PARTITION}_pkey|{MOOD_BY_USER}"  # (id, recorded_at) or (user_id, recorded_at, id)
RECOMMENDATION_KEY = "recommendations_pkey|recommendations_id_user_id_key"
# the pair key, or the recommendation's own index (one feedback per recommendation)
FEEDBACK_KEY = "feedback_user_id_recommendation_id_key|feedback_recommendation_id_idx"


def sample(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """The heaviest mood user, a mood of theirs in the month (and a cursor 30 rows
    into it), the user with the most live recommendations, a rated recommendation,
    and the last month of feedback."""
    (user_id,) = one(
        conn,
        """SELECT user_id FROM moods WHERE recorded_at >= %(since)s AND recorded_at < %(until)s
            GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1""",
        {"since": SINCE, "until": UNTIL},
    )
    mood_id, recorded_at = one(
        conn,
        """SELECT id, recorded_at FROM moods
            WHERE user_id = %(user)s AND recorded_at >= %(since)s AND recorded_at < %(until)s
            ORDER BY recorded_at DESC, id DESC OFFSET 30 LIMIT 1""",
        {"user": user_id, "since": SINCE, "until": UNTIL},
    )
    (rec_user_id,) = one(
        conn,
        """SELECT user_id FROM recommendations WHERE NOT dismissed
            GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1""",
        {},
    )
    rec_id, rec_created_at = one(
        conn,
        """SELECT id, created_at FROM recommendations WHERE user_id = %(user)s
            ORDER BY created_at DESC, id DESC OFFSET 10 LIMIT 1""",
        {"user": rec_user_id},
    )
    fb_user_id, fb_recommendation_id, last_feedback = one(
        conn,
        """SELECT user_id, recommendation_id, (SELECT max(created_at) FROM feedback)
             FROM feedback ORDER BY id LIMIT 1""",
        {},
    )
    return {
        "wellbeing_user_id": user_id,
        "wellbeing_mood_id": mood_id,
        "wellbeing_mood_recorded_at": recorded_at,
        "wellbeing_rec_user_id": rec_user_id,
        "wellbeing_rec_id": rec_id,
        "wellbeing_rec_created_at": rec_created_at,
        "wellbeing_fb_user_id": fb_user_id,
        "wellbeing_fb_recommendation_id": fb_recommendation_id,
        "wellbeing_feedback_since": last_feedback - timedelta(days=30),
    }


def _mood(s: Any) -> dict[str, Any]:
    return {
        "id": s["wellbeing_mood_id"],
        "recorded_at": s["wellbeing_mood_recorded_at"],
        "user_id": s["wellbeing_user_id"],
    }


def _month(s: Any) -> dict[str, Any]:
    return {"user_id": s["wellbeing_user_id"], "since": SINCE, "until": UNTIL}


def _feedback(s: Any) -> dict[str, Any]:
    return {
        "user_id": s["wellbeing_fb_user_id"],
        "recommendation_id": s["wellbeing_fb_recommendation_id"],
    }


def _unchanged(*fields: str) -> dict[str, Any]:
    """Parameters of a partial update that gives none of `fields`: the plan is the same."""
    return {f"set_{f}": False for f in fields} | dict.fromkeys(fields)


CASES: dict[str, Case] = {
    # moods: one month of the heaviest user (~180 entries), pruned to its partition
    "moods.get": Case(_mood, (MOOD_KEY,), 8),
    "moods.delete": Case(_mood, (MOOD_KEY,), 24),
    "moods.update": Case(
        lambda s: {**_mood(s), **_unchanged("mood", "intensity", "notes")},
        (MOOD_KEY,),
        40,  # the row by key, then the new row version's index entries
    ),
    "moods.list_first_page": Case(
        lambda s: {**_month(s), "limit": 51},
        (MOOD_BY_USER,),
        64,  # 51 heap rows, one page each at worst, plus the index path
    ),
    "moods.list_page_after": Case(
        lambda s: {
            **_month(s),
            "before_recorded_at": s["wellbeing_mood_recorded_at"],
            "before_id": s["wellbeing_mood_id"],
            "limit": 51,
        },
        (MOOD_BY_USER,),
        64,
    ),
    "moods.daily_averages": Case(
        lambda s: {**_month(s), "time_zone": "Europe/Berlin"},
        (MOOD_BY_USER,),
        16,  # index-only (INCLUDE intensity): a few leaf pages for the month
        # Grouping by the local day (computed from recorded_at and a time zone) sorts the
        # month's entries: no index orders that expression. At most ~6 a day x 31 days
        # for the heaviest user (the seed's cap), so the sort stays small.
        max_sort_rows=250,
    ),
    # recommendations and feedback
    "recommendations.get_by_id": Case(
        lambda s: {"id": s["wellbeing_fb_recommendation_id"]}, (RECOMMENDATION_KEY,), 8
    ),
    "recommendations.list_active": Case(
        lambda s: {"user_id": s["wellbeing_rec_user_id"], "limit": 20},
        ("recommendations_user_id_relevance_idx",),
        # the heaviest user's live rows in relevance order; expired ones are skipped
        # from the index (expires_at is INCLUDEd) until 20 are found
        64,
    ),
    "recommendations.update": Case(
        lambda s: {
            "id": s["wellbeing_fb_recommendation_id"],
            **_unchanged("kind", "content", "relevance_score", "expires_at"),
        },
        (RECOMMENDATION_KEY,),
        40,  # an UPDATE writes the new row version's index entries
    ),
    # The index gives created_at order; an Incremental Sort breaks its ties by id, one
    # group of equal times at a time: it sorts the page and the first group after it.
    "recommendations.history_first_page": Case(
        lambda s: {"user_id": s["wellbeing_rec_user_id"], "limit": 51},
        ("recommendations_user_id_created_at_idx",),
        64,  # 51 heap rows, one page each at worst, plus the index path
        max_sort_rows=60,
    ),
    "recommendations.history_page_after": Case(
        lambda s: {
            "user_id": s["wellbeing_rec_user_id"],
            "before_created_at": s["wellbeing_rec_created_at"],
            "before_id": s["wellbeing_rec_id"],
            "limit": 51,
        },
        ("recommendations_user_id_created_at_idx",),
        64,
        max_sort_rows=60,
    ),
    "recommendations.dismiss": Case(
        lambda s: {
            "id": s["wellbeing_fb_recommendation_id"],
            "user_id": s["wellbeing_fb_user_id"],
        },
        (RECOMMENDATION_KEY,),
        40,  # an UPDATE writes the new row version's index entries
    ),
    "recommendations.get_feedback": Case(_feedback, (FEEDBACK_KEY,), 8),
    "recommendations.update_feedback": Case(
        lambda s: {**_feedback(s), **_unchanged("rating", "comment")},
        (FEEDBACK_KEY,),
        # the row by key, then the new row version's entries in every index (rating is
        # INCLUDEd in feedback_created_at_idx, so a rating change is never HOT)
        40,
    ),
    "recommendations.delete_feedback": Case(_feedback, (FEEDBACK_KEY,), 24),
    "recommendations.rating_by_kind_since": Case(
        lambda s: {"since": s["wellbeing_feedback_since"]},
        # the kind comes from either key of recommendations (the planner's choice by size)
        ("feedback_created_at_idx", "recommendations_id_user_id_key|recommendations_pkey"),
        # index-only over the period's ratings (~285 in the last 30 days at ci), each
        # with an index-only probe for its kind: about 3 pages per rating (2.8 measured
        # at `large`)
        1000,
        # grouping by the looked-up kind sorts the period's ratings (an aggregate: no
        # index order exists for it); bounded by the feedback in the period
        max_sort_rows=500,
        grows_with_data=True,
    ),
}

EXEMPT: dict[str, str] = {
    "moods.insert": "a single-row INSERT: no read path to plan",
    "moods.ensure_partitions": "DDL: creates partitions, reads no table",
    "moods.current_month": "reads no table (the current month from now())",
    "moods.list_partitions": "reads the catalog (pg_inherits, pg_class), not a growing table",
    "recommendations.insert": "a single-row INSERT (its trigger reads one mood by key)",
    "recommendations.delete": "deletes by primary key; feedback cascades by its FK index",
    "recommendations.insert_feedback": "a single-row INSERT: no read path to plan",
}
