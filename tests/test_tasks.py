"""Tasks against a real database: constraints, cascades, updates, concurrency, queries."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from dal import (
    ConcurrentUpdate,
    Conflict,
    InvalidData,
    NotFound,
    ReferenceMissing,
    Settings,
    open_pool,
    retry,
)
from dal.db import Conn as DbConn
from dal.db import Pool
from dal.errors import translating
from tests.factories import Conn, count, project, user
from tests.flavoured import categories, projects, tasks, users

pytestmark = pytest.mark.flavours

NOW = datetime(2030, 1, 15, 12, tzinfo=UTC)


def test_create_fills_defaults(conn: Conn) -> None:
    owner = user(conn)
    task = tasks.create(conn, owner_id=owner.id, title="Write docs")
    assert (task.status, task.priority, task.version, task.data) == ("pending", "medium", 1, {})
    assert task.project_id is None and task.key is None
    assert tasks.get(conn, task.id) == task


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"title": ""}, "tasks_title_length"),
        ({"title": "x" * 201}, "tasks_title_length"),
        ({"title": "  \n "}, "tasks_title_not_blank"),
        ({"status": "in-progress"}, "tasks_status_valid"),
        ({"priority": "urgent"}, "tasks_priority_valid"),
        ({"key": "12"}, "tasks_key_needs_project"),
    ],
)
def test_checks(conn: Conn, fields: dict[str, Any], constraint: str) -> None:
    owner = user(conn)
    base: dict[str, Any] = {"owner_id": owner.id, "title": "ok"}
    with pytest.raises(InvalidData) as caught:
        tasks.create(conn, **(base | fields))
    assert caught.value.constraint == constraint
    assert caught.value.table == "tasks"
    assert count(conn, "tasks") == 0


@pytest.mark.parametrize("key", ["", "1 2", " 1", "1\t", "k" * 101])
def test_key_format(conn: Conn, key: str) -> None:
    owner = user(conn)
    made = project(conn, owner)
    with pytest.raises(InvalidData) as caught:
        tasks.create(conn, owner_id=owner.id, project_id=made.id, key=key, title="t")
    assert caught.value.constraint == "tasks_key_format"
    assert count(conn, "tasks") == 0


def test_title_of_200_characters_and_all_statuses_are_fine(conn: Conn) -> None:
    owner = user(conn)
    for status in tasks.STATUSES:
        assert (
            tasks.create(conn, owner_id=owner.id, title="é" * 200, status=status).status == status
        )


@pytest.mark.parametrize(
    ("statement", "constraint"),
    [
        ("UPDATE tasks SET data = '[1]'", "tasks_data_is_object"),
        ("UPDATE tasks SET due_at = 'infinity'", "tasks_due_at_finite"),
        ("UPDATE tasks SET parent_id = id", "tasks_not_own_parent"),
        (  # the trigger owns version on UPDATE; only an INSERT can try a bad one
            "INSERT INTO tasks (owner_id, title, version) SELECT owner_id, 'x', -5 FROM tasks",
            "tasks_version_positive",
        ),
    ],
)
def test_checks_beyond_the_dal(conn: Conn, statement: str, constraint: str) -> None:
    owner = user(conn)
    task = tasks.create(conn, owner_id=owner.id, title="t")
    with pytest.raises(psycopg.errors.CheckViolation) as caught:
        conn.execute(statement.encode())
    assert caught.value.diag.constraint_name == constraint
    assert tasks.get(conn, task.id) == task
    assert count(conn, "tasks") == 1


def test_key_unique_per_project(conn: Conn) -> None:
    owner = user(conn)
    one, two = project(conn, owner), project(conn, owner)
    tasks.create(conn, owner_id=owner.id, project_id=one.id, key="12.3", title="a")
    with pytest.raises(Conflict) as caught:
        tasks.create(conn, owner_id=owner.id, project_id=one.id, key="12.3", title="b")
    assert caught.value.constraint == "tasks_project_id_key_key"
    tasks.create(conn, owner_id=owner.id, project_id=two.id, key="12.3", title="c")
    assert count(conn, "tasks") == 2


def test_category_must_belong_to_the_task_owner(conn: Conn) -> None:
    ann, bob = user(conn), user(conn)
    bobs = categories.create(conn, owner_id=bob.id, name="Bob's")
    with pytest.raises(ReferenceMissing) as caught:
        tasks.create(conn, owner_id=ann.id, title="t", category_id=bobs.id)
    assert caught.value.constraint == "tasks_category_owner_fkey"
    assert count(conn, "tasks") == 0
    task = tasks.create(conn, owner_id=ann.id, title="t")
    with pytest.raises(ReferenceMissing) as again:
        tasks.update(conn, task.id, category_id=bobs.id)
    assert again.value.constraint == "tasks_category_owner_fkey"
    assert tasks.get(conn, task.id).category_id is None


@pytest.mark.parametrize(
    ("missing", "constraint"),
    [
        ("owner_id", "tasks_owner_id_fkey"),
        ("project_id", "tasks_project_id_fkey"),
        ("parent_id", "tasks_parent_id_fkey"),
    ],
)
def test_missing_references(conn: Conn, missing: str, constraint: str) -> None:
    owner = user(conn)
    fields: dict[str, Any] = {"owner_id": owner.id, "title": "t", missing: uuid.uuid4()}
    with pytest.raises(ReferenceMissing) as caught:
        tasks.create(conn, **fields)
    assert caught.value.constraint == constraint
    assert count(conn, "tasks") == 0


def test_subtask_parent_in_the_same_project(conn: Conn) -> None:
    owner = user(conn)
    one, two = project(conn, owner), project(conn, owner)
    parent = tasks.create(conn, owner_id=owner.id, project_id=one.id, key="1", title="p")
    with pytest.raises(ReferenceMissing) as caught:
        tasks.create(conn, owner_id=owner.id, project_id=two.id, parent_id=parent.id, title="c")
    assert caught.value.constraint == "tasks_parent_same_project_fkey"
    assert count(conn, "tasks") == 1


@pytest.mark.parametrize("parent_kind", ["in a project", "another user's private task"])
def test_a_subtask_without_a_project_stays_with_its_parents_owner(
    conn: Conn, parent_kind: str
) -> None:
    ann, bob = user(conn), user(conn)
    if parent_kind == "in a project":
        parent = tasks.create(conn, owner_id=ann.id, project_id=project(conn, ann).id, title="p")
    else:
        parent = tasks.create(conn, owner_id=bob.id, title="p")
    with pytest.raises(InvalidData) as caught:
        tasks.create(conn, owner_id=ann.id, parent_id=parent.id, title="c")
    assert caught.value.constraint == "tasks_parent_same_scope"
    assert count(conn, "tasks") == 1
    # Where the parent lives (its project, or its owner's own tasks), the subtask is fine.
    owner = ann.id if parent.project_id is not None else bob.id
    fine = tasks.create(
        conn, owner_id=owner, project_id=parent.project_id, parent_id=parent.id, title="ok"
    )
    assert fine.parent_id == parent.id


def test_private_subtasks_are_fine_and_their_parent_cannot_strand_them(conn: Conn) -> None:
    ann, bob = user(conn), user(conn)
    parent = tasks.create(conn, owner_id=ann.id, title="p")
    child = tasks.create(conn, owner_id=ann.id, parent_id=parent.id, title="c")
    assert child.parent_id == parent.id
    for move in (
        "UPDATE tasks SET owner_id = %(other)s WHERE id = %(parent)s",
        "UPDATE tasks SET project_id = %(project)s, key = 'x' WHERE id = %(parent)s",
    ):
        params = {"other": bob.id, "parent": parent.id, "project": project(conn, ann).id}
        with pytest.raises(InvalidData) as caught, translating():
            conn.execute(move, params)
        assert caught.value.constraint == "tasks_parent_same_scope"
    assert tasks.get(conn, parent.id) == parent
    # Parent and subtask handed over together, in one statement: judged once both moved.
    conn.execute("UPDATE tasks SET owner_id = %s WHERE owner_id = %s", [bob.id, ann.id])
    assert {t.owner_id for t in (tasks.get(conn, parent.id), tasks.get(conn, child.id))} == {bob.id}


def test_cascades(conn: Conn) -> None:
    ann, bob = user(conn), user(conn)
    cat = categories.create(conn, owner_id=ann.id, name="c")
    filed = tasks.create(conn, owner_id=ann.id, title="filed", category_id=cat.id)
    categories.delete(conn, cat.id)
    assert tasks.get(conn, filed.id).category_id is None  # SET NULL keeps the task and owner
    assert tasks.get(conn, filed.id).owner_id == ann.id

    made = project(conn, bob)
    parent = tasks.create(conn, owner_id=bob.id, project_id=made.id, key="1", title="p")
    tasks.create(
        conn, owner_id=bob.id, project_id=made.id, key="1.1", parent_id=parent.id, title="c"
    )
    tasks.create(conn, owner_id=ann.id, project_id=made.id, key="2", title="ann's")
    tasks.delete(conn, parent.id)  # subtasks go with their parent
    assert count(conn, "tasks") == 2

    users.hard_delete(conn, ann.id)  # a user's tasks and categories go with them
    assert count(conn, "tasks") == 0 and count(conn, "categories") == 0

    tasks.create(conn, owner_id=bob.id, project_id=made.id, key="3", title="in project")
    projects.delete(conn, made.id)
    assert count(conn, "tasks") == 0


def test_partial_update_moves_version_and_updated_at(conn: Conn) -> None:
    owner = user(conn)
    task = tasks.create(conn, owner_id=owner.id, title="t", description="keep", data={"a": 1})
    time.sleep(0.01)
    changed = tasks.update(conn, task.id, status="in_progress", due_at=NOW)
    assert (changed.description, changed.data, changed.title) == ("keep", {"a": 1}, "t")
    assert (changed.status, changed.due_at) == ("in_progress", NOW)
    assert changed.version == 2 and changed.updated_at > task.updated_at
    cleared = tasks.update(conn, task.id, due_at=None, description=None)
    assert (
        cleared.due_at is None and cleared.description is None and cleared.status == "in_progress"
    )
    with pytest.raises(InvalidData) as caught:
        tasks.update(conn, task.id, title=" ")
    assert caught.value.constraint == "tasks_title_not_blank"
    assert tasks.get(conn, task.id) == cleared
    with pytest.raises(NotFound):
        tasks.update(conn, uuid.uuid4(), title="x")
    with pytest.raises(NotFound):
        tasks.delete(conn, uuid.uuid4())


def test_stale_version_is_rejected_and_writes_nothing(conn: Conn) -> None:
    owner = user(conn)
    task = tasks.create(conn, owner_id=owner.id, title="t")
    tasks.update(conn, task.id, title="first", expected_version=task.version)
    with pytest.raises(ConcurrentUpdate) as caught:
        tasks.update(conn, task.id, title="second", expected_version=task.version)
    assert caught.value.column == "version"
    assert tasks.get(conn, task.id).title == "first"


def test_concurrent_read_modify_write_loses_nothing(db_url: str) -> None:
    """Eight threads each add 5 keys to one task's data by read-modify-write."""
    pool = open_pool(db_url, Settings(pool_size=8, max_overflow=0))
    try:
        owner = user_in(pool)
        task = tasks.create(pool, owner_id=owner.id, title="shared")
        threads_n, writes = 8, 5
        barrier = threading.Barrier(threads_n)
        errors: list[BaseException] = []

        def add_key(name: str) -> None:
            def work(conn: DbConn) -> None:
                current = tasks.get(conn, task.id)
                data = current.data | {name: True}
                tasks.update(conn, task.id, data=data, expected_version=current.version)

            retry(pool, work, attempts=200, base_delay=0.001)

        def worker(n: int) -> None:
            try:
                barrier.wait()
                for i in range(writes):
                    add_key(f"t{n}-{i}")
            except BaseException as exc:  # reported below, in the main thread
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(threads_n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        final = tasks.get(pool, task.id)
        assert set(final.data) == {f"t{n}-{i}" for n in range(threads_n) for i in range(writes)}
        assert final.version == 1 + threads_n * writes
    finally:
        pool.close()


def test_concurrent_partial_updates_of_different_fields_all_land(pool: Any) -> None:
    owner = user_in(pool)
    task = tasks.create(pool, owner_id=owner.id, title="t")
    fields: list[dict[str, Any]] = [
        {"title": "new title"},
        {"description": "new description"},
        {"priority": "critical"},
        {"status": "blocked"},
    ]
    threads = [
        threading.Thread(target=tasks.update, args=(pool, task.id), kwargs=f) for f in fields
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = tasks.get(pool, task.id)
    assert (final.title, final.description, final.priority, final.status) == (
        "new title",
        "new description",
        "critical",
        "blocked",
    )
    assert final.version == 1 + len(fields)


def user_in(pool: Any) -> users.User:
    name = f"u{uuid.uuid4().hex[:12]}"
    return users.create(pool, email=f"{name}@example.com", username=name)


def test_bulk_set_status_touches_only_the_owners_tasks(conn: Conn) -> None:
    ann, bob = user(conn), user(conn)
    mine = [tasks.create(conn, owner_id=ann.id, title=f"t{i}") for i in range(3)]
    theirs = tasks.create(conn, owner_id=bob.id, title="bob's")
    ids = [t.id for t in mine[:2]] + [theirs.id]
    assert tasks.bulk_set_status(conn, ann.id, ids, "done") == 2
    assert [tasks.get(conn, t.id).status for t in mine] == ["done", "done", "pending"]
    assert tasks.get(conn, theirs.id).status == "pending"
    with pytest.raises(InvalidData) as caught:
        tasks.bulk_set_status(conn, ann.id, [t.id for t in mine], "finished")
    assert caught.value.constraint == "tasks_status_valid"
    assert [tasks.get(conn, t.id).status for t in mine] == ["done", "done", "pending"]


@pytest.mark.parametrize("whose", ["none", "already_done", "another_owners"])
def test_bulk_set_status_refuses_an_invalid_status_even_when_nothing_would_change(
    conn: Conn, whose: str
) -> None:
    ann, bob = user(conn), user(conn)
    done = tasks.create(conn, owner_id=ann.id, title="done", status="done")
    theirs = tasks.create(conn, owner_id=bob.id, title="bob's")
    ids = {"none": [], "already_done": [done.id], "another_owners": [theirs.id]}[whose]
    with pytest.raises(InvalidData) as caught:
        tasks.bulk_set_status(conn, ann.id, ids, "finished")
    assert (caught.value.column, caught.value.constraint) == ("status", "tasks_status_valid")


def test_overdue_and_counts_by_status(conn: Conn) -> None:
    ann, bob = user(conn), user(conn)
    late = tasks.create(conn, owner_id=ann.id, title="late", due_at=NOW - timedelta(days=2))
    later = tasks.create(conn, owner_id=ann.id, title="later", due_at=NOW - timedelta(hours=1),
                         status="blocked")  # fmt: skip
    tasks.create(conn, owner_id=ann.id, title="done", due_at=NOW - timedelta(days=3), status="done")
    tasks.create(conn, owner_id=ann.id, title="future", due_at=NOW + timedelta(days=1))
    tasks.create(conn, owner_id=ann.id, title="no date")
    tasks.create(conn, owner_id=bob.id, title="bob's", due_at=NOW - timedelta(days=9))
    assert [t.id for t in tasks.overdue(conn, ann.id, as_of=NOW)] == [late.id, later.id]
    assert tasks.overdue(conn, ann.id, as_of=NOW, limit=1) == [tasks.get(conn, late.id)]
    counts = tasks.counts_by_status(conn, ann.id)
    assert counts["pending"] == 3 and counts["blocked"] == 1 and counts["done"] == 1
    assert sum(counts.values()) == 5 and set(counts) == set(tasks.STATUSES)


def test_project_tree_nests_subtasks_with_dependencies(conn: Conn) -> None:
    from dal import dependencies

    owner = user(conn)
    made = project(conn, owner)

    def make(key: str, parent: tasks.Task | None = None) -> tasks.Task:
        return tasks.create(conn, owner_id=owner.id, project_id=made.id, key=key, title=key,
                            parent_id=None if parent is None else parent.id)  # fmt: skip

    ten, two = make("10"), make("2")
    sub_b, sub_a = make("2.2", two), make("2.1", two)
    deep = make("2.1.1", sub_a)
    dependencies.add(conn, ten.id, two.id)
    dependencies.add(conn, sub_b.id, sub_a.id)
    tasks.create(conn, owner_id=owner.id, title="elsewhere")
    tree = tasks.project_tree(conn, made.id)
    assert [n.task.key for n in tree] == ["2", "10"]
    assert [n.task.key for n in tree[0].subtasks] == ["2.1", "2.2"]
    assert [n.task.key for n in tree[0].subtasks[0].subtasks] == ["2.1.1"]
    assert tree[0].subtasks[0].subtasks[0].task == deep
    assert tree[1].depends_on == [two.id]
    assert tree[0].subtasks[1].depends_on == [sub_a.id]
    with pytest.raises(NotFound):
        tasks.project_tree(conn, uuid.uuid4())


NAIVE = datetime(2030, 1, 15, 12)  # no tzinfo: the session's TimeZone would decide


def test_naive_datetimes_are_refused(conn: Conn) -> None:
    owner = user(conn)
    with pytest.raises(InvalidData) as created:
        tasks.create(conn, owner_id=owner.id, title="t", due_at=NAIVE)
    assert created.value.column == "due_at"
    assert count(conn, "tasks") == 0
    task = tasks.create(conn, owner_id=owner.id, title="t", due_at=NOW)
    with pytest.raises(InvalidData) as updated:
        tasks.update(conn, task.id, due_at=NAIVE, title="changed")
    assert updated.value.column == "due_at"
    assert tasks.get(conn, task.id) == task
    with pytest.raises(InvalidData) as overdue:
        tasks.overdue(conn, owner.id, as_of=NAIVE)
    assert overdue.value.column == "as_of"


@pytest.mark.parametrize("given", ["pool", "connection"])
def test_project_tree_reads_one_snapshot(
    conn: Conn, pool: Pool, db_url: str, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    """A task and an edge to it are committed once the tree's transaction has its
    snapshot: the tree shows neither (at READ COMMITTED the edge pointed at a task
    missing from the tree). Sync only: the interleaving hooks the sync seam."""
    from dal import dependencies, queries, tasks

    owner = user(conn)
    made = project(conn, owner)
    first = tasks.create(conn, owner_id=owner.id, project_id=made.id, key="1", title="one")
    real_pipelined = queries.pipelined
    seen: list[Any] = []

    def interleaved(db: Any, calls: Any) -> Any:
        # The transaction's first statement takes its snapshot; then another client commits.
        seen.append(
            db.execute(
                "SELECT current_setting('transaction_isolation'), "
                "current_setting('transaction_read_only')"
            ).fetchone()
        )
        late = tasks.create(conn, owner_id=owner.id, project_id=made.id, key="2", title="two")
        dependencies.add(conn, first.id, late.id)
        return real_pipelined(db, calls)

    monkeypatch.setattr(queries, "pipelined", interleaved)
    with psycopg.connect(db_url, autocommit=True) as own:
        tree = tasks.project_tree(pool if given == "pool" else own, made.id)
    monkeypatch.undo()
    assert seen == [("repeatable read", "on")]
    assert [(node.task.key, node.depends_on) for node in tree] == [("1", [])]
    assert len(tasks.project_tree(conn, made.id)) == 2


def test_project_tree_in_the_callers_transaction_sees_its_writes(conn: Conn) -> None:
    owner = user(conn)
    made = project(conn, owner)
    with conn.transaction():
        tasks.create(conn, owner_id=owner.id, project_id=made.id, key="1", title="one")
        assert [node.task.key for node in tasks.project_tree(conn, made.id)] == ["1"]
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS


def test_data_may_be_any_mapping(conn: Conn) -> None:
    from types import MappingProxyType

    owner = user(conn)
    task = tasks.create(conn, owner_id=owner.id, title="t", data=MappingProxyType({"a": 1}))
    assert tasks.update(conn, task.id, data=MappingProxyType({"b": 2})).data == {"b": 2}
    assert task.data == {"a": 1}


def test_an_update_that_sets_nothing_writes_nothing(conn: Conn) -> None:
    owner = user(conn)
    task = tasks.create(conn, owner_id=owner.id, title="t")
    assert tasks.update(conn, task.id) == task  # same version, same updated_at
    assert tasks.update(conn, task.id, expected_version=task.version) == task
    with pytest.raises(ConcurrentUpdate):
        tasks.update(conn, task.id, expected_version=task.version + 1)
    assert users.update(conn, owner.id) == owner
    proj = project(conn, owner)
    assert projects.update(conn, proj.id) == proj
    cat = categories.create(conn, owner_id=owner.id, name="c")
    assert categories.update(conn, cat.id) == cat
    with pytest.raises(NotFound):
        tasks.update(conn, uuid.uuid4())


@pytest.mark.parametrize(
    ("data", "constraint"),
    [
        (["not", "an", "object"], None),  # no mapping: refused at the call
        ({"when": {1, 2}}, None),  # a set is not JSON
        ({"score": float("nan")}, None),  # neither is NaN
    ],
)
def test_data_that_is_not_a_json_object_is_invalid_data(
    conn: Conn, data: Any, constraint: str | None
) -> None:
    owner = user(conn)
    with pytest.raises(InvalidData) as caught:
        tasks.create(conn, owner_id=owner.id, title="t", data=data)
    assert (caught.value.column, caught.value.constraint) == ("data", constraint)
    task = tasks.create(conn, owner_id=owner.id, title="t")
    with pytest.raises(InvalidData) as caught:
        tasks.update(conn, task.id, data=data)
    assert (caught.value.column, caught.value.constraint) == ("data", constraint)
    with pytest.raises(InvalidData) as caught:
        users.update(conn, owner.id, preferences=data)
    assert caught.value.column == "preferences"
    assert tasks.get(conn, task.id) == task
    assert users.get(conn, owner.id) == owner
