"""Servers, members, events and RSVPs against a real database."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta
from typing import Any
from uuid import uuid4

import psycopg
import pytest

from dal import Conflict, InvalidData, NotFound, ReferenceMissing, StillReferenced, queries
from dal.config import Settings
from dal.db import Pool, open_pool
from tests.community_helpers import count, event, now, server, user
from tests.factories import race
from tests.flavoured import events, servers, tasks
from tests.flavoured import users as users_mod

pytestmark = pytest.mark.flavours

Conn = psycopg.Connection[Any]


def test_create_server_makes_owner_a_member(conn: Conn) -> None:
    owner = user(conn)
    srv = server(conn, owner, snowflake_id=175928847299117063, name="Gophers")
    assert servers.get(conn, srv.id) == srv
    assert servers.get_by_snowflake_id(conn, 175928847299117063) == srv
    (member,) = servers.members(conn, srv.id).items
    assert (member.user_id, member.role) == (owner.id, "owner")


@pytest.mark.parametrize(
    ("fields", "error", "constraint"),
    [
        ({"snowflake_id": 0}, InvalidData, "servers_snowflake_id_positive"),
        ({"name": "  "}, InvalidData, "servers_name_length"),
        ({"name": "x" * 101}, InvalidData, "servers_name_length"),
    ],
)
def test_server_checks(
    conn: Conn, fields: dict[str, Any], error: type[Exception], constraint: str
) -> None:
    owner = user(conn)
    base: dict[str, Any] = {"snowflake_id": 1, "name": "ok", "owner_id": owner.id}
    with pytest.raises(error) as caught:
        servers.create(conn, **(base | fields))
    assert getattr(caught.value, "constraint", None) == constraint
    assert count(conn, "servers") == 0
    assert count(conn, "server_members") == 0


def test_server_unique_snowflake_and_owner_must_exist(conn: Conn) -> None:
    srv = server(conn)
    with pytest.raises(Conflict) as caught:
        server(conn, snowflake_id=srv.snowflake_id)
    assert caught.value.constraint == "servers_snowflake_id_key"
    with pytest.raises(ReferenceMissing) as missing:
        servers.create(conn, snowflake_id=99, name="x", owner_id=uuid4())
    assert missing.value.constraint == "servers_owner_id_fkey"
    assert count(conn, "servers") == 1
    assert count(conn, "server_members") == 1


def test_owner_cannot_be_deleted_while_owning(conn: Conn) -> None:
    owner = user(conn)
    server(conn, owner)
    with pytest.raises(StillReferenced) as caught:
        users_mod.hard_delete(conn, owner.id)
    assert caught.value.constraint == "servers_owner_id_fkey"
    assert count(conn, "users") == 1


def test_membership_management(conn: Conn) -> None:
    owner, alice, bob = user(conn), user(conn), user(conn)
    srv = server(conn, owner)
    servers.add_member(conn, srv.id, alice.id)
    assert servers.set_role(conn, srv.id, alice.id, "moderator").role == "moderator"
    with pytest.raises(InvalidData) as bad_role:
        servers.add_member(conn, srv.id, bob.id, "king")
    assert bad_role.value.column == "role"
    with pytest.raises(psycopg.errors.CheckViolation) as caught:
        # The CHECK backs the DAL's own validation up.
        conn.execute("UPDATE server_members SET role = 'king' WHERE user_id = %s", [alice.id])
    assert caught.value.diag.constraint_name == "server_members_role_valid"
    with pytest.raises(Conflict):
        servers.remove_member(conn, srv.id, owner.id)
    with pytest.raises(NotFound):
        servers.remove_member(conn, srv.id, bob.id)
    with pytest.raises(ReferenceMissing) as missing:
        servers.add_member(conn, srv.id + 1000, bob.id)
    assert missing.value.constraint == "server_members_server_id_fkey"
    servers.transfer_ownership(conn, srv.id, alice.id)
    roles = {m.user_id: m.role for m in servers.members(conn, srv.id).items}
    assert roles == {owner.id: "admin", alice.id: "owner"}
    assert servers.get(conn, srv.id).owner_id == alice.id
    servers.remove_member(conn, srv.id, owner.id)
    assert [m.name for m in servers.for_user(conn, alice.id).items] == [srv.name]
    assert servers.for_user(conn, owner.id).items == []


def test_concurrent_transfers_leave_one_owner(conn: Conn, pool: Pool) -> None:
    """A->B holds its transaction open while A->C starts: the second transfer waits on
    the server's row lock, then transfers from the new owner B (it does not fail)."""
    first_owner, b, c = user(conn), user(conn), user(conn)
    srv = server(conn, first_owner)
    servers.add_member(conn, srv.id, b.id)
    servers.add_member(conn, srv.id, c.id)
    outcome = race(
        pool,
        conn,
        lambda first: servers.transfer_ownership(first, srv.id, b.id),
        lambda: servers.transfer_ownership(pool, srv.id, c.id),
    )
    assert isinstance(outcome, servers.Server), outcome
    assert outcome.owner_id == c.id
    roles = {m.user_id: m.role for m in servers.members(conn, srv.id).items}
    assert roles == {first_owner.id: "admin", b.id: "admin", c.id: "owner"}
    assert servers.get(conn, srv.id).owner_id == c.id


