"""Text no PostgreSQL text can hold (a lone surrogate) is refused as InvalidData naming
the parameter, in lookups and writes alike, before anything is sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dal import categories, events, tasks, users
from dal.errors import InvalidData
from tests.community_helpers import server
from tests.factories import count, user

pytestmark = pytest.mark.flavours

LONE = "a\ud800b"  # a lone surrogate: str allows it, UTF-8 does not

TABLES = ("users", "tasks", "categories", "events")


def _counts(conn: Any) -> dict[str, int]:
    return {table: count(conn, table) for table in TABLES}


CASES: dict[str, tuple[str, Callable[[Any, Any], Any]]] = {
    "users.get_by_email": ("email", lambda db, _who: users.get_by_email(db, LONE)),
    "users.get_by_username": ("username", lambda db, _who: users.get_by_username(db, LONE)),
    "users.create display_name": (
        "display_name",
        lambda db, _who: users.create(
            db, email="new@example.com", username="newcomer", display_name=LONE
        ),
    ),
    "users.authenticate login": ("login", lambda db, _who: users.authenticate(db, LONE, "x" * 9)),
    "users.authenticate password": (
        "password",
        lambda db, who: users.authenticate(db, who.email, "secret-" + LONE),
    ),
    "tasks.create title": (
        "title",
        lambda db, who: tasks.create(db, owner_id=who.id, title=LONE),
    ),
    "categories.create name": (
        "name",
        lambda db, who: categories.create(db, owner_id=who.id, name=LONE),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_lone_surrogate_is_invalid_data_naming_the_field(conn: Any, pool: Any, case: str) -> None:
    field, call = CASES[case]
    who = user(conn)
    before = _counts(conn)
    with pytest.raises(InvalidData) as refused:
        call(pool, who)
    assert refused.value.column == field
    assert _counts(conn) == before


@pytest.mark.parametrize("in_server", [False, True])
def test_a_lone_surrogate_in_a_search_is_invalid_data(
    conn: Any, pool: Any, in_server: bool
) -> None:
    srv = server(conn)
    with pytest.raises(InvalidData) as refused:
        events.search(pool, LONE, server_id=srv.id if in_server else None)
    assert refused.value.column == "query"
