"""Seed rows for the community area: servers, members, events, RSVPs, surveys, answers.

Activity is skewed: a few busy servers hold most members, events and surveys.
Ids of the identity tables are given explicitly (COPY writes them like
OVERRIDING SYSTEM VALUE; the loader moves the sequences past them afterwards),
so RSVPs and surveys can point at events without reading anything back.

Two triggers judge rows against the database's *current* state, which
history cannot satisfy as written, so the steps arrange for them:

- event_rsvps_count_going refuses answers to events that are not scheduled.
  Events are copied as scheduled with going_count 0; the trigger counts every
  "going" (the generator keeps each event within its capacity, and the CHECK
  events_capacity_not_exceeded still judges it); after the RSVPs, events that
  have since completed or been cancelled get their final status. While RSVPs
  load, events_set_updated_at is disabled so the counter updates keep the
  generated (deterministic) updated_at instead of the wall clock.
- survey_responses_check_answer accepts answers only while the survey is
  published and open at statement_timestamp(). Seeded answers are history
  (answered_at lies inside each survey's real window), so the answered
  surveys are opened for the length of the COPY and get their real window and
  status back right after; every answer still passes the trigger's check that
  it fits its question's kind and options. surveys_set_updated_at is disabled
  meanwhile, for the same reason as above.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg

from dal.seed.context import Context
from dal.seed.step import Step

TOPICS = [
    "python",
    "rust",
    "golang",
    "postgres",
    "kubernetes",
    "design",
    "security",
    "devops",
    "frontend",
    "mobile",
    "data",
    "ml",
    "gamedev",
    "linux",
    "cloud",
    "testing",
    "accessibility",
    "startups",
    "music",
    "photography",
    "chess",
    "running",
    "cooking",
    "books",
    "hiking",
    "boardgames",
    "writing",
    "film",
    "cycling",
    "gardening",
]
FORMATS = [
    "meetup",
    "workshop",
    "talk",
    "hackathon",
    "study group",
    "office hours",
    "book club",
    "game night",
    "picnic",
    "tournament",
    "ama",
    "demo day",
]
FLAVOURS = ["basics", "deep dive", "q&a", "social", "night", "sprint"]
ADJECTIVES = ["Friendly", "Open", "Global", "Local", "Weekend", "Evening", "Cosy", "Nordic"]
PLACES = ["Main hall", "Room 2", "Library", "Park pavilion", "Online", "Cafe Central", "Lab 4"]
CAPACITIES = [10, 20, 25, 30, 50, 100, 200]
MEMBERSHIPS_PER_USER = 3  # servers a user belongs to, on average
MAX_RSVPS = 300
MAX_RESPONDENTS = 40
EVENTS_PER_SURVEY = 5

SERVER_COLUMNS = ("id", "snowflake_id", "name", "owner_id", "created_at", "updated_at")
EVENT_COLUMNS = (
    "id",
    "server_id",
    "creator_id",
    "title",
    "description",
    "starts_at",
    "ends_at",
    "location",
    "capacity",
    "status",
    "created_at",
    "updated_at",
)
SURVEY_COLUMNS = (
    "id",
    "server_id",
    "event_id",
    "creator_id",
    "title",
    "description",
    "opens_at",
    "closes_at",
    "anonymous",
    "status",
    "created_at",
    "updated_at",
)


@dataclass(slots=True)
class _Server:
    id: int
    owner: uuid.UUID
    created: datetime
    members: list[uuid.UUID] = field(default_factory=list)
    events: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _Event:
    id: int
    server: int  # index into the server list
    capacity: int | None
    created: datetime
    starts: datetime


@dataclass(slots=True)
class _Survey:
    id: int
    server: int
    opens: datetime
    closes: datetime
    answered: bool  # published or cancelled after opening: it has answers
    questions: list[tuple[int, str, Any]] = field(default_factory=list)  # (id, kind, options)


def survey_count(ctx: Context) -> int:
    return max(2, ctx.profile.events // EVENTS_PER_SURVEY)


def steps(ctx: Context) -> list[Step]:
    p = ctx.profile
    surveys = survey_count(ctx)
    return [
        Step("servers", SERVER_COLUMNS, p.servers, lambda: _servers(ctx)),
        Step(
            "server_members",
            ("server_id", "user_id", "role", "joined_at"),
            p.users * MEMBERSHIPS_PER_USER,
            lambda: _members(ctx),
        ),
        Step("events", EVENT_COLUMNS, p.events, lambda: _events(ctx)),
        Step(
            "event_rsvps",
            ("event_id", "user_id", "response", "responded_at"),
            p.events * 7,
            lambda: _rsvps(ctx),
            before=_rsvps_before,
            after=lambda conn: _rsvps_after(ctx, conn),
        ),
        Step("surveys", SURVEY_COLUMNS, surveys, lambda: _surveys(ctx)),
        Step(
            "survey_questions",
            ("id", "survey_id", "position", "kind", "prompt", "options"),
            surveys * 4,
            lambda: _questions(ctx),
        ),
        Step(
            "survey_responses",
            ("question_id", "user_id", "answer", "answered_at"),
            surveys * 100,
            lambda: _responses(ctx),
            before=_responses_before,
            after=_responses_after,
        ),
    ]


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A random instant in [start, end] (start when the range is empty)."""
    span = (end - start).total_seconds()
    return start + timedelta(seconds=rng.uniform(0, span)) if span > 0 else start


