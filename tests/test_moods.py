"""Moods: constraints, history and averages, monthly partitions and pruning."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import psycopg
import pytest

from dal import InvalidData, NotFound, QueryTimeout, ReferenceMissing, queries
from tests.community_helpers import count, user
from tests.flavoured import moods

pytestmark = pytest.mark.flavours

Conn = psycopg.Connection[Any]


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"mood": "ecstatic"}, "moods_mood_valid"),
        ({"intensity": 0}, "moods_intensity_range"),
        ({"intensity": 11}, "moods_intensity_range"),
        ({"notes": ""}, "moods_notes_length"),
        ({"notes": "n" * 2001}, "moods_notes_length"),
    ],
)
def test_mood_checks(conn: Conn, fields: dict[str, Any], constraint: str) -> None:
    person = user(conn)
    base: dict[str, Any] = {"mood": "calm", "intensity": 5}
    with pytest.raises(InvalidData) as caught:
        moods.record(conn, person.id, **(base | fields))
    assert caught.value.constraint == constraint
    assert count(conn, "moods") == 0


def test_mood_needs_a_user_and_an_aware_time(conn: Conn) -> None:
    with pytest.raises(ReferenceMissing) as caught:
        moods.record(conn, uuid4(), mood="calm", intensity=3)
    assert caught.value.constraint == "moods_user_id_fkey"
    with pytest.raises(InvalidData) as naive:
        moods.record(
            conn, user(conn).id, mood="calm", intensity=3, recorded_at=datetime(2030, 1, 1)
        )
    assert naive.value.column == "recorded_at"
    assert count(conn, "moods") == 0


def test_record_get_delete(conn: Conn) -> None:
    person, other = user(conn), user(conn)
    entry = moods.record(conn, person.id, mood="joyful", intensity=8, notes="sunny")
    assert moods.get(conn, person.id, entry.id, entry.recorded_at) == entry
    with pytest.raises(NotFound):
        moods.get(conn, other.id, entry.id, entry.recorded_at)
    with pytest.raises(NotFound):
        moods.delete(conn, other.id, entry.id, entry.recorded_at)
    moods.delete(conn, person.id, entry.id, entry.recorded_at)
    assert count(conn, "moods") == 0


def test_history_pages_through_a_period_newest_first(conn: Conn) -> None:
    moods.ensure_partitions(conn, months_ahead=2, start=date(2030, 1, 1))
    person, other = user(conn), user(conn)
    times = [at(2030, 1, 30), at(2030, 2, 1, 0), at(2030, 2, 14), at(2030, 2, 28), at(2030, 3, 2)]
    for i, when in enumerate(times):
        moods.record(conn, person.id, mood="calm", intensity=i + 1, recorded_at=when)
    moods.record(conn, other.id, mood="sad", intensity=2, recorded_at=at(2030, 2, 10))
    since, until = at(2030, 1, 31, 0), at(2030, 3, 1, 0)
    first = moods.history(conn, person.id, since=since, until=until, limit=2)
    assert [m.recorded_at for m in first.items] == [at(2030, 2, 28), at(2030, 2, 14)]
    assert first.next_cursor is not None
    rest = moods.history(conn, person.id, since=since, until=until, cursor=first.next_cursor)
    assert [m.recorded_at for m in rest.items] == [at(2030, 2, 1, 0)]
    assert rest.next_cursor is None
    with pytest.raises(InvalidData):
        moods.history(conn, person.id, since=until, until=since)


def test_daily_averages(conn: Conn) -> None:
    person = user(conn)
    for hour, intensity in ((2, 2), (20, 5), (23, 9)):
        moods.record(
            conn, person.id, mood="tired", intensity=intensity, recorded_at=at(2030, 5, 1, hour)
        )
    moods.record(conn, person.id, mood="calm", intensity=7, recorded_at=at(2030, 5, 3))
    days = moods.daily_averages(conn, person.id, since=at(2030, 5, 1, 0), until=at(2030, 5, 4, 0))
    assert [(d.day, d.entries, float(d.average_intensity)) for d in days] == [
        (date(2030, 5, 1), 3, 5.33),
        (date(2030, 5, 3), 1, 7.0),
    ]
    # In New York (UTC-4 in May) the 02:00 UTC entry is still 30 April, local time.
    local = moods.daily_averages(
        conn,
        person.id,
        since=at(2030, 5, 1, 0),
        until=at(2030, 5, 4, 0),
        time_zone="America/New_York",
    )
    assert [(d.day, d.entries) for d in local] == [
        (date(2030, 4, 30), 1),
        (date(2030, 5, 1), 2),
        (date(2030, 5, 3), 1),
    ]
    with pytest.raises(InvalidData):
        moods.daily_averages(
            conn, person.id, since=at(2030, 5, 1), until=at(2030, 5, 2), time_zone="Mars/Olympus"
        )


def test_migration_made_partitions_around_now(conn: Conn) -> None:
    names = {p.name for p in moods.partitions(conn)}
    today = datetime.now(UTC).date().replace(day=1)
    assert "moods_default" in names
    assert f"moods_y{today:%Y}m{today:%m}" in names
    # Recording now never fails, and lands in the current month's partition.
    person = user(conn)
    entry = moods.record(conn, person.id, mood="neutral", intensity=5)
    row = conn.execute(
        "SELECT tableoid::regclass::text FROM moods WHERE id = %s", [entry.id]
    ).fetchone()
    assert row == (f"moods_y{today:%Y}m{today:%m}",)


def test_ensure_partitions_creates_months_with_named_indexes(conn: Conn) -> None:
    created = moods.ensure_partitions(conn, months_ahead=2, start=date(2031, 11, 15))
    assert created == ["moods_y2031m11", "moods_y2031m12", "moods_y2032m01"]
    assert moods.ensure_partitions(conn, months_ahead=2, start=date(2031, 11, 1)) == []
    conn.execute("SET TimeZone = 'UTC'")  # bounds are shown in the session's time zone
    by_name = {p.name: p for p in moods.partitions(conn)}
    assert by_name["moods_y2031m12"].bounds == (
        "FOR VALUES FROM ('2031-12-01 00:00:00+00') TO ('2032-01-01 00:00:00+00')"
    )
    query = "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = %s::regclass"
    indexes = {row[0] for row in conn.execute(query, ["moods_y2031m12"]).fetchall()}
    assert indexes == {"moods_y2031m12_pkey", "moods_y2031m12_user_id_recorded_at_idx"}
    with pytest.raises(InvalidData):
        moods.ensure_partitions(conn, months_ahead=-1)


def test_default_partition_catches_rows_and_hands_them_over(conn: Conn) -> None:
    person = user(conn)
    far = [at(2040, 6, 1), at(2040, 6, 30, 23), at(2040, 7, 1, 0)]
    made = [moods.record(conn, person.id, mood="calm", intensity=4, recorded_at=t) for t in far]
    where = "SELECT tableoid::regclass::text, count(*) FROM moods GROUP BY 1 ORDER BY 1"
    assert conn.execute(where).fetchall() == [("moods_default", 3)]
    assert moods.ensure_partitions(conn, months_ahead=0, start=date(2040, 6, 1)) == [
        "moods_y2040m06"
    ]
    assert conn.execute(where).fetchall() == [("moods_default", 1), ("moods_y2040m06", 2)]
    # Same rows, same keys: nothing lost or duplicated by the move.
    assert [moods.get(conn, person.id, m.id, m.recorded_at) for m in made] == made


def test_attaching_a_month_leaves_no_check_behind(conn: Conn) -> None:
    person = user(conn)
    moods.record(conn, person.id, mood="calm", intensity=4, recorded_at=at(2041, 3, 2))
    assert moods.ensure_partitions(conn, months_ahead=0, start=date(2041, 3, 1)) == [
        "moods_y2041m03"
    ]
    checks = conn.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'moods_default'::regclass"
        " AND conname LIKE 'moods_default_outside_%'"
    ).fetchall()
    assert checks == []  # the CHECK that spared ATTACH its scan went with the ATTACH


def test_a_blocked_partition_maker_gives_up_instead_of_queueing_every_query(
    conn: Conn, db_url: str
) -> None:
    with psycopg.connect(db_url) as reader:  # a long report: holds moods_default's lock
        reader.execute("SELECT count(*) FROM moods").fetchone()
        with pytest.raises(QueryTimeout):
            moods.ensure_partitions(conn, months_ahead=0, start=date(2042, 5, 1))
        # Nothing queues behind a lock that is no longer wanted: a write goes through
        # while the report is still open.
        person = user(conn)
        moods.record(conn, person.id, mood="calm", intensity=4, recorded_at=at(2042, 5, 2))
    assert "moods_y2042m05" not in {p.name for p in moods.partitions(conn)}
    assert moods.ensure_partitions(conn, months_ahead=0, start=date(2042, 5, 1)) == [
        "moods_y2042m05"
    ]


def _plan_relations(conn: Conn, name: str, params: dict[str, Any]) -> list[str]:
    """Relations a named query's plan reads (EXPLAIN without running it)."""
    text = queries.get(name).text
    plan = conn.execute("EXPLAIN (FORMAT JSON) " + text, params).fetchone()
    assert plan is not None
    found: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if "Relation Name" in node:
            found.append(node["Relation Name"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0][0]["Plan"])
    return found


