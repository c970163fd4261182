"""Task dependencies: duplicates, self, cross-project, cycles (with the path named)."""

from __future__ import annotations

import uuid

import pytest

from dal import Conflict, InvalidData, NotFound, ReferenceMissing
from dal.dependencies import DependencyCycle
from tests.factories import Conn, count, project, user
from tests.flavoured import dependencies, tasks

pytestmark = pytest.mark.flavours


def chain(conn: Conn, n: int) -> list[tasks.Task]:
    owner = user(conn)
    made = project(conn, owner)
    return [
        tasks.create(conn, owner_id=owner.id, project_id=made.id, key=str(i + 1), title=f"T{i + 1}")
        for i in range(n)
    ]


def test_add_list_remove(conn: Conn) -> None:
    a, b, c = chain(conn, 3)
    edge = dependencies.add(conn, a.id, b.id)
    assert (edge.task_id, edge.depends_on_id, edge.project_id) == (a.id, b.id, a.project_id)
    dependencies.add(conn, a.id, c.id)
    assert [t.id for t in dependencies.depends_on(conn, a.id)] == [b.id, c.id]
    assert [t.id for t in dependencies.dependents(conn, c.id)] == [a.id]
    dependencies.remove(conn, a.id, b.id)
    assert [t.id for t in dependencies.depends_on(conn, a.id)] == [c.id]
    with pytest.raises(NotFound):
        dependencies.remove(conn, a.id, b.id)


def test_duplicates_and_self_rejected_by_the_database(conn: Conn) -> None:
    a, b = chain(conn, 2)
    dependencies.add(conn, a.id, b.id)
    with pytest.raises(Conflict) as caught:
        dependencies.add(conn, a.id, b.id)
    assert caught.value.constraint == "task_dependencies_pkey"
    with pytest.raises(InvalidData) as invalid:
        dependencies.add(conn, a.id, a.id)
    assert invalid.value.constraint == "task_dependencies_not_self"
    assert count(conn, "task_dependencies") == 1


def test_both_tasks_in_the_same_project(conn: Conn) -> None:
    (a,) = chain(conn, 1)
    (other,) = chain(conn, 1)
    with pytest.raises(ReferenceMissing) as caught:
        dependencies.add(conn, a.id, other.id)
    assert caught.value.constraint == "task_dependencies_depends_on_fkey"
    loose = tasks.create(conn, owner_id=a.owner_id, title="no project")
    with pytest.raises(InvalidData) as invalid:
        dependencies.add(conn, loose.id, a.id)
    assert invalid.value.constraint == "task_dependencies_project_required"
    with pytest.raises(NotFound):
        dependencies.add(conn, a.id, uuid.uuid4())
    assert count(conn, "task_dependencies") == 0


def test_cycles_rejected_with_the_path(conn: Conn) -> None:
    a, b, c, d = chain(conn, 4)
    dependencies.add(conn, a.id, b.id)
    dependencies.add(conn, b.id, c.id)
    dependencies.add(conn, c.id, d.id)
    with pytest.raises(DependencyCycle) as caught:
        dependencies.add(conn, d.id, a.id)
    assert caught.value.path == [d.id, a.id, b.id, c.id, d.id]
    message = str(caught.value)
    assert "'T4'" in message and "'T1'" in message and message.index("'T2'") < message.index("'T3'")
    with pytest.raises(InvalidData):  # DependencyCycle is an InvalidData
        dependencies.add(conn, b.id, a.id)
    assert count(conn, "task_dependencies") == 3
    dependencies.add(conn, a.id, d.id)  # a diamond is not a cycle
    assert count(conn, "task_dependencies") == 4


def test_deleting_a_task_removes_its_edges(conn: Conn) -> None:
    a, b, c = chain(conn, 3)
    dependencies.add(conn, a.id, b.id)
    dependencies.add(conn, b.id, c.id)
    tasks.delete(conn, b.id)
    assert count(conn, "task_dependencies") == 0


def test_importer_style_insert_fills_the_project(conn: Conn) -> None:
    a, b = chain(conn, 2)
    conn.execute(
        "INSERT INTO task_dependencies (task_id, depends_on_id) VALUES (%s, %s)", [a.id, b.id]
    )
    row = conn.execute("SELECT project_id FROM task_dependencies").fetchone()
    assert row is not None and row[0] == a.project_id


def test_cycle_check_stays_linear_on_a_dense_graph(conn: Conn) -> None:
    """Each task depends on the two before it: paths grow like Fibonacci, visits do not."""
    owner = user(conn)
    made = project(conn, owner)
    chain = [
        tasks.create(conn, owner_id=owner.id, project_id=made.id, key=str(n), title=f"t{n}")
        for n in range(1, 61)
    ]
    for n in range(2, 60):
        dependencies.add(conn, chain[n].id, chain[n - 1].id)
        dependencies.add(conn, chain[n].id, chain[n - 2].id)
    with pytest.raises(DependencyCycle) as caught:
        dependencies.add(conn, chain[0].id, chain[59].id)  # 2**40 paths would take hours
    assert caught.value.path[0] == chain[0].id
    assert caught.value.path[-1] == chain[0].id
    assert len(caught.value.path) <= 32  # the shortest chain back, not any chain


def test_edges_of_a_task_that_does_not_exist_are_not_found(conn: Conn) -> None:
    missing = uuid.uuid4()
    with pytest.raises(NotFound):
        dependencies.depends_on(conn, missing)
    with pytest.raises(NotFound):
        dependencies.dependents(conn, missing)