def _servers(ctx: Context) -> Iterator[tuple[Any, ...]]:
    rng = ctx.rng("servers")
    servers: list[_Server] = []
    ctx.shared["servers"] = servers
    for n in range(ctx.profile.servers):
        owner = ctx.pick_user(rng)
        created = ctx.moment(rng, days_back=900, days_ahead=-400)
        server = _Server(n + 1, owner, created)
        servers.append(server)
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(TOPICS).title()} {n + 1}"
        snowflake = (1 << 56) + (n << 22) + rng.getrandbits(22)  # unique: n in the high bits
        updated = _between(rng, created, ctx.now)
        yield server.id, snowflake, name, owner, created, updated


def _members(ctx: Context) -> Iterator[tuple[Any, ...]]:
    """Server sizes follow the activity skew; members are drawn without repetition."""
    rng = ctx.rng("server_members")
    servers: list[_Server] = ctx.shared["servers"]
    users = ctx.user_ids
    sizes = ctx.split(len(users) * MEMBERSHIPS_PER_USER, len(servers), rng)
    for server, size in zip(servers, sizes, strict=True):
        others = [u for u in rng.sample(users, min(len(users), size + 1)) if u != server.owner]
        server.members = [server.owner, *others[: max(0, size - 1)]]
        yield server.id, server.owner, "owner", server.created
        for member in server.members[1:]:
            role = rng.choices(["admin", "moderator", "member"], [2, 4, 94])[0]
            yield server.id, member, role, _between(rng, server.created, ctx.now)


def _events(ctx: Context) -> Iterator[tuple[Any, ...]]:
    rng = ctx.rng("events")
    servers: list[_Server] = ctx.shared["servers"]
    events: list[_Event] = []
    final_status: dict[int, str] = {}
    ctx.shared["events"] = events
    ctx.shared["event_final_status"] = final_status
    counts = ctx.split(ctx.profile.events, len(servers), rng)
    event_id = 0
    for index, (server, count) in enumerate(zip(servers, counts, strict=True)):
        for _ in range(count):
            event_id += 1
            past = rng.random() < 0.6
            # Most events lie in the year before now; the rest are planned up to two years out.
            starts = (
                ctx.moment(rng, days_back=365)
                if past
                else ctx.moment(rng, days_back=0, days_ahead=730)
            )
            starts = starts.replace(minute=rng.choice([0, 15, 30, 45]), second=0, microsecond=0)
            ends = starts + timedelta(minutes=rng.choice([45, 60, 90, 120, 180, 480]))
            created = min(starts - timedelta(days=rng.uniform(1, 60)), ctx.now)
            created = max(created, server.created)
            capacity = rng.choice(CAPACITIES) if rng.random() < 0.6 else None
            status = (
                rng.choices(["completed", "cancelled", "scheduled"], [88, 6, 6])[0]
                if past
                else rng.choices(["scheduled", "cancelled"], [93, 7])[0]
            )
            if status != "scheduled":
                final_status[event_id] = status
            events.append(_Event(event_id, index, capacity, created, starts))
            server.events.append(event_id)
            topic, kind = rng.choice(TOPICS), rng.choice(FORMATS)
            title = f"{kind.title()}: {topic} {rng.choice(FLAVOURS)}"
            description = (
                f"A {kind} about {topic} and {rng.choice(TOPICS)}. "
                f"Bring your questions about {rng.choice(TOPICS)}; everyone is welcome."
            )
            location = rng.choice(PLACES) if rng.random() < 0.8 else None
            yield (
                event_id,
                server.id,
                rng.choice(server.members),
                title,
                description,
                starts,
                ends,
                location,
                capacity,
                "scheduled",  # the final status is set after the RSVPs: see the module doc
                created,
                _between(rng, created, min(starts, ctx.now)),
            )


