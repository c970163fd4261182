"""Seed rows for wellbeing: moods (monthly partitions), recommendations, feedback.

Moods cover the 13 months before `ctx.now`; their month partitions are created
before the COPY (dal.moods.ensure_partitions), so no row lands in moods_default.
Per-user counts follow the activity skew, capped at what one person plausibly
records (a few entries a day): the cap's overflow goes to everyone else in
proportion to their weight, so the curve keeps its shape below the cap.

Streaming: moods are generated one user at a time (only that user's sorted
timestamps are held); every mood that gets a recommendation is spooled to a
temporary file, as is the feedback on recommendations, because each is
copied only after its parent table.
"""

from __future__ import annotations

import random
import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import IO, Any

import psycopg

from dal import moods
from dal.seed.context import Context
from dal.seed.step import Step

PERIOD_DAYS = 395  # 13 months of history up to ctx.now
MAX_MOODS_PER_DAY = 6  # the heaviest user's rate
RECOMMENDATION_SHARE = 0.1  # of moods that get a recommendation
NO_MOOD_SHARE = 0.2  # of recommendations not tied to a mood
FEEDBACK_SHARE = 0.3  # of recommendations that get rated
KINDS = ["activity", "article", "breathing", "meditation", "music", "social", "professional"]
CONTENT = {
    "activity": "Take a 20-minute walk outside",
    "article": "Read: small habits that lift a low day",
    "breathing": "Try box breathing: 4 in, 4 hold, 4 out, 4 hold",
    "meditation": "A 10-minute guided body scan",
    "music": "A calm playlist for the evening",
    "social": "Call a friend you have not talked to in a while",
    "professional": "Consider talking to a counsellor",
}
NOTES = [
    "Slept badly",
    "Good day at work",
    "Long run this morning",
    "Deadline stress",
    "Family dinner",
    "Rainy and grey",
    "Finished a book",
]
MOOD_COLUMNS = ("id", "user_id", "recorded_at", "mood", "intensity", "notes", "created_at")
RECOMMENDATION_COLUMNS = (
    "id",
    "user_id",
    "mood_id",
    "mood_recorded_at",
    "kind",
    "content",
    "relevance_score",
    "created_at",
    "expires_at",
    "dismissed",
    "dismissed_at",
)


def steps(ctx: Context) -> list[Step]:
    p = ctx.profile
    recommendations = int(p.moods * RECOMMENDATION_SHARE)
    return [
        Step(
            "moods",
            MOOD_COLUMNS,
            p.moods,
            lambda: _moods(ctx),
            before=lambda conn: _create_partitions(ctx, conn),
        ),
        Step(
            "recommendations",
            RECOMMENDATION_COLUMNS,
            recommendations,
            lambda: _recommendations(ctx),
        ),
        Step(
            "feedback",
            ("id", "user_id", "recommendation_id", "rating", "comment", "created_at"),
            int(recommendations * FEEDBACK_SHARE),
            lambda: _feedback(ctx),
        ),
    ]


def period_start(ctx: Context) -> datetime:
    return ctx.now - timedelta(days=PERIOD_DAYS)


def _create_partitions(ctx: Context, conn: psycopg.Connection[Any]) -> None:
    first = period_start(ctx).date().replace(day=1)
    last = ctx.now.date()
    months = (last.year - first.year) * 12 + last.month - first.month
    moods.ensure_partitions(conn, months_ahead=months, start=first)


def capped_split(ctx: Context, total: int, parts: int, cap: int, rng: random.Random) -> list[int]:
    """Like ctx.split, but no part exceeds `cap`: the top parts are clipped and the rest
    scaled up by one factor (water-filling), so the skew below the cap is unchanged."""
    weights = [1.0 / (rank + 1) ** ctx.profile.skew for rank in range(parts)]
    total = min(total, cap * parts)
    clipped, rest = 0, sum(weights)
    while clipped < parts and total - clipped * cap > 0:
        scale = (total - clipped * cap) / rest
        if weights[clipped] * scale <= cap:
            break
        rest -= weights[clipped]
        clipped += 1
    scale = (total - clipped * cap) / rest if rest > 0 else 0.0
    counts = [cap] * clipped + [min(cap, int(w * scale)) for w in weights[clipped:]]
    short = total - sum(counts)
    room = [i for i in range(clipped, parts) if counts[i] < cap]
    for index in rng.sample(room, min(len(room), short)):
        counts[index] += 1
    return counts


