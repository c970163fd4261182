"""Row-level security of the community area (migration 0046), as the application
connects: the application role, an acting user per call, never the owner.

A server's rows are its members'; moderators write events, surveys and questions;
admins manage members; only the owner hands the server over or deletes it; each
member answers for themselves, and only moderators read others' survey answers. A
model of those rules decides every call's outcome for every acting user, and every
table is compared around each refused call: nothing may be written.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

import dal
from dal import events, servers, surveys, users
from dal.config import Roles
from dal.errors import Conflict, InvalidData, NotFound, PermissionDenied, ReferenceMissing
from tests.test_rls import _acting, _outcome, _snapshot

_names = itertools.count(1)

# Rank of each role in the server; the outsider (and no acting user) has none.
RANK = {"owner": 4, "admin": 3, "moderator": 2, "member": 1}
PEOPLE: list[str | None] = ["owner", "admin", "moderator", "member", "outsider", None]


@dataclass
class Guild:
    """A server whose owner, admin, moderator and member hold those roles, and an
    outsider; one event (the member going), one published survey with one question
    (the moderator and the member have answered)."""

    pool: Any
    people: dict[str, UUID] = field(default_factory=dict)
    server: int = 0
    event: int = 0
    survey: int = 0
    question: int = 0
    answered: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, pool: Any) -> Guild:
        guild = cls(pool)
        for person in ("owner", "admin", "moderator", "member", "outsider"):
            n = next(_names)
            made = users.create(pool, email=f"guild{n}@example.com", username=f"guild{n}")
            guild.people[person] = made.id
        owner = guild.people["owner"]
        now = datetime.now(UTC)
        with dal.acting_as(owner):
            guild.server = servers.create(
                pool, snowflake_id=7_000_000 + next(_names), name="Guild", owner_id=owner
            ).id
            for role in ("admin", "moderator", "member"):
                servers.add_member(pool, guild.server, guild.people[role], role)
            guild.event = events.create(
                pool,
                server_id=guild.server,
                creator_id=owner,
                title="Picnic",
                starts_at=now + timedelta(days=1),
                ends_at=now + timedelta(days=1, hours=2),
            ).id
            guild.survey = surveys.create(
                pool,
                server_id=guild.server,
                creator_id=owner,
                title="Which day?",
                opens_at=now - timedelta(hours=1),
                closes_at=now + timedelta(days=1),
            ).id
            guild.question = surveys.add_question(
                pool, guild.survey, position=1, kind="single_choice", prompt="Day?",
                options=["sat", "sun"],
            ).id  # fmt: skip
            surveys.publish(pool, guild.survey)
        for person in ("moderator", "member"):
            with dal.acting_as(guild.people[person]):
                surveys.answer(pool, guild.question, guild.people[person], "sat")
            guild.answered.add(person)
        with dal.acting_as(guild.people["member"]):
            events.rsvp(pool, guild.event, guild.people["member"], "going")
        return guild

    def who(self, person: str | None) -> UUID | None:
        return None if person is None else self.people[person]


def _by_rank(rank: int, *, at_least: int) -> str:
    """'ok' from a rank up, 'denied' for a lower member, 'missing' for a non-member."""
    if rank >= at_least:
        return "ok"
    return "denied" if rank >= 1 else "missing"


def _cases(guild: Guild, person: str | None) -> list[tuple[str, str, Callable[[], Any]]]:
    """(operation, expected outcome, call) for every operation `person` may try."""
    pool, me = guild.pool, guild.who(person)
    rank = RANK.get(person or "", 0)
    seen = "ok" if rank else "missing"
    other = guild.people["admin" if person == "member" else "member"]
    now = datetime.now(UTC)

    def count_of(call: Callable[[], Any], expected: int) -> Callable[[], None]:
        def check() -> None:
            assert len(call()) == expected

        return check

    def answer_mine() -> None:
        surveys.answer(pool, guild.question, me or guild.people["owner"], "sun")
        if person is not None:
            guild.answered.add(person)

    return [
        ("get server", seen, lambda: servers.get(pool, guild.server)),
        ("rename server", _by_rank(rank, at_least=3),
         lambda: servers.rename(pool, guild.server, "Guild")),
        ("set a member's role", _by_rank(rank, at_least=3),
         lambda: servers.set_role(pool, guild.server, guild.people["member"], "member")),
        ("set the owner's role", "conflict" if rank else "missing",
         lambda: servers.set_role(pool, guild.server, guild.people["owner"], "admin")),
        ("add a member", "ok" if rank >= 3 else "denied",
         lambda: servers.add_member(pool, guild.server, guild.people["moderator"], "moderator")),
        ("list members", "ok", count_of(
            lambda: servers.members(pool, guild.server).items, 4 if rank else 0)),
        ("transfer ownership", "ok" if rank == 4 else ("denied" if rank else "missing"),
         lambda: servers.transfer_ownership(pool, guild.server, guild.people["owner"])),
        ("get event", seen, lambda: events.get(pool, guild.event)),
        ("update event", _by_rank(rank, at_least=2),
         lambda: events.update(pool, guild.event, title="Picnic")),
        ("create event", "ok" if rank >= 2 else "denied",
         lambda: events.create(pool, server_id=guild.server, creator_id=me, title="Walk",
                               starts_at=now + timedelta(days=2),
                               ends_at=now + timedelta(days=2, hours=1))),
        ("rsvp for myself", "ok" if rank else "denied",
         lambda: events.rsvp(pool, guild.event, me or guild.people["owner"], "maybe")
         if person != "member" else events.rsvp(pool, guild.event, guild.people["member"],
                                                "going")),
        ("rsvp for another", "denied",
         lambda: events.rsvp(pool, guild.event, other, "declined")),
        ("withdraw another's rsvp", "denied" if person else "missing",
         lambda: events.withdraw(pool, guild.event, other)),
        ("list going", "ok", count_of(
            lambda: events.rsvps(pool, guild.event, "going").items, 1 if rank else 0)),
        ("search events", "ok", count_of(lambda: events.search(pool, "picnic"), 1 if rank else 0)),
        ("search the server's events", "ok", count_of(
            lambda: events.search(pool, "picnic", server_id=guild.server), 1 if rank else 0)),
        ("get survey", seen, lambda: surveys.get(pool, guild.survey)),
        ("update survey", _by_rank(rank, at_least=2),
         lambda: surveys.update(pool, guild.survey, title="Which day?")),
        ("results", _by_rank(rank, at_least=2), lambda: surveys.results(pool, guild.survey)),
        ("named responses", _by_rank(rank, at_least=2),
         lambda: surveys.named_responses(pool, guild.survey)),
        ("get question", seen, lambda: surveys.get_question(pool, guild.question)),
        ("list questions", "ok", count_of(
            lambda: surveys.questions(pool, guild.survey), 1 if rank else 0)),
        ("edit an answered question", "conflict" if rank >= 2 else _by_rank(rank, at_least=2),
         lambda: surveys.update_question(pool, guild.question, prompt="Which day?")),
        ("answer", ("conflict" if person in guild.answered else "ok") if rank else "denied",
         answer_mine),
        ("change another's answer", "denied" if person else "missing",
         lambda: surveys.change_answer(pool, guild.question, other, "sun")),
        ("withdraw another's answer", "denied" if rank else "missing",  # the question too
         lambda: surveys.withdraw_answer(pool, guild.question, other)),
    ]  # fmt: skip


def _act_in_sql(conn: psycopg.Connection[Any], user: UUID) -> None:
    """Set the acting user for plain SQL in this transaction, as the DAL's seam does."""
    conn.execute("SELECT set_config('dal.user_id', %s, true)", [str(user)])