def test_role_change_of_a_member_removed_meanwhile_is_not_found(conn: Conn, pool: Pool) -> None:
    srv = server(conn)
    alice = user(conn)
    servers.add_member(conn, srv.id, alice.id)
    outcome = race(
        pool,
        conn,
        lambda remover: servers.remove_member(remover, srv.id, alice.id),
        lambda: servers.set_role(pool, srv.id, alice.id, "moderator"),
    )
    assert isinstance(outcome, NotFound), outcome
    assert [m.user_id for m in servers.members(conn, srv.id).items] == [srv.owner_id]


@pytest.mark.parametrize("change", ["set_role", "add_member"])
def test_a_member_who_just_became_owner_keeps_the_role(conn: Conn, pool: Pool, change: str) -> None:
    """Ownership moves to alice in an open transaction while her role is being changed:
    the change waits, then sees she is the owner and raises Conflict. It used to
    overwrite the new owner's role, leaving the server without an owner member."""
    srv = server(conn)
    alice = user(conn)
    servers.add_member(conn, srv.id, alice.id)
    outcome = race(
        pool,
        conn,
        lambda other: servers.transfer_ownership(other, srv.id, alice.id),
        lambda: getattr(servers, change)(pool, srv.id, alice.id, "moderator"),
    )
    assert isinstance(outcome, Conflict), outcome
    assert outcome.column == "role"
    roles = {m.user_id: m.role for m in servers.members(conn, srv.id).items}
    assert roles == {srv.owner_id: "admin", alice.id: "owner"}


def test_database_allows_one_owner_member_per_server(conn: Conn) -> None:
    srv = server(conn)
    other = user(conn)
    servers.add_member(conn, srv.id, other.id)
    with pytest.raises(psycopg.errors.UniqueViolation) as caught:
        conn.execute(
            "UPDATE server_members SET role = 'owner' WHERE server_id = %s AND user_id = %s",
            [srv.id, other.id],
        )
    assert caught.value.diag.constraint_name == "server_members_one_owner_key"


def test_transfer_to_a_non_member_changes_nothing(conn: Conn) -> None:
    first_owner, outsider = user(conn), user(conn)
    srv = server(conn, first_owner)
    with pytest.raises(NotFound):
        servers.transfer_ownership(conn, srv.id, outsider.id)
    with pytest.raises(NotFound):
        servers.transfer_ownership(conn, srv.id + 1000, outsider.id)
    assert servers.get(conn, srv.id).owner_id == first_owner.id
    assert [(m.user_id, m.role) for m in servers.members(conn, srv.id).items] == [
        (first_owner.id, "owner")
    ]


