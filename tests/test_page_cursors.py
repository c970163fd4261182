"""Page cursors: what a forged one gets, for lists keyed by a bigint id and by a UUID."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from dal import InvalidData
from dal.pagination import decode_time_cursor, encode_cursor
from tests.community_helpers import server
from tests.factories import Conn, project, user
from tests.flavoured import events, projects, servers

pytestmark = pytest.mark.flavours

WHEN = "2026-01-01T00:00:00+00:00"


def raw(text: str) -> str:
    """A cursor of any JSON text, as a client could forge one."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# Each is refused as an id of a bigint key: what JSON can say that is no bigint.
NOT_A_BIGINT = [
    raw(f'["{WHEN}",1.5]'),
    raw(f'["{WHEN}",true]'),
    raw(f'["{WHEN}",1e999]'),  # inf once decoded: int() of it overflows
    raw(f'["{WHEN}",NaN]'),
    raw(f'["{WHEN}",Infinity]'),
    encode_cursor([WHEN, 2**63]),
    encode_cursor([WHEN, -(2**63) - 1]),
    encode_cursor([WHEN, "12"]),
    encode_cursor([WHEN, None]),
    encode_cursor(["2026-01-01T00:00:00", 12]),  # no offset: never one of ours
]
NOT_A_UUID = [
    encode_cursor([WHEN, 5]),
    encode_cursor([WHEN, "not-a-uuid"]),
    encode_cursor([WHEN, [str(uuid.uuid4())]]),
    raw(f'["{WHEN}",{{"id":1}}]'),
]


@pytest.mark.parametrize("cursor", NOT_A_BIGINT)
def test_a_forged_bigint_cursor_is_invalid_data(cursor: str) -> None:
    with pytest.raises(InvalidData) as caught:
        decode_time_cursor(cursor, int)
    assert caught.value.column == "cursor"


@pytest.mark.parametrize("cursor", NOT_A_UUID)
def test_a_forged_uuid_cursor_is_invalid_data(cursor: str) -> None:
    with pytest.raises(InvalidData) as caught:
        decode_time_cursor(cursor, uuid.UUID)
    assert caught.value.column == "cursor"


def test_our_own_cursors_decode_to_what_they_hold() -> None:
    moment, made = "2026-03-04T05:06:07.123456+05:30", uuid.uuid4()
    when, row_id = decode_time_cursor(encode_cursor([moment, str(made)]), uuid.UUID)
    assert (when.isoformat(), row_id) == (moment, made)
    for edge in (-(2**63), 2**63 - 1, 0):
        assert decode_time_cursor(encode_cursor([moment, edge]), int)[1] == edge


def test_every_paged_list_refuses_a_forged_cursor(conn: Conn) -> None:
    owner = user(conn)
    srv, made = server(conn, owner), project(conn, owner)
    lists: list[tuple[Callable[[str], Any], list[str]]] = [
        (lambda c: servers.for_user(conn, owner.id, cursor=c), NOT_A_BIGINT),
        (lambda c: events.upcoming_for_server(conn, srv.id, cursor=c), NOT_A_BIGINT),
        (lambda c: servers.members(conn, srv.id, cursor=c), NOT_A_UUID),
        (lambda c: projects.list_for_user(conn, owner.id, cursor=c), NOT_A_UUID),
        (lambda c: projects.list_members(conn, made.id, cursor=c), NOT_A_UUID),
    ]
    for call, forged in lists:
        for cursor in forged:
            with pytest.raises(InvalidData) as caught:
                call(cursor)
            assert caught.value.column == "cursor", cursor
