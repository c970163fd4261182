"""Rows built by the seam's row factory: the same objects their class would build."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import pytest
from psycopg import sql

from dal._json import loads
from dal.query_files import _slot_maker
from dal.rows.tasks import Task
from dal.rows.users import User
from tests.factories import project, user


@pytest.mark.parametrize("cls", [User, Task])
def test_a_slot_maker_builds_what_the_class_builds(cls: type[Any]) -> None:
    make = _slot_maker(cls)
    assert make is not None
    values = list(range(len(dataclasses.fields(cls))))
    built = make(values)
    assert type(built) is cls
    assert built == cls(*values)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.id = "changed"


def test_a_class_with_its_own_init_work_is_called_not_filled() -> None:
    @dataclass(frozen=True, slots=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            raise AssertionError("called")

    @dataclass(frozen=True)
    class Unslotted:
        a: int

    @dataclass(frozen=True, slots=True)
    class OwnInit:
        a: int

        def __init__(self, a: int) -> None:
            object.__setattr__(self, "a", a * 10)

    @dataclass(frozen=True, slots=True)
    class OwnNew:
        a: int

        def __new__(cls, *args: Any) -> Any:
            return super().__new__(cls)

    for cls in (Checked, Unslotted, OwnInit, OwnNew):
        assert _slot_maker(cls) is None, cls


def test_rows_from_the_database_equal_rows_their_class_builds(conn: Any) -> None:
    from dal import tasks

    owner = user(conn)
    home = project(conn, owner)
    made = tasks.create(conn, owner_id=owner.id, project_id=home.id, title="t", data={"n": 1})
    columns = sql.SQL(", ").join(sql.Identifier(f.name) for f in dataclasses.fields(Task))
    query = sql.SQL("SELECT {} FROM tasks WHERE id = %s").format(columns)
    raw = conn.execute(query, [made.id]).fetchone()
    assert made == Task(*raw)
    assert tasks.get(conn, made.id) == made


@pytest.mark.parametrize("data", [b'{"a": 1}', memoryview(b'{"a": 1}'), bytearray(b'{"a": 1}')])
def test_json_text_is_parsed_from_any_buffer(data: Any) -> None:
    assert loads(data) == {"a": 1}
