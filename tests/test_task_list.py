"""tasks.list_for_user: filters and sorts against a Python reference; keyset paging."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dal import InvalidData
from dal.pagination import Page, encode_cursor
from dal.tasks import Filters, Task
from tests.factories import Conn, project, user
from tests.flavoured import categories, tasks

pytestmark = pytest.mark.flavours

BASE = datetime(2030, 1, 1, tzinfo=UTC)
DUES = [None, BASE, BASE + timedelta(days=1), BASE + timedelta(days=2, hours=3)]
WORDS = ["alpha", "Beta", "gamma_1", "50%", "delta"]

task_specs = st.lists(
    st.fixed_dictionaries(
        {
            "status": st.sampled_from(tasks.STATUSES),
            "priority": st.sampled_from(tasks.PRIORITIES),
            "due_at": st.sampled_from(DUES),
            "title": st.sampled_from(WORDS).map(lambda w: f"Task {w}"),
            "category": st.integers(0, 2),  # 0: none
            "project": st.integers(0, 1),  # 0: none
        }
    ),
    max_size=18,
)
filter_specs = st.fixed_dictionaries(
    {
        "statuses": st.none() | st.sets(st.sampled_from(tasks.STATUSES), min_size=1, max_size=3),
        "priorities": st.none() | st.sets(st.sampled_from(tasks.PRIORITIES), min_size=1),
        "category": st.sampled_from([None, 1, 2]),
        "project": st.sampled_from([None, 1]),
        "due_before": st.sampled_from([None, *DUES[2:]]),
        "due_after": st.sampled_from([None, *DUES[1:3]]),
        "title": st.sampled_from([None, "BETA", "_", "%", "a"]),
    }
)


def walk(fetch: Callable[[str | None], Page[Task]]) -> list[Task]:
    seen: list[Task] = []
    page = fetch(None)
    while True:
        seen += page.items
        if page.next_cursor is None:
            return seen
        page = fetch(page.next_cursor)


def sort_key(sort: str) -> Callable[[Task], Any]:
    far = datetime.max.replace(tzinfo=UTC)
    return {
        "due": lambda t: (t.due_at or far, t.id),
        "priority": lambda t: (tasks.PRIORITY_RANK[t.priority], t.id),
        "created": lambda t: (t.created_at, t.id),
        "updated": lambda t: (t.updated_at, t.id),
    }[sort]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=task_specs,
    chosen=filter_specs,
    sort=st.sampled_from(["due", "priority", "created", "updated"]),
    descending=st.booleans(),
    limit=st.integers(1, 7),
)
def test_filters_and_sorts_match_a_python_reference(  # noqa: PLR0917 (hypothesis arguments)
    conn: Conn,
    specs: list[dict[str, Any]],
    chosen: dict[str, Any],
    sort: str,
    descending: bool,
    limit: int,
) -> None:
    conn.execute("TRUNCATE users CASCADE")
    owner, other = user(conn), user(conn)
    cats = {n: categories.create(conn, owner_id=owner.id, name=f"c{n}").id for n in (1, 2)}
    projs = {1: project(conn, owner).id}
    for spec in specs:
        tasks.create(
            conn,
            owner_id=owner.id,
            title=spec["title"],
            status=spec["status"],
            priority=spec["priority"],
            due_at=spec["due_at"],
            category_id=cats.get(spec["category"]),
            project_id=projs.get(spec["project"]),
        )
    tasks.create(conn, owner_id=other.id, title="Task alpha")  # never listed

    filters = Filters(
        statuses=chosen["statuses"],
        priorities=chosen["priorities"],
        category_id=cats.get(chosen["category"]),
        project_id=projs.get(chosen["project"]),
        due_before=chosen["due_before"],
        due_after=chosen["due_after"],
        title_contains=chosen["title"],
    )
    rows = conn.execute("SELECT id FROM tasks WHERE owner_id = %s", [owner.id]).fetchall()
    everything = [tasks.get(conn, row[0]) for row in rows]

    def keep(t: Task) -> bool:
        f = filters
        return (
            (not f.statuses or t.status in f.statuses)
            and (not f.priorities or t.priority in f.priorities)
            and (f.category_id is None or t.category_id == f.category_id)
            and (f.project_id is None or t.project_id == f.project_id)
            and (f.due_before is None or (t.due_at is not None and t.due_at < f.due_before))
            and (f.due_after is None or (t.due_at is not None and t.due_at >= f.due_after))
            and (f.title_contains is None or f.title_contains.lower() in t.title.lower())
        )

    expected = sorted(filter(keep, everything), key=sort_key(sort), reverse=descending)
    got = walk(
        lambda cursor: tasks.list_for_user(
            conn,
            owner.id,
            filters=filters,
            sort=sort,
            descending=descending,
            cursor=cursor,
            limit=limit,
        )
    )
    assert [t.id for t in got] == [t.id for t in expected]


@pytest.mark.parametrize("sort", ["due", "priority", "created", "updated"])
def test_pages_stable_while_rows_are_inserted(conn: Conn, sort: str) -> None:
    owner = user(conn)
    for n in range(20):
        due = None if n % 3 == 0 else BASE + timedelta(days=n % 4)
        tasks.create(conn, owner_id=owner.id, title=f"t{n}", due_at=due,
                     priority=tasks.PRIORITIES[n % 4])  # fmt: skip
    everything = walk(lambda c: tasks.list_for_user(conn, owner.id, sort=sort, cursor=c))
    originals = {t.title for t in everything}
    seen: list[str] = []
    extra = iter(range(100, 200))
    page = tasks.list_for_user(conn, owner.id, sort=sort, limit=4)
    while True:
        seen += [t.title for t in page.items]
        for _ in range(2):  # new rows land before and after the cursor
            n = next(extra)
            due = None if n % 2 else BASE + timedelta(days=n % 5 - 1)
            tasks.create(conn, owner_id=owner.id, title=f"t{n}", due_at=due,
                         priority=tasks.PRIORITIES[n % 4])  # fmt: skip
        if page.next_cursor is None:
            break
        page = tasks.list_for_user(conn, owner.id, sort=sort, cursor=page.next_cursor, limit=4)
    assert len(seen) == len(set(seen))
    assert originals <= set(seen)


def test_null_due_dates_page_last_then_first_when_descending(conn: Conn) -> None:
    owner = user(conn)
    made = [tasks.create(conn, owner_id=owner.id, title=f"t{n}", due_at=DUES[n % 2])
            for n in range(6)]  # fmt: skip
    up = walk(lambda c: tasks.list_for_user(conn, owner.id, sort="due", cursor=c, limit=2))
    assert [t.due_at is None for t in up] == [False] * 3 + [True] * 3
    down = walk(lambda c: tasks.list_for_user(conn, owner.id, sort="due", descending=True,
                                              cursor=c, limit=2))  # fmt: skip
    assert [t.id for t in down] == [t.id for t in reversed(up)]
    assert {t.id for t in up} == {t.id for t in made}


def test_bad_arguments(conn: Conn) -> None:
    owner = user(conn)
    for n in range(3):
        tasks.create(conn, owner_id=owner.id, title=f"t{n}")
    page = tasks.list_for_user(conn, owner.id, sort="created", limit=1)
    assert page.next_cursor is not None
    with pytest.raises(InvalidData) as caught:
        tasks.list_for_user(conn, owner.id, sort="due", cursor=page.next_cursor)
    assert caught.value.column == "cursor"
    bad: list[dict[str, Any]] = [{"sort": "title"}, {"cursor": "bad!"}, {"limit": 0}]
    for arguments in bad:
        with pytest.raises(InvalidData):
            tasks.list_for_user(conn, owner.id, **arguments)
    assert tasks.list_for_user(conn, uuid.uuid4()).items == []


@pytest.mark.parametrize("field", ["due_before", "due_after"])
def test_naive_due_filters_are_refused(conn: Conn, field: str) -> None:
    owner = user(conn)
    naive = datetime(2030, 1, 1)
    filters = Filters(due_before=naive) if field == "due_before" else Filters(due_after=naive)
    with pytest.raises(InvalidData) as caught:
        tasks.list_for_user(conn, owner.id, filters=filters)
    assert caught.value.column == field


@pytest.mark.parametrize(
    "forged",
    [
        ["created", True, "2030-01-01T00:00:00+00:00", 5],  # an id that is a number
        ["created", True, 7, str(uuid.uuid4())],  # a time that is a number
        ["priority", False, "high", str(uuid.uuid4())],  # a rank that is text
    ],
)
def test_forged_cursor_values_are_invalid_data(conn: Conn, forged: list[Any]) -> None:
    owner = user(conn)
    with pytest.raises(InvalidData) as caught:
        tasks.list_for_user(conn, owner.id, sort=forged[0], cursor=encode_cursor(forged))
    assert caught.value.column == "cursor"


def test_cursor_with_a_naive_time_is_refused(conn: Conn) -> None:
    owner = user(conn)
    forged = encode_cursor(["created", True, "2030-01-01T00:00:00", str(uuid.uuid4())])
    with pytest.raises(InvalidData) as caught:
        tasks.list_for_user(conn, owner.id, sort="created", cursor=forged)
    assert caught.value.column == "cursor"


@pytest.mark.parametrize(
    ("filters", "column"),
    [
        (Filters(statuses={"pending", "finished"}), "statuses"),
        (Filters(statuses="pending"), "statuses"),  # a string is not a collection of them
        (Filters(priorities={"urgent"}), "priorities"),
        (Filters(priorities=["high", "High"]), "priorities"),
    ],
)
def test_unknown_status_or_priority_filter_is_refused(
    db_url: str, filters: Filters, column: str
) -> None:
    """Refused before any query: even a closed connection gives InvalidData."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        owner = user(conn)
        with pytest.raises(InvalidData) as caught:
            tasks.list_for_user(conn, owner.id, filters=filters)
        assert caught.value.column == column
    with pytest.raises(InvalidData) as closed:
        tasks.list_for_user(conn, owner.id, filters=filters)
    assert closed.value.column == column