def _seize(pool: Any, user: UUID, server_id: int) -> None:
    """Make `user` the server's owner in plain SQL, bypassing the DAL."""
    with dal.transaction(pool) as conn:
        _act_in_sql(conn, user)
        conn.execute("UPDATE servers SET owner_id = %s WHERE id = %s", [user, server_id])


@pytest.fixture
def guild(app_pool: Any) -> Guild:
    return Guild.build(app_pool)


@pytest.mark.parametrize("person", PEOPLE)
def test_every_community_call_gets_what_the_model_says(
    guild: Guild, person: str | None, reader: psycopg.Connection[Any]
) -> None:
    for op, expected, call in _cases(guild, person):
        before = _snapshot(reader) if expected != "ok" else None
        with _acting(guild.who(person)):
            got = _outcome(call)
        assert got == expected, (person, op)
        if before is not None:
            assert _snapshot(reader) == before, (person, op)  # nothing written


def test_members_see_their_own_answers_and_moderators_all(guild: Guild) -> None:
    with dal.acting_as(guild.people["member"]), dal.transaction(guild.pool) as conn:
        _act_in_sql(conn, guild.people["member"])
        rows = conn.execute("SELECT user_id FROM survey_responses").fetchall()
        assert rows == [(guild.people["member"],)]
        # Every RSVP of an event a member sees is visible to them: who is going is shared.
        assert conn.execute("SELECT count(*) FROM event_rsvps").fetchone() == (1,)
    with dal.acting_as(guild.people["moderator"]), dal.transaction(guild.pool) as conn:
        _act_in_sql(conn, guild.people["moderator"])
        assert conn.execute("SELECT count(*) FROM survey_responses").fetchone() == (2,)
        results = surveys.results(conn, guild.survey)
        assert results[0].option_counts == {"sat": 2, "sun": 0}


