"""An integer column's value must be an int: a float would be rounded by the server's
assignment cast (capacity=2.5 would store 3), a bool is no count. Refused as
InvalidData naming the column, before anything is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dal.errors import InvalidData
from tests import community_helpers, factories
from tests.factories import Conn, count
from tests.flavoured import config_store, events, moods, users

pytestmark = pytest.mark.flavours

START = datetime(2030, 5, 1, 18, tzinfo=UTC)


@pytest.mark.parametrize("bad", [2.5, 3.0, True, "3"])
def test_event_capacity(conn: Conn, bad: Any) -> None:
    server = community_helpers.server(conn)

    def create(capacity: Any) -> events.Event:
        end = START + timedelta(hours=2)
        return events.create(
            conn, server_id=server.id, creator_id=None, title="Meetup",
            starts_at=START, ends_at=end, capacity=capacity,
        )  # fmt: skip

    with pytest.raises(InvalidData) as caught:
        create(bad)
    assert caught.value.column == "capacity"
    assert count(conn, "events") == 0
    made = create(3)
    with pytest.raises(InvalidData, match="capacity"):
        events.update(conn, made.id, capacity=bad)
    assert events.get(conn, made.id).capacity == 3


def test_mood_intensity(conn: Conn) -> None:
    person = factories.user(conn)
    with pytest.raises(InvalidData) as caught:
        moods.record(conn, person.id, mood="calm", intensity=3.5)  # type: ignore[arg-type]
    assert caught.value.column == "intensity"
    assert count(conn, "moods") == 0


def test_flag_rollout_percentage(conn: Conn) -> None:
    with pytest.raises(InvalidData) as caught:
        config_store.set_flag(conn, "new-ui", enabled=True, rollout_percentage=50.5)  # type: ignore[arg-type]
    assert caught.value.column == "rollout_percentage"
    assert count(conn, "feature_flags") == 0


def test_user_provider_ids(conn: Conn) -> None:
    with pytest.raises(InvalidData) as caught:
        users.create(conn, email="a@example.com", username="a", github_id=1.5)  # type: ignore[arg-type]
    assert caught.value.column == "github_id"
    person = factories.user(conn)
    with pytest.raises(InvalidData) as caught:
        users.update(conn, person.id, gitlab_id=False)
    assert caught.value.column == "gitlab_id"
    assert users.update(conn, person.id, gitlab_id=7).gitlab_id == 7
    assert count(conn, "users") == 1