def test_event_checks_each_name_their_rule(conn: Conn) -> None:
    srv = server(conn)
    start = now() + timedelta(days=1)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"ends_at": start}, "events_starts_before_ends"),
        ({"ends_at": start - timedelta(hours=1)}, "events_starts_before_ends"),
        ({"capacity": 0}, "events_capacity_positive"),
        ({"title": " "}, "events_title_length"),
        ({"title": "t" * 201}, "events_title_length"),
        ({"location": ""}, "events_location_length"),
        ({"description": "d" * 10001}, "events_description_length"),
    ]
    for fields, constraint in cases:
        base: dict[str, Any] = {
            "server_id": srv.id,
            "creator_id": srv.owner_id,
            "title": "Meetup",
            "starts_at": start,
            "ends_at": start + timedelta(hours=1),
        }
        with pytest.raises(InvalidData) as caught:
            events.create(conn, **(base | fields))
        assert caught.value.constraint == constraint, fields
        assert caught.value.table == "events"
    scheduled = event(conn, srv, location="Library", capacity=10)
    with pytest.raises(InvalidData) as status:
        # Other fields in the same call must not be written either: one UPDATE, rolled back.
        events.update(conn, scheduled.id, title="Renamed", capacity=5, status="postponed")
    assert status.value.constraint == "events_status_valid"
    assert events.get(conn, scheduled.id) == scheduled
    with pytest.raises(ReferenceMissing) as missing:
        event(conn, srv, server_id=srv.id + 1000)
    assert missing.value.constraint == "events_server_id_fkey"
    assert count(conn, "events") == 1


def test_update_and_delete_event(conn: Conn) -> None:
    srv = server(conn)
    ev = event(conn, srv, location="Library")
    changed = events.update(conn, ev.id, title="Chess night", location=None)
    assert (changed.title, changed.location, changed.starts_at) == (
        "Chess night",
        None,
        ev.starts_at,
    )
    assert changed.updated_at >= ev.updated_at
    events.delete(conn, ev.id)
    with pytest.raises(NotFound):
        events.get(conn, ev.id)
    with pytest.raises(NotFound):
        events.update(conn, ev.id, title="x")


def test_update_takes_the_shared_unset(conn: Conn) -> None:
    """Every module's UNSET is the one of dal._unset: any of them leaves a field as it is."""
    srv = server(conn)
    ev = event(conn, srv, location="Library")
    changed = events.update(conn, ev.id, title=tasks.UNSET, location=tasks.UNSET, capacity=4)
    assert (changed.title, changed.location, changed.capacity) == (ev.title, "Library", 4)
    assert events.UNSET is tasks.UNSET


def test_upcoming_for_server_keyset_pages(conn: Conn) -> None:
    srv, other = server(conn), server(conn)
    made = [event(conn, srv, in_days=d, title=f"E{d}") for d in (5, 1, 3, 2, 4)]
    event(conn, srv, in_days=-1, title="past")
    events.cancel(conn, event(conn, srv, in_days=2.5, title="cancelled").id)
    event(conn, other, in_days=1, title="elsewhere")
    first = events.upcoming_for_server(conn, srv.id, limit=2)
    assert [e.title for e in first.items] == ["E1", "E2"]
    assert first.next_cursor is not None
    second = events.upcoming_for_server(conn, srv.id, cursor=first.next_cursor, limit=2)
    assert [e.title for e in second.items] == ["E3", "E4"]
    assert second.next_cursor is not None
    last = events.upcoming_for_server(conn, srv.id, cursor=second.next_cursor, limit=2)
    assert [e.title for e in last.items] == ["E5"] and last.next_cursor is None
    assert len(made) == 5
    with pytest.raises(InvalidData):
        events.upcoming_for_server(conn, srv.id, cursor="garbage")


def test_upcoming_for_user_across_servers(conn: Conn) -> None:
    me = user(conn)
    mine, also_mine, not_mine = server(conn), server(conn), server(conn)
    servers.add_member(conn, mine.id, me.id)
    servers.add_member(conn, also_mine.id, me.id)
    a = event(conn, mine, in_days=3, title="A")
    event(conn, also_mine, in_days=1, title="B")
    event(conn, not_mine, in_days=2, title="C")
    event(conn, mine, in_days=-2, title="old")
    events.rsvp(conn, a.id, me.id, "maybe")
    page = events.upcoming_for_user(conn, me.id, limit=1)
    assert [(e.title, e.response) for e in page.items] == [("B", None)]
    assert page.next_cursor is not None
    rest = events.upcoming_for_user(conn, me.id, cursor=page.next_cursor, limit=5)
    assert [(e.title, e.response) for e in rest.items] == [("A", "maybe")]
    assert rest.next_cursor is None