@pytest.mark.parametrize("plan_mode", ["force_custom_plan", "force_generic_plan"])
def test_one_month_query_touches_one_partition(conn: Conn, plan_mode: str) -> None:
    moods.ensure_partitions(conn, months_ahead=2, start=date(2030, 1, 1))
    person = user(conn)
    for month in (1, 2, 3):
        moods.record(conn, person.id, mood="calm", intensity=5, recorded_at=at(2030, month, 10))
    conn.execute("SELECT set_config('plan_cache_mode', %s, false)", [plan_mode])
    params = {
        "user_id": person.id,
        "since": at(2030, 2, 1, 0),
        "until": at(2030, 3, 1, 0),
        "limit": 50,
        "time_zone": "UTC",
    }
    for name in ("moods.list_first_page", "moods.daily_averages"):
        assert _plan_relations(conn, name, params) == ["moods_y2030m02"], (name, plan_mode)
    # Without a period every partition is a candidate: pruning is what narrowed it.
    everything = conn.execute("EXPLAIN (FORMAT JSON) SELECT * FROM moods").fetchone()
    assert everything is not None and "moods_y2030m01" in str(everything[0])


def test_naive_datetimes_are_refused_everywhere(conn: Conn) -> None:
    person = user(conn)
    entry = moods.record(conn, person.id, mood="calm", intensity=4, recorded_at=at(2030, 1, 2))
    naive = entry.recorded_at.replace(tzinfo=None)
    with pytest.raises(InvalidData) as got:
        moods.get(conn, person.id, entry.id, naive)
    assert got.value.column == "recorded_at"
    with pytest.raises(InvalidData) as deleted:
        moods.delete(conn, person.id, entry.id, naive)
    assert deleted.value.column == "recorded_at"
    assert count(conn, "moods") == 1
    with pytest.raises(InvalidData) as until:
        moods.history(conn, person.id, since=at(2030, 1, 1), until=datetime(2030, 2, 1))
    assert until.value.column == "until"
    with pytest.raises(InvalidData) as since:
        moods.daily_averages(conn, person.id, since=datetime(2030, 1, 1), until=at(2030, 2, 1))
    assert since.value.column == "since"