def _moods(ctx: Context) -> Iterator[tuple[Any, ...]]:
    rng = ctx.rng("moods")
    spool: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - read later
    ctx.shared["recommendation_spool"] = spool
    start = period_start(ctx)
    span = (ctx.now - start).total_seconds()
    counts = capped_split(
        ctx, ctx.profile.moods, len(ctx.user_ids), PERIOD_DAYS * MAX_MOODS_PER_DAY, rng
    )
    mood_id = 0
    for user, count in zip(ctx.user_ids, counts, strict=True):
        # Each person leans to a few moods and an intensity of their own.
        leaning = rng.sample(moods.MOODS, 3)
        baseline = rng.uniform(3, 8)
        offsets = sorted(rng.uniform(0, span) for _ in range(count))
        for offset in offsets:
            mood_id += 1
            recorded = start + timedelta(seconds=offset)
            mood = rng.choice(leaning) if rng.random() < 0.7 else rng.choice(moods.MOODS)
            intensity = min(10, max(1, round(rng.gauss(baseline, 1.8))))
            notes = rng.choice(NOTES) if rng.random() < 0.25 else None
            created = min(recorded + timedelta(seconds=rng.uniform(0, 600)), ctx.now)
            if rng.random() < RECOMMENDATION_SHARE:
                spool.write(f"{mood_id}\t{user}\t{recorded.isoformat()}\n")
            yield mood_id, user, recorded, mood, intensity, notes, created
    spool.flush()


def _recommendations(ctx: Context) -> Iterator[tuple[Any, ...]]:
    rng = ctx.rng("recommendations")
    spool: IO[str] = ctx.shared.pop("recommendation_spool")
    feedback: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
    ctx.shared["feedback_spool"] = feedback
    with spool:
        spool.seek(0)
        for rec_id, line in enumerate(spool, start=1):
            mood_id_text, user, recorded_text = line.rstrip("\n").split("\t")
            recorded = datetime.fromisoformat(recorded_text)
            mood_id: int | None = int(mood_id_text)
            mood_at: datetime | None = recorded
            if rng.random() < NO_MOOD_SHARE:
                mood_id = mood_at = None
            created = recorded + timedelta(seconds=rng.uniform(1, 300))
            expires = created + timedelta(days=rng.uniform(7, 60)) if rng.random() < 0.7 else None
            dismissed_at = _between(rng, created, ctx.now) if rng.random() < 0.15 else None
            kind = rng.choice(KINDS)
            yield (
                rec_id,
                user,
                mood_id,
                mood_at,
                kind,
                CONTENT[kind],
                round(rng.random(), 3),
                created,
                expires,
                dismissed_at is not None,
                dismissed_at,
            )
            if rng.random() < FEEDBACK_SHARE:
                rated = _between(rng, created, min(created + timedelta(days=14), ctx.now))
                feedback.write(f"{rec_id}\t{user}\t{rated.isoformat()}\n")
    feedback.flush()


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = (end - start).total_seconds()
    return start + timedelta(seconds=rng.uniform(0, span)) if span > 0 else start


def _feedback(ctx: Context) -> Iterator[tuple[Any, ...]]:
    rng = ctx.rng("feedback")
    spool: IO[str] = ctx.shared.pop("feedback_spool")
    with spool:
        spool.seek(0)
        for feedback_id, line in enumerate(spool, start=1):
            rec_id, user, rated = line.rstrip("\n").split("\t")
            rating = rng.choices([1, 2, 3, 4, 5], [5, 8, 20, 37, 30])[0]
            comment = (
                rng.choice(["Helpful", "Not for me", "Loved it", "Meh"])
                if rng.random() < 0.3
                else None
            )
            yield feedback_id, uuid.UUID(user), int(rec_id), rating, comment, rated