def test_full_text_search_ranks_title_matches_first(conn: Conn) -> None:
    srv, other = server(conn), server(conn)
    event(conn, srv, title="Picnic in the park", description="Bring food")
    event(conn, srv, title="Book club", description="After the picnic we read")
    event(conn, other, title="Picnics for beginners")
    event(conn, srv, title="Chess", description="Quiet games")
    hits = events.search(conn, "picnic")
    assert {h.title for h in hits} == {"Picnic in the park", "Book club", "Picnics for beginners"}
    assert hits[-1].title == "Book club"  # description-only match ranks last
    assert all(a.rank >= b.rank for a, b in itertools.pairwise(hits))
    scoped = events.search(conn, "picnic -book", server_id=srv.id)
    assert [h.title for h in scoped] == ["Picnic in the park"]
    assert events.search(conn, "volcano") == []


def test_rsvp_counts_and_capacity(conn: Conn) -> None:
    srv = server(conn)
    ev = event(conn, srv, capacity=2)
    a, b, c = user(conn), user(conn), user(conn)
    events.rsvp(conn, ev.id, a.id, "going")
    events.rsvp(conn, ev.id, b.id, "going")
    with pytest.raises(events.EventFull) as caught:
        events.rsvp(conn, ev.id, c.id, "going")
    assert caught.value.constraint == "events_capacity_not_exceeded"
    assert count(conn, "event_rsvps") == 2
    events.rsvp(conn, ev.id, c.id, "maybe")  # maybe takes no seat
    events.rsvp(conn, ev.id, a.id, "declined")  # frees a seat
    assert events.get(conn, ev.id).seats_left == 1
    events.rsvp(conn, ev.id, c.id, "going")
    assert events.rsvp_counts(conn, ev.id) == {"going": 2, "maybe": 0, "declined": 1}
    assert {r.user_id for r in events.rsvps(conn, ev.id).items} == {b.id, c.id}
    with pytest.raises(events.EventFull):
        events.update(conn, ev.id, capacity=1)
    events.withdraw(conn, ev.id, b.id)
    assert events.update(conn, ev.id, capacity=1).going_count == 1
    with pytest.raises(NotFound):
        events.withdraw(conn, ev.id, b.id)


def test_rsvp_rules(conn: Conn) -> None:
    srv = server(conn)
    ev = event(conn, srv)
    someone = user(conn)
    with pytest.raises(InvalidData) as bad:
        events.rsvp(conn, ev.id, someone.id, "perhaps")
    assert bad.value.column == "response"
    with pytest.raises(InvalidData) as check:  # the CHECK behind the DAL's own validation
        queries.execute(
            conn,
            "events.upsert_rsvp",
            {"event_id": ev.id, "user_id": someone.id, "response": "perhaps"},
        )
    assert check.value.constraint == "event_rsvps_response_valid"
    with pytest.raises(ReferenceMissing) as missing:
        events.rsvp(conn, ev.id + 999, someone.id, "going")
    assert missing.value.constraint == "event_rsvps_event_id_fkey"
    events.cancel(conn, ev.id)
    with pytest.raises(InvalidData) as closed:
        events.rsvp(conn, ev.id, someone.id, "going")
    assert closed.value.constraint == "event_rsvps_event_scheduled"
    assert count(conn, "event_rsvps") == 0
    assert events.get(conn, ev.id).going_count == 0