def _rsvps(ctx: Context) -> Iterator[tuple[Any, ...]]:
    rng = ctx.rng("event_rsvps")
    servers: list[_Server] = ctx.shared["servers"]
    for event in ctx.shared["events"]:
        members = servers[event.server].members
        wanted = int(rng.paretovariate(1.4) * 2.5) - 1
        going = 0
        for user in rng.sample(members, max(0, min(len(members), MAX_RSVPS, wanted))):
            response = rng.choices(["going", "maybe", "declined"], [55, 25, 20])[0]
            if response == "going":
                if event.capacity is not None and going >= event.capacity:
                    response = "maybe"  # full: the trigger would refuse another "going"
                else:
                    going += 1
            yield event.id, user, response, _between(rng, event.created, min(event.starts, ctx.now))


def _rsvps_before(conn: psycopg.Connection[Any]) -> None:
    conn.execute("ALTER TABLE events DISABLE TRIGGER events_set_updated_at")


def _rsvps_after(ctx: Context, conn: psycopg.Connection[Any]) -> None:
    final: dict[int, str] = ctx.shared.pop("event_final_status")
    conn.execute(
        """UPDATE events e SET status = f.status
             FROM unnest(%(ids)s::bigint[], %(statuses)s::text[]) AS f (id, status)
            WHERE e.id = f.id""",
        {"ids": list(final), "statuses": list(final.values())},
    )
    conn.execute("ALTER TABLE events ENABLE TRIGGER events_set_updated_at")


def _surveys(ctx: Context) -> Iterator[tuple[Any, ...]]:
    rng = ctx.rng("surveys")
    servers: list[_Server] = ctx.shared["servers"]
    events: list[_Event] = ctx.shared["events"]
    surveys: list[_Survey] = []
    ctx.shared["surveys"] = surveys
    counts = ctx.split(survey_count(ctx), len(servers), rng)
    survey_id = 0
    for index, (server, count) in enumerate(zip(servers, counts, strict=True)):
        for _ in range(count):
            survey_id += 1
            event_id = None
            if server.events and rng.random() < 0.5:
                event_id = rng.choice(server.events)
                event = events[event_id - 1]
                opens = event.starts + timedelta(hours=rng.uniform(2, 24))  # feedback on it
                topic = f"How was event #{event_id}?"
            else:
                opens = ctx.moment(rng, days_back=380, days_ahead=30)
                topic = f"{rng.choice(TOPICS).title()} survey"
            opens = max(opens, server.created + timedelta(days=1))
            closes = opens + timedelta(days=rng.uniform(3, 21))
            if opens > ctx.now:
                status = rng.choice(["draft", "published"])
            else:
                status = rng.choices(["published", "cancelled", "draft"], [85, 8, 7])[0]
            created = min(opens, ctx.now) - timedelta(days=rng.uniform(0.5, 10))
            surveys.append(
                _Survey(survey_id, index, opens, closes, status != "draft" and opens < ctx.now)
            )
            yield (
                survey_id,
                server.id,
                event_id,
                rng.choice(server.members),
                topic,
                f"Tell us what you think about {rng.choice(TOPICS)} and {rng.choice(FORMATS)}s.",
                opens,
                closes,
                rng.random() < 0.3,
                status,
                created,
                _between(rng, created, min(opens, ctx.now)),
            )


