"""Categories against a real database: per-user case-insensitive names, colours, counts."""

from __future__ import annotations

import uuid

import pytest

from dal import Conflict, InvalidData, NotFound, ReferenceMissing
from tests.factories import Conn, count, user
from tests.flavoured import categories, tasks

pytestmark = pytest.mark.flavours


def test_crud(conn: Conn) -> None:
    owner = user(conn)
    made = categories.create(conn, owner_id=owner.id, name="Work", colour="#1a2B3c")
    assert categories.get(conn, made.id) == made
    renamed = categories.update(conn, made.id, name="Office")
    assert (renamed.name, renamed.colour) == ("Office", "#1a2B3c")
    categories.delete(conn, made.id)
    for call in (
        lambda: categories.get(conn, made.id),
        lambda: categories.update(conn, made.id, colour="#000000"),
        lambda: categories.delete(conn, made.id),
    ):
        with pytest.raises(NotFound):
            call()


def test_names_unique_per_user_ignoring_case(conn: Conn) -> None:
    ann, bob = user(conn), user(conn)
    categories.create(conn, owner_id=ann.id, name="Home")
    with pytest.raises(Conflict) as caught:
        categories.create(conn, owner_id=ann.id, name="hOME")
    assert caught.value.constraint == "categories_owner_id_name_lower_key"
    assert count(conn, "categories") == 1
    categories.create(conn, owner_id=bob.id, name="HOME")  # another user may
    assert count(conn, "categories") == 2


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"name": ""}, "categories_name_length"),
        ({"name": "x" * 101}, "categories_name_length"),
        ({"name": " \t"}, "categories_name_not_blank"),
        ({"colour": "red"}, "categories_colour_format"),
        ({"colour": "#12345"}, "categories_colour_format"),
        ({"colour": "#12345g"}, "categories_colour_format"),
    ],
)
def test_checks(conn: Conn, fields: dict[str, str], constraint: str) -> None:
    owner = user(conn)
    with pytest.raises(InvalidData) as caught:
        categories.create(conn, **({"owner_id": owner.id, "name": "ok"} | fields))  # type: ignore[arg-type]
    assert caught.value.constraint == constraint
    assert count(conn, "categories") == 0


def test_name_of_100_characters_is_fine(conn: Conn) -> None:
    assert len(categories.create(conn, owner_id=user(conn).id, name="é" * 100).name) == 100


def test_unknown_owner(conn: Conn) -> None:
    with pytest.raises(ReferenceMissing) as caught:
        categories.create(conn, owner_id=uuid.uuid4(), name="x")
    assert caught.value.constraint == "categories_owner_id_fkey"
    assert count(conn, "categories") == 0


def test_list_with_task_counts(conn: Conn) -> None:
    owner, other = user(conn), user(conn)
    b = categories.create(conn, owner_id=owner.id, name="beta")
    a = categories.create(conn, owner_id=owner.id, name="Alpha")
    categories.create(conn, owner_id=other.id, name="other")
    for _ in range(3):
        tasks.create(conn, owner_id=owner.id, title="t", category_id=b.id)
    tasks.create(conn, owner_id=owner.id, title="uncategorised")
    listed = categories.list_for_user(conn, owner.id)
    assert [(c.id, c.task_count) for c in listed.items] == [(a.id, 0), (b.id, 3)]
    assert listed.next_cursor is None


def test_a_users_categories_page_by_name_in_any_case(conn: Conn) -> None:
    owner = user(conn)
    names = ["delta", "Alpha", "charlie", "Bravo", "echo"]
    for name in names:
        categories.create(conn, owner_id=owner.id, name=name)
    seen: list[str] = []
    cursor = None
    while True:
        page = categories.list_for_user(conn, owner.id, cursor=cursor, limit=2)
        seen += [c.name for c in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(names, key=str.lower)
    with pytest.raises(InvalidData):
        categories.list_for_user(conn, owner.id, cursor="bogus")
