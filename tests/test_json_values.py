"""json and jsonb values read on the DAL's connections (dal._json.loads, orjson) are
the values the standard library would give: exact big integers included."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import orjson
import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dal._json
from dal._json import loads
from tests import factories
from tests.flavoured import tasks

pytestmark = pytest.mark.flavours

Conn = psycopg.Connection[Any]

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(JSON)
@settings(max_examples=300)
def test_loads_gives_what_json_loads_gives(value: Any) -> None:
    for text in (json.dumps(value), json.dumps(value, indent=1, ensure_ascii=False)):
        assert loads(text.encode()) == json.loads(text)
        assert type(loads(text)) is type(json.loads(text))


def test_numbers_beyond_a_double_or_64_bits_stay_exact(conn: Conn) -> None:
    owner = factories.user(conn)
    task = tasks.create(conn, owner_id=owner.id, title="Numbers")
    huge = "[18446744073709551616, -9223372036854775809, 123456789012345678901234567890, 1e400]"
    conn.execute("UPDATE tasks SET data = jsonb_build_object('n', %s::jsonb)", [huge])
    numbers = tasks.get(conn, task.id).data["n"]
    assert numbers[:3] == [2**64, -(2**63) - 1, 123456789012345678901234567890]
    assert numbers[3] == 10**400  # jsonb keeps 1e400 as a numeric and prints its digits
    assert all(type(n) is int for n in numbers)


def test_the_dal_connection_reads_json_and_jsonb_with_orjson(
    conn: Conn, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = factories.user(conn)
    data = {"source": "import", "tags": ["a", "b"], "estimate": 2.5, "nested": {"ok": True}}
    task = tasks.create(conn, owner_id=owner.id, title="Data", data=data)
    parsed: list[bytes] = []

    def spy(raw: bytes) -> Any:
        parsed.append(raw)
        return orjson.loads(raw)

    monkeypatch.setattr(dal._json, "orjson", SimpleNamespace(loads=spy, JSONDecodeError=ValueError))
    assert tasks.get(conn, task.id).data == data
    row = conn.execute("SELECT data, data::json FROM tasks WHERE id = %s", [task.id]).fetchone()
    assert row == (data, data)  # plain SQL on the same connection: the same loader
    assert len(parsed) == 3