def _question(rng: random.Random) -> tuple[str, str, Any]:
    kind = rng.choices(["single_choice", "multi_choice", "rating", "text"], [35, 20, 30, 15])[0]
    if kind == "single_choice":
        options: Any = rng.choice(
            [["Yes", "No"], ["Yes", "No", "Maybe"], ["Weekday", "Weekend"], ["Online", "In person"]]
        )
        prompt = "Would you come again?"
    elif kind == "multi_choice":
        options = rng.sample(TOPICS, rng.randint(3, 8))
        prompt = "Which topics interest you?"
    elif kind == "rating":
        options = rng.choice([{"min": 1, "max": 5}, {"min": 0, "max": 10}])
        prompt = "How would you rate it?"
    else:
        options = {}
        prompt = "Anything else you would like to tell us?"
    return kind, prompt, options


def _questions(ctx: Context) -> Iterator[tuple[Any, ...]]:
    rng = ctx.rng("survey_questions")
    question_id = 0
    for survey in ctx.shared["surveys"]:
        for position in range(1, rng.randint(2, 6) + 1):
            question_id += 1
            kind, prompt, options = _question(rng)
            survey.questions.append((question_id, kind, options))
            yield question_id, survey.id, position, kind, prompt, json.dumps(options)


def _answer(rng: random.Random, kind: str, options: Any) -> Any:
    if kind == "single_choice":
        return rng.choice(options)
    if kind == "multi_choice":
        return rng.sample(options, rng.randint(1, min(3, len(options))))
    if kind == "rating":
        low, high = options["min"], options["max"]
        return min(high, max(low, round(rng.triangular(low, high, high * 0.75))))
    return rng.choice(["Great, thanks!", "More of these please.", "Too long.", "Loved it."])


def _responses(ctx: Context) -> Iterator[tuple[Any, ...]]:
    rng = ctx.rng("survey_responses")
    servers: list[_Server] = ctx.shared["servers"]
    for survey in ctx.shared.pop("surveys"):
        if not survey.answered:
            continue
        members = servers[survey.server].members
        share = rng.uniform(0.05, 0.3)
        count = min(len(members), MAX_RESPONDENTS, max(1, round(len(members) * share)))
        last = max(survey.opens, min(survey.closes, ctx.now) - timedelta(seconds=1))
        for user in rng.sample(members, count):
            at = _between(rng, survey.opens, last - timedelta(minutes=10))
            for question_id, kind, options in survey.questions:
                if rng.random() < 0.9:
                    answer = _answer(rng, kind, options)
                    at += timedelta(seconds=rng.uniform(2, 30))
                    yield question_id, user, json.dumps(answer), min(at, last)


def _responses_before(conn: psycopg.Connection[Any]) -> None:
    # Answers are judged against the survey's current status and window: reopen every
    # answered survey for the COPY, then restore it, with the triggers that would see
    # the reopening (a cancelled survey never becomes published again) switched off.
    conn.execute("ALTER TABLE surveys DISABLE TRIGGER surveys_set_updated_at")
    conn.execute("ALTER TABLE surveys DISABLE TRIGGER surveys_keep_status_moves")
    conn.execute(
        """CREATE TEMPORARY TABLE seed_survey_windows ON COMMIT DROP AS
           SELECT id, status, opens_at, closes_at FROM surveys WHERE status <> 'draft'"""
    )
    conn.execute(
        """UPDATE surveys
              SET status = 'published', opens_at = '-infinity', closes_at = 'infinity'
            WHERE status <> 'draft'"""
    )


def _responses_after(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        """UPDATE surveys s
              SET status = w.status, opens_at = w.opens_at, closes_at = w.closes_at
             FROM seed_survey_windows w
            WHERE s.id = w.id"""
    )
    conn.execute("DROP TABLE seed_survey_windows")
    conn.execute("ALTER TABLE surveys ENABLE TRIGGER surveys_keep_status_moves")
    conn.execute("ALTER TABLE surveys ENABLE TRIGGER surveys_set_updated_at")
