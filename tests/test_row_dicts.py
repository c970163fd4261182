"""Every row type serialises: `to_dict()` is JSON-ready, the same mechanism for all
(dal.rows.base.Row), and never carries a secret."""

from __future__ import annotations

import dataclasses
import importlib
import json
import pkgutil
import types
import typing
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest

import dal.rows
from dal.rows.base import Row
from tests.flavoured import users


def _row_types() -> list[type[Any]]:
    found = []
    for info in pkgutil.iter_modules(dal.rows.__path__):
        module = importlib.import_module(f"dal.rows.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and dataclasses.is_dataclass(value)
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return found


ROW_TYPES = _row_types()


def _example(hint: Any, depth: int) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _example(next(a for a in typing.get_args(hint) if a is not type(None)), depth)
    if origin is list:  # a tree of rows (TaskNode) stops at its second level
        return [_example(typing.get_args(hint)[0], depth + 1)] if depth < 2 else []
    if origin is dict or hint is dict:
        return {"key": [1, "two"]}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _instance(hint, depth)
    simple = {
        UUID: uuid4(),
        str: "text",
        int: 3,
        float: 1.5,
        bool: True,
        datetime: datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        date: date(2026, 1, 2),
        Decimal: Decimal("4.50"),
        timedelta: timedelta(minutes=90),
    }
    return simple.get(hint, {"any": "json"})


def _instance(cls: type[Any], depth: int = 0) -> Any:
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    return cls(**{f.name: _example(hints[f.name], depth) for f in fields if f.init})


def test_the_row_types_are_found() -> None:
    names = {cls.__name__ for cls in ROW_TYPES}
    assert {"User", "Task", "Event", "Mood", "Recommendation", "Survey"} <= names


@pytest.mark.parametrize("cls", ROW_TYPES, ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_every_row_type_goes_through_json_dumps(cls: type[Any]) -> None:
    assert issubclass(cls, Row), "one mechanism for every row: dal.rows.base.Row"
    row = _instance(cls)
    data = row.to_dict()
    again = json.loads(json.dumps(data))
    assert again == data
    secret = {f.name for f in dataclasses.fields(row) if f.metadata.get("secret")}
    public = [f.name for f in dataclasses.fields(row) if f.name not in secret]
    assert list(data) == public
    for name in public:
        value = getattr(row, name)
        if isinstance(value, UUID | Decimal):
            assert data[name] == str(value)
        elif isinstance(value, date):  # a datetime too
            assert data[name] == value.isoformat()


def test_a_users_dict_has_no_password_hash(conn: psycopg.Connection[Any]) -> None:
    user = users.create(conn, email="r@example.com", username="rowdict", password="long enough")
    data = user.to_dict()
    assert "password_hash" not in data and data["id"] == str(user.id)
    assert datetime.fromisoformat(data["created_at"]) == user.created_at
    assert "argon2" not in json.dumps(data)