def test_only_the_owner_hands_over_or_deletes_the_server(guild: Guild) -> None:
    pool, admin, owner = guild.pool, guild.people["admin"], guild.people["owner"]
    with dal.acting_as(admin):
        with pytest.raises(PermissionDenied):
            servers.delete(pool, guild.server)
        # The database refuses it, not only the DAL.
        with pytest.raises(PermissionDenied, match="only the owner"):
            _seize(pool, admin, guild.server)
    with dal.acting_as(owner):
        moved = servers.transfer_ownership(pool, guild.server, admin)
        assert moved.owner_id == admin
        assert servers.get_member(pool, guild.server, owner).role == "admin"
        with pytest.raises(PermissionDenied):
            servers.delete(pool, guild.server)  # no longer the owner
    with dal.acting_as(admin):
        servers.delete(pool, guild.server)
        with pytest.raises(NotFound):
            servers.get(pool, guild.server)


def test_members_leave_admins_remove_and_moderators_delete(guild: Guild) -> None:
    pool, people = guild.pool, guild.people
    with dal.acting_as(people["member"]):
        with pytest.raises(PermissionDenied):
            servers.remove_member(pool, guild.server, people["moderator"])
        with pytest.raises(PermissionDenied):
            events.delete(pool, guild.event)
        with pytest.raises(PermissionDenied):
            surveys.delete_question(pool, guild.question)
        surveys.withdraw_answer(pool, guild.question, people["member"])
        events.withdraw(pool, guild.event, people["member"])
        servers.remove_member(pool, guild.server, people["member"])  # leaves
        with pytest.raises(NotFound):
            events.get(pool, guild.event)  # no longer a member: nothing to see
    with dal.acting_as(people["admin"]):
        with pytest.raises(Conflict):
            servers.remove_member(pool, guild.server, people["owner"])
        servers.remove_member(pool, guild.server, people["moderator"])
    with dal.acting_as(people["moderator"]), pytest.raises(NotFound):
        surveys.get(pool, guild.survey)
    with dal.acting_as(people["admin"]):
        surveys.delete(pool, guild.survey)
        events.delete(pool, guild.event)
        with pytest.raises(NotFound):
            events.get(pool, guild.event)


def test_a_new_server_is_its_creators_alone(app_pool: Any) -> None:
    n = next(_names)
    me = users.create(app_pool, email=f"solo{n}@example.com", username=f"solo{n}").id
    other = users.create(app_pool, email=f"else{n}@example.com", username=f"else{n}").id
    with dal.acting_as(me):
        made = servers.create(app_pool, snowflake_id=8_000_000 + n, name="Mine", owner_id=me)
        assert servers.get_member(app_pool, made.id, me).role == "owner"
        with pytest.raises(PermissionDenied):
            servers.create(app_pool, snowflake_id=9_000_000 + n, name="Theirs", owner_id=other)
    with dal.acting_as(other), pytest.raises(NotFound):
        servers.get(app_pool, made.id)


def test_a_non_member_learns_nothing_of_a_survey_by_answering_it(guild: Guild) -> None:
    outsider = guild.people["outsider"]
    with dal.acting_as(outsider):
        # A misfitting answer is refused as a non-member's, before the answer check
        # (which runs as the owner) could tell the question's options or window.
        with pytest.raises(PermissionDenied):
            surveys.answer(guild.pool, guild.question, outsider, 42)
        with dal.transaction(guild.pool) as conn:
            _act_in_sql(conn, outsider)
            locked = conn.execute("SELECT dal_lock_question_survey(%s)", [guild.question])
            assert locked.fetchone() == (None,)  # neither locked nor told
    with dal.acting_as(guild.people["member"]), pytest.raises(InvalidData):
        surveys.answer(guild.pool, guild.question, guild.people["member"], 42)


