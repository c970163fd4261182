"""Identity and task-tracking constraints, each broken once, typed and writing nothing.

Each case breaks one constraint of users, project_members, tasks,
task_dependencies or sync_history through the DAL function that writes the
table, or, where no DAL call can produce the bad value, through the named query
the DAL uses (`queries.execute`) or a raw statement under `errors.translating()`.
It checks the typed error, the constraint it names, and that the tables it
touches are exactly as before (every row compared, so neither an insert nor a
partial update slips through).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from psycopg.types.json import Jsonb

from dal import Conflict, DalError, InvalidData, ReferenceMissing, queries
from tests.community_helpers import snapshot
from tests.constraint_cases import Build, Case, check, parametrize, raw
from tests.factories import project, user
from tests.flavoured import dependencies, projects, sync_history, tasks, users

pytestmark = pytest.mark.flavours

Conn = psycopg.Connection[Any]

SHA1 = "a" * 40


def _task(conn: Conn) -> tasks.Task:
    return tasks.create(conn, owner_id=user(conn).id, title="Write the report")


def _project_task(conn: Conn, made: projects.Project, key: str) -> tasks.Task:
    return tasks.create(
        conn, owner_id=made.owner_id, project_id=made.id, key=key, title=f"Task {key}"
    )


def _run(conn: Conn) -> sync_history.SyncRun:
    return sync_history.start(conn, project(conn, user(conn)).id, SHA1)


# --- users -------------------------------------------------------------------------


def _new_user_github_id_zero(conn: Conn) -> Callable[[], object]:
    user(conn)  # a bystander row that must stay as it is
    return lambda: users.create(conn, email="ghuser@example.com", username="ghuser", github_id=0)


def _user_github_id_negative(conn: Conn) -> Callable[[], object]:
    person = user(conn)
    return lambda: users.update(conn, person.id, github_id=-7)


def _new_user_same_gitlab_id(conn: Conn) -> Callable[[], object]:
    users.create(conn, email="gl1@example.com", username="gl1", gitlab_id=7)
    return lambda: users.create(conn, email="gl2@example.com", username="gl2", gitlab_id=7)


def _user_takes_a_gitlab_id(conn: Conn) -> Callable[[], object]:
    users.create(conn, email="gl3@example.com", username="gl3", gitlab_id=8)
    person = user(conn)
    return lambda: users.update(conn, person.id, gitlab_id=8, display_name="Taken")


def _preferences_set_to_array(conn: Conn) -> Callable[[], object]:
    # The DAL refuses a non-mapping itself; only another writer hands the column an array.
    person = user(conn)
    return raw(conn, "UPDATE users SET preferences = '[]'::jsonb WHERE id = %s", [person.id])


def _new_user_with_array_preferences(conn: Conn) -> Callable[[], object]:
    params = {
        "email": "arr@example.com",
        "username": "arr",
        "password_hash": None,
        "display_name": None,
        "preferences": Jsonb([1, 2]),
        "github_id": None,
        "gitlab_id": None,
    }
    return lambda: queries.execute(conn, "users.insert", params)


def _bare_digest_password(conn: Conn) -> Callable[[], object]:
    # set_password always stores argon2id; the query it uses is the only way in.
    person = users.create(
        conn, email="pwuser@example.com", username="pwuser", password="s3cret-pass"
    )
    params = {"id": person.id, "password_hash": "5e884898da28047151d0e56f8dc6292773603d0d"}
    return lambda: queries.execute(conn, "users.set_password_hash", params)


# --- projects and members ------------------------------------------------------------


def _member_added_as_king(conn: Conn) -> Callable[[], object]:
    # add_member refuses an unknown role in Python (see the test below); the query does not.
    made, newcomer = project(conn, user(conn)), user(conn)
    params = {"project_id": made.id, "user_id": newcomer.id, "role": "king", "access_level": "read"}
    return lambda: queries.execute(conn, "projects.add_member", params)


def _member_crowned_king(conn: Conn) -> Callable[[], object]:
    made, member = project(conn, user(conn)), user(conn)
    projects.add_member(conn, made.id, member.id, role="viewer")
    return raw(
        conn,
        "UPDATE project_members SET role = 'king' WHERE project_id = %s AND user_id = %s",
        [made.id, member.id],
    )


def _owner_demoted_to_read(conn: Conn) -> Callable[[], object]:
    # The DAL never touches the owner's membership: set_member_role skips role 'owner'.
    made = project(conn, user(conn))
    return raw(
        conn,
        "UPDATE project_members SET access_level = 'read' WHERE project_id = %s AND role = 'owner'",
        [made.id],
    )


def _second_owner_by_promotion(conn: Conn) -> Callable[[], object]:
    made, member = project(conn, user(conn)), user(conn)
    projects.add_member(conn, made.id, member.id, role="admin")
    params = {"project_id": made.id, "user_id": member.id, "role": "owner", "access_level": "admin"}
    return lambda: queries.execute(conn, "projects.set_member_role", params)


def _second_owner_by_joining(conn: Conn) -> Callable[[], object]:
    made, newcomer = project(conn, user(conn)), user(conn)
    params = {
        "project_id": made.id,
        "user_id": newcomer.id,
        "role": "owner",
        "access_level": "admin",
    }
    return lambda: queries.execute(conn, "projects.add_member", params)


def _member_of_no_project(conn: Conn) -> Callable[[], object]:
    project(conn, user(conn))
    person = user(conn)
    return lambda: projects.add_member(conn, uuid4(), person.id, role="member")


# --- tasks and dependencies ----------------------------------------------------------


def _data_set_to_array(conn: Conn) -> Callable[[], object]:
    # The DAL refuses a non-mapping itself; only another writer hands the column an array.
    task = _task(conn)
    return raw(conn, "UPDATE tasks SET data = '[1]'::jsonb WHERE id = %s", [task.id])


def _due_at_infinity(conn: Conn) -> Callable[[], object]:
    # A Python datetime cannot be infinite: only SQL can write 'infinity'.
    task = _task(conn)
    return raw(conn, "UPDATE tasks SET due_at = 'infinity' WHERE id = %s", [task.id])


def _task_its_own_parent(conn: Conn) -> Callable[[], object]:
    # The parent is fixed at creation, before the task has an id.
    task = _task(conn)
    return raw(conn, "UPDATE tasks SET parent_id = id WHERE id = %s", [task.id])


def _task_inserted_at_version_zero(conn: Conn) -> Callable[[], object]:
    # The trigger owns version on UPDATE; only an INSERT can try a bad one.
    task = _task(conn)
    return raw(
        conn,
        "INSERT INTO tasks (owner_id, title, version) VALUES (%s, 'Copy', 0)",
        [task.owner_id],
    )


def _edge_moved_to_another_project(conn: Conn) -> Callable[[], object]:
    # The trigger copies project_id from task_id on INSERT (and on UPDATE OF task_id), so
    # dependencies.add cannot get this wrong. An UPDATE that re-points depends_on_id and
    # project_id at another project's task, leaving task_id, breaks only this key.
    owner = user(conn)
    here, there = project(conn, owner, "Here"), project(conn, owner, "There")
    a, b = _project_task(conn, here, "1"), _project_task(conn, here, "2")
    elsewhere = _project_task(conn, there, "1")
    dependencies.add(conn, a.id, b.id)
    return raw(
        conn,
        "UPDATE task_dependencies SET depends_on_id = %s, project_id = %s"
        " WHERE task_id = %s AND depends_on_id = %s",
        [elsewhere.id, there.id, a.id, b.id],
    )


# --- sync history --------------------------------------------------------------------


def _sync_of_no_project(conn: Conn) -> Callable[[], object]:
    _run(conn)
    return lambda: sync_history.start(conn, uuid4(), SHA1)


def _run_started_as_lost(conn: Conn) -> Callable[[], object]:
    # start() only sends 'running' or 'pending'.
    made = project(conn, user(conn))
    params = {"project_id": made.id, "commit_sha": SHA1, "status": "lost"}
    return lambda: queries.execute(conn, "sync_history.start", params)


def _run_started_as_succeeded(conn: Conn) -> Callable[[], object]:
    made = project(conn, user(conn))
    params = {"project_id": made.id, "commit_sha": SHA1, "status": "succeeded"}
    return lambda: queries.execute(conn, "sync_history.start", params)


def _run_finished_as_running(conn: Conn) -> Callable[[], object]:
    # finish() only sends 'succeeded' or 'failed'; the query stamps finished_at regardless.
    run = _run(conn)
    params = {"id": run.id, "status": "running", "error": None}
    return lambda: queries.execute(conn, "sync_history.finish", params)


def _run_succeeded_with_error(conn: Conn) -> Callable[[], object]:
    # finish() picks 'failed' whenever there is an error.
    run = _run(conn)
    params = {"id": run.id, "status": "succeeded", "error": "boom"}
    return lambda: queries.execute(conn, "sync_history.finish", params)


def _run_finished_before_start(conn: Conn) -> Callable[[], object]:
    # finish() writes greatest(now(), started_at); only another writer can go back in time.
    run = _run(conn)
    return raw(
        conn,
        "UPDATE sync_history SET status = 'failed', finished_at = started_at - interval '1 second'"
        " WHERE id = %s",
        [run.id],
    )


CASES: list[Case] = [
    # CHECK -> InvalidData
    ("users", InvalidData, "users_github_id_positive", _new_user_github_id_zero),
    ("users", InvalidData, "users_github_id_positive", _user_github_id_negative),
    ("users", InvalidData, "users_preferences_is_object", _preferences_set_to_array),
    ("users", InvalidData, "users_preferences_is_object", _new_user_with_array_preferences),
    ("users", InvalidData, "users_password_hash_format", _bare_digest_password),
    ("project_members", InvalidData, "project_members_role_valid", _member_added_as_king),
    ("project_members", InvalidData, "project_members_role_valid", _member_crowned_king),
    (
        "project_members",
        InvalidData,
        "project_members_owner_has_admin_access",
        _owner_demoted_to_read,
    ),
    ("tasks", InvalidData, "tasks_data_is_object", _data_set_to_array),
    ("tasks", InvalidData, "tasks_due_at_finite", _due_at_infinity),
    ("tasks", InvalidData, "tasks_not_own_parent", _task_its_own_parent),
    ("tasks", InvalidData, "tasks_version_positive", _task_inserted_at_version_zero),
    ("sync_history", InvalidData, "sync_history_status_valid", _run_started_as_lost),
    ("sync_history", InvalidData, "sync_history_finished_iff_done", _run_started_as_succeeded),
    ("sync_history", InvalidData, "sync_history_finished_iff_done", _run_finished_as_running),
    (
        "sync_history",
        InvalidData,
        "sync_history_error_only_on_failure",
        _run_succeeded_with_error,
    ),
    (
        "sync_history",
        InvalidData,
        "sync_history_finished_after_start",
        _run_finished_before_start,
    ),
    # unique -> Conflict
    ("users", Conflict, "users_gitlab_id_key", _new_user_same_gitlab_id),
    ("users", Conflict, "users_gitlab_id_key", _user_takes_a_gitlab_id),
    ("project_members", Conflict, "project_members_one_owner_key", _second_owner_by_promotion),
    ("project_members", Conflict, "project_members_one_owner_key", _second_owner_by_joining),
    # FK to nothing -> ReferenceMissing
    (
        ("project_members", "projects"),
        ReferenceMissing,
        "project_members_project_id_fkey",
        _member_of_no_project,
    ),
    ("sync_history", ReferenceMissing, "sync_history_project_id_fkey", _sync_of_no_project),
    (
        "task_dependencies",
        ReferenceMissing,
        "task_dependencies_task_fkey",
        _edge_moved_to_another_project,
    ),
]


@parametrize(CASES)
def test_constraint_is_typed_and_writes_nothing(
    conn: Conn,
    tables: str | tuple[str, ...],
    error: type[DalError],
    constraint: str,
    build: Build,
) -> None:
    check(conn, tables, error, constraint, build)


@pytest.mark.parametrize("role", ["king", "owner"])
def test_dal_refuses_a_role_before_the_database_sees_it(conn: Conn, role: str) -> None:
    """add_member / change_member_role validate the role themselves ("owner" comes only
    with the project), so project_members_role_valid and project_members_one_owner_key
    above are reached only by the queries or raw writes."""
    made, member, newcomer = project(conn, user(conn)), user(conn), user(conn)
    projects.add_member(conn, made.id, member.id, role="viewer")
    before = snapshot(conn, "project_members")
    attempts: list[Callable[[], object]] = [
        lambda: projects.add_member(conn, made.id, newcomer.id, role=role),
        lambda: projects.add_member(conn, made.id, member.id, role=role),
        lambda: projects.change_member_role(conn, made.id, member.id, role=role),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidData) as caught:
            attempt()
        assert type(caught.value) is InvalidData
        assert (caught.value.column, caught.value.constraint) == ("role", None)
        assert caught.value.__cause__ is None  # refused in Python: no statement ran
    assert snapshot(conn, "project_members") == before
    assert projects.get_member(conn, made.id, member.id).role == "viewer"
