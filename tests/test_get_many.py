"""get_many: one statement for many ids, rows in the order asked, missing ids reported."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from dal import InvalidData, queries
from dal.many import MAX_IDS
from tests.community_helpers import event, server
from tests.factories import project, user
from tests.flavoured import events, projects, tasks, users

pytestmark = pytest.mark.flavours

Conn = psycopg.Connection[Any]


def test_users_in_the_order_asked_with_the_missing_ones(conn: Conn) -> None:
    a, b, c = user(conn), user(conn), user(conn)
    nobody = uuid.uuid4()
    found = users.get_many(conn, [c.id, nobody, a.id, c.id, b.id])
    assert found.rows == [c, a, b]  # each id once, in its first place
    assert found.missing == [nobody]
    assert users.get_many(conn, []).rows == []


def test_tasks_projects_and_events(conn: Conn) -> None:
    owner = user(conn)
    first, second = project(conn, owner, "one"), project(conn, owner, "two")
    t1 = tasks.create(conn, owner_id=owner.id, title="a")
    t2 = tasks.create(conn, owner_id=owner.id, title="b")
    gone = uuid.uuid4()
    assert tasks.get_many(conn, [t2.id, gone, t1.id]).rows == [t2, t1]
    assert tasks.get_many(conn, [t2.id, gone, t1.id]).missing == [gone]
    assert projects.get_many(conn, (second.id, first.id)).rows == [second, first]
    srv = server(conn, owner)
    e1, e2 = event(conn, srv), event(conn, srv, in_days=2)
    found = events.get_many(conn, [e2.id, 10**12, e1.id])
    assert ([e.id for e in found.rows], found.missing) == ([e2.id, e1.id], [10**12])


@pytest.mark.parametrize(
    "ids",
    [
        "not a list",
        b"bytes",
        ["not-a-uuid"],
        [1],
        [None],
        [uuid.uuid4() for _ in range(MAX_IDS + 1)],
    ],
    ids=["str", "bytes", "bad-text", "int", "none", "too-many"],
)
def test_bad_ids_are_invalid_data_naming_the_argument(conn: Conn, ids: Any) -> None:
    with pytest.raises(InvalidData) as caught:
        users.get_many(conn, ids)
    assert caught.value.column == "user_ids"


@pytest.mark.parametrize("bad", [1.5, "3", True, None])
def test_event_ids_must_be_integers(conn: Conn, bad: Any) -> None:
    with pytest.raises(InvalidData) as caught:
        events.get_many(conn, [1, bad])
    assert caught.value.column == "event_ids"


def test_one_statement_whatever_the_number_of_ids(
    conn: Conn, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = [user(conn) for _ in range(20)]
    sent: list[str] = []
    real = psycopg.Cursor.execute

    def spy(self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(query)
        return real(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", spy)
    from dal import users as sync_users  # the sync seam is the one spied on

    assert sync_users.get_many(conn, [u.id for u in made]).rows == made
    assert sent == [queries.get("users.get_many").text]