def test_acting_for_no_one_learns_nothing_of_a_survey(guild: Guild) -> None:
    """The application role acting for no one (migration 0054): the helpers that run
    as the owner neither lock a survey nor tell its window or options."""
    with pytest.raises(PermissionDenied):  # a misfitting answer: not InvalidData
        surveys.answer(guild.pool, guild.question, guild.people["member"], 42)
    with dal.transaction(guild.pool) as conn:
        locked = conn.execute("SELECT dal_lock_question_survey(%s)", [guild.question])
        assert locked.fetchone() == (None,)


def test_an_event_stays_in_its_server(guild: Guild, db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:  # a superuser: no policy applies
        other = servers.create(
            conn, snowflake_id=6_000_000 + next(_names), name="Other",
            owner_id=guild.people["moderator"],
        )  # fmt: skip
        with pytest.raises(psycopg.errors.CheckViolation) as refused:
            conn.execute("UPDATE events SET server_id = %s WHERE id = %s", [other.id, guild.event])
    assert refused.value.diag.constraint_name == "events_server_id_fixed"


def test_search_finds_only_the_events_of_servers_one_reads(
    guild: Guild, db_url: str, reader: psycopg.Connection[Any]
) -> None:
    """dal_search_events (migration 0053) runs as the owner to keep its index: it must
    still keep to the caller's servers, whoever calls it and however."""
    now = datetime.now(UTC)
    with psycopg.connect(db_url, autocommit=True) as admin:  # a superuser: no policy applies
        other = servers.create(
            admin, snowflake_id=6_000_000 + next(_names), name="Other",
            owner_id=guild.people["outsider"],
        )  # fmt: skip
        elsewhere = events.create(
            admin, server_id=other.id, creator_id=guild.people["outsider"], title="Picnic",
            starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=3, hours=1),
        ).id  # fmt: skip
        everything = {hit.id for hit in events.search(admin, "picnic")}
        # A superuser who takes the application role reads as that role does.
        admin.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(Roles.app)))
        taken = admin.execute(
            "SELECT id FROM dal_search_events(to_tsquery('english', 'picnic'), NULL, 10)"
        ).fetchall()
        admin.execute("RESET ROLE")
    assert taken == []
    assert everything == {guild.event, elsewhere}
    assert {hit.id for hit in events.search(reader, "picnic")} == everything

    def found(person: str | None, **scope: Any) -> set[int]:
        with _acting(guild.who(person)):
            return {hit.id for hit in events.search(guild.pool, "picnic", **scope)}

    assert found("member") == {guild.event}
    assert found("outsider") == {elsewhere}
    assert found("member", server_id=other.id) == set()
    assert found("outsider", server_id=other.id) == {elsewhere}
    assert found(None) == set()  # the application role acting for no one sees nothing

    # Called directly, the function tells the application role nothing more.
    with dal.transaction(guild.pool) as conn:
        _act_in_sql(conn, guild.people["member"])
        rows = conn.execute(
            "SELECT id FROM dal_search_events(to_tsquery('english', 'picnic'), %s, 10)",
            [other.id],
        ).fetchall()
        assert rows == []
    with dal.transaction(guild.pool) as conn:
        rows = conn.execute(
            "SELECT id FROM dal_search_events(to_tsquery('english', 'picnic'), NULL, 10)"
        ).fetchall()
        assert rows == []
        may = conn.execute(
            "SELECT has_function_privilege('dal_search_servers(bigint)', 'EXECUTE')"
        ).fetchone()
        assert may == (False,)  # only the search itself asks which servers


def test_an_rsvp_carries_its_events_server(guild: Guild, reader: psycopg.Connection[Any]) -> None:
    """event_rsvps.server_id (migration 0048), which the RSVP policy reads, is the
    event's server, whoever answers."""
    with dal.acting_as(guild.people["admin"]):
        events.rsvp(guild.pool, guild.event, guild.people["admin"], "maybe")
    rows = reader.execute(
        "SELECT r.server_id = e.server_id FROM event_rsvps r JOIN events e ON e.id = r.event_id"
    ).fetchall()
    assert rows == [(True,), (True,)]
    # An RSVP to no event says so (the trigger finds no server to copy), for a member
    # as for anyone: an event id tells nothing of a server.
    with dal.acting_as(guild.people["member"]), pytest.raises(ReferenceMissing) as missing:
        events.rsvp(guild.pool, 2**62, guild.people["member"], "going")
    assert missing.value.constraint == "event_rsvps_event_id_fkey"