@pytest.mark.parametrize("response", ["maybe", "declined", "going"])
def test_answer_waits_for_a_concurrent_cancellation(conn: Conn, pool: Pool, response: str) -> None:
    """The event is cancelled in an open transaction: an answer must wait for it, then
    be refused, whatever the answer (only "going" used to take the event's row lock)."""
    srv = server(conn)
    ev = event(conn, srv, capacity=10)
    person = user(conn)
    outcome = race(
        pool,
        conn,
        lambda canceller: events.cancel(canceller, ev.id),
        lambda: events.rsvp(pool, ev.id, person.id, response),
    )
    assert isinstance(outcome, InvalidData), outcome
    assert outcome.constraint == "event_rsvps_event_scheduled"
    assert count(conn, "event_rsvps") == 0


def test_deleting_event_cascades_rsvps(conn: Conn) -> None:
    srv = server(conn)
    ev = event(conn, srv, capacity=3)
    events.rsvp(conn, ev.id, user(conn).id, "going")
    servers.delete(conn, srv.id)
    assert count(conn, "event_rsvps") == 0
    assert count(conn, "events") == 0
    assert count(conn, "server_members") == 0


def test_capacity_holds_under_32_concurrent_goers(conn: Conn, db_url: str) -> None:
    srv = server(conn)
    ev = event(conn, srv, capacity=5)
    people = [user(conn) for _ in range(32)]
    pool = open_pool(db_url, Settings(pool_size=16, max_overflow=16))
    start = threading.Barrier(len(people))
    outcomes: list[str] = []
    lock = threading.Lock()

    def go(person_id: Any) -> None:
        start.wait()
        try:
            events.rsvp(pool, ev.id, person_id, "going")
            result = "ok"
        except events.EventFull:
            result = "full"
        except Exception as exc:  # anything else is a failure the assert below shows
            result = repr(exc)
        with lock:
            outcomes.append(result)

    try:
        threads = [threading.Thread(target=go, args=(p.id,)) for p in people]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        pool.close()
    assert sorted(outcomes) == ["full"] * 27 + ["ok"] * 5
    assert events.get(conn, ev.id).going_count == 5
    assert events.rsvp_counts(conn, ev.id)["going"] == 5


def test_naive_datetimes_are_refused(conn: Conn) -> None:
    srv = server(conn)
    start = now() + timedelta(days=1)
    base: dict[str, Any] = {
        "server_id": srv.id,
        "creator_id": srv.owner_id,
        "title": "Picnic",
        "starts_at": start,
        "ends_at": start + timedelta(hours=1),
    }
    for field in ("starts_at", "ends_at"):
        with pytest.raises(InvalidData) as created:
            events.create(conn, **(base | {field: base[field].replace(tzinfo=None)}))
        assert created.value.column == field
    assert count(conn, "events") == 0
    ev = events.create(conn, **base)
    with pytest.raises(InvalidData) as updated:
        events.update(conn, ev.id, title="Moved", ends_at=ev.ends_at.replace(tzinfo=None))
    assert updated.value.column == "ends_at"
    assert events.get(conn, ev.id) == ev


def test_members_page_in_join_order_without_gaps_or_repeats(conn: Conn) -> None:
    srv = server(conn, user(conn, "pager"))
    for _ in range(12):
        servers.add_member(conn, srv.id, user(conn).id)
    seen: list[Any] = []
    page = servers.members(conn, srv.id, limit=5)
    while True:
        seen += page.items
        if page.next_cursor is None:
            break
        servers.add_member(conn, srv.id, user(conn).id)  # joins at the end, after the cursor
        page = servers.members(conn, srv.id, cursor=page.next_cursor, limit=5)
    keys = [(m.joined_at, m.user_id) for m in seen]
    assert keys == sorted(keys)
    assert len({m.user_id for m in seen}) == len(seen)
    assert len(seen) == count(conn, "server_members")  # the owner, 12 members, the late ones


def test_a_users_servers_page_in_join_order(conn: Conn) -> None:
    me = user(conn)
    joined = []
    for n in range(5):
        srv = server(conn)
        servers.add_member(conn, srv.id, me.id, role="moderator" if n == 2 else "member")
        joined.append(srv.id)
    owned = server(conn, me)  # joined last, as its owner
    server(conn)  # not mine: never listed
    seen: list[Any] = []
    page = servers.for_user(conn, me.id, limit=2)
    while True:
        assert len(page.items) <= 2
        seen += page.items
        if page.next_cursor is None:
            break
        page = servers.for_user(conn, me.id, cursor=page.next_cursor, limit=2)
    assert [s.id for s in seen] == [*joined, owned.id]
    assert [(s.joined_at, s.id) for s in seen] == sorted((s.joined_at, s.id) for s in seen)
    assert [s.role for s in seen] == ["member", "member", "moderator", "member", "member", "owner"]
    with pytest.raises(InvalidData) as caught:
        servers.for_user(conn, me.id, cursor="e30")  # {} encoded: no key inside
    assert caught.value.column == "cursor"