def test_update_own_mood(conn: Conn) -> None:
    person, other = user(conn), user(conn)
    entry = moods.record(conn, person.id, mood="tired", intensity=3, notes="long day")
    key = (entry.id, entry.recorded_at)
    changed = moods.update(conn, person.id, *key, intensity=6, notes=None)
    assert (changed.mood, changed.intensity, changed.notes) == ("tired", 6, None)
    assert (changed.recorded_at, changed.created_at) == (entry.recorded_at, entry.created_at)
    calmer = moods.update(conn, person.id, *key, mood="calm")
    assert (calmer.mood, calmer.intensity) == ("calm", 6)
    refused: list[tuple[dict[str, Any], str]] = [
        ({"mood": "ecstatic"}, "moods_mood_valid"),
        ({"intensity": 11, "notes": "ok"}, "moods_intensity_range"),
        ({"notes": ""}, "moods_notes_length"),
    ]
    for fields, constraint in refused:
        with pytest.raises(InvalidData) as caught:
            moods.update(conn, person.id, *key, **fields)
        assert caught.value.constraint == constraint
    with pytest.raises(NotFound):
        moods.update(conn, other.id, *key, intensity=1)  # someone else's mood
    with pytest.raises(InvalidData) as naive:
        moods.update(conn, person.id, entry.id, entry.recorded_at.replace(tzinfo=None), intensity=1)
    assert naive.value.column == "recorded_at"
    assert moods.get(conn, person.id, *key) == calmer  # nothing written by the refusals