@pytest.mark.parametrize("final", ["cancelled", "completed"])
def test_cancelled_and_completed_are_final(conn: Conn, final: str) -> None:
    srv = server(conn)
    ev = event(conn, srv, capacity=5)
    events.rsvp(conn, ev.id, user(conn).id, "going")
    done = events.update(conn, ev.id, status=final)
    assert events.update(conn, ev.id, status=final).status == final  # to itself: a no-op
    for status in {"scheduled", "cancelled", "completed"} - {final}:
        with pytest.raises(InvalidData) as caught:
            # The other fields of the same call are not written either.
            events.update(conn, ev.id, title="Back on", status=status)
        assert caught.value.constraint == "events_status_transition"
        assert (caught.value.table, caught.value.column) == ("events", "status")
    again = events.get(conn, ev.id)
    assert (again.status, again.title, again.going_count) == (final, done.title, 1)
    assert events.update(conn, ev.id, title="Renamed").title == "Renamed"  # other edits go on
    with pytest.raises(psycopg.errors.CheckViolation) as raw:  # any writer, not only the DAL
        conn.execute("UPDATE events SET status = 'scheduled' WHERE id = %s", [ev.id])
    assert raw.value.diag.constraint_name == "events_status_transition"
    assert events.upcoming_for_server(conn, srv.id).items == []


def test_rename_server(conn: Conn) -> None:
    srv = server(conn)
    renamed = servers.rename(conn, srv.id, "Rustaceans")
    assert (renamed.name, renamed.snowflake_id) == ("Rustaceans", srv.snowflake_id)
    assert renamed.updated_at >= srv.updated_at
    for name in ("", " ", "x" * 101):
        with pytest.raises(InvalidData) as caught:
            servers.rename(conn, srv.id, name)
        assert caught.value.constraint == "servers_name_length"
    assert servers.get(conn, srv.id) == renamed
    with pytest.raises(NotFound):
        servers.rename(conn, srv.id + 1000, "Nowhere")


def test_get_member(conn: Conn) -> None:
    owner, alice, outsider = user(conn), user(conn), user(conn)
    srv = server(conn, owner)
    added = servers.add_member(conn, srv.id, alice.id, "moderator")
    assert servers.get_member(conn, srv.id, alice.id) == added
    assert servers.get_member(conn, srv.id, owner.id).role == "owner"
    with pytest.raises(NotFound) as caught:
        servers.get_member(conn, srv.id, outsider.id)
    assert caught.value.table == "server_members"
    with pytest.raises(NotFound):
        servers.get_member(conn, srv.id + 1000, alice.id)


def test_rsvps_page_through_every_answer_in_answer_order(conn: Conn) -> None:
    srv = server(conn)
    ev = event(conn, srv, capacity=10)
    people = [user(conn) for _ in range(5)]
    for person in people:
        events.rsvp(conn, ev.id, person.id, "going")
    events.rsvp(conn, ev.id, user(conn).id, "maybe")  # another response: not listed
    seen = []
    cursor = None
    while True:
        page = events.rsvps(conn, ev.id, "going", cursor=cursor, limit=2)
        assert len(page.items) <= 2
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [r.user_id for r in seen] == [
        r.user_id for r in sorted(seen, key=lambda r: (r.responded_at, str(r.user_id)))
    ]
    assert {r.user_id for r in seen} == {p.id for p in people}
    with pytest.raises(InvalidData):
        events.rsvps(conn, ev.id, cursor="bogus")
    with pytest.raises(InvalidData):
        events.rsvps(conn, ev.id, limit=0)
