"""Projects and members against a real database."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from dal import Conflict, InvalidData, NotFound, ReferenceMissing, StillReferenced
from dal.db import Pool
from tests.factories import Conn, count, project, race, user
from tests.flavoured import projects, users

pytestmark = pytest.mark.flavours


def test_create_makes_the_owner_a_member(conn: Conn) -> None:
    owner = user(conn)
    made = projects.create(conn, owner_id=owner.id, name="API", git_url="git@github.com:a/b.git")
    assert projects.get(conn, made.id) == made
    [member] = projects.list_members(conn, made.id).items
    assert (member.user_id, member.role, member.access_level) == (owner.id, "owner", "admin")
    [seen] = projects.list_for_user(conn, owner.id).items
    assert (seen.id, seen.name, seen.role, seen.access_level) == (made.id, "API", "owner", "admin")
    assert seen.joined_at == member.created_at


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/org/repo.git",
        "http://gitlab.local/group/sub/repo",
        "ssh://git@host.example:2222/repo.git",
        "git://host.example/repo",
        "git@github.com:org/repo.git",
        "https://github.com/org/repo@v2.git",  # an @ in the path is no user part
    ],
)
def test_git_url_accepts_usual_forms(conn: Conn, url: str) -> None:
    assert projects.create(conn, owner_id=user(conn).id, name="p", git_url=url).git_url == url


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"git_url": "ftp://host/repo"}, "projects_git_url_format"),
        ({"git_url": "not a url"}, "projects_git_url_format"),
        ({"git_url": "https://host"}, "projects_git_url_format"),
        (
            {"git_url": "https://user:ghp_token@github.com/o/r.git"},
            "projects_git_url_no_credentials",
        ),
        ({"git_url": "https://ghp_token@github.com/o/r.git"}, "projects_git_url_no_credentials"),
        ({"git_url": "http://u:p@host.example/r"}, "projects_git_url_no_credentials"),
        ({"git_url": "ssh://git:secret@host.example/r.git"}, "projects_git_url_no_credentials"),
        ({"name": ""}, "projects_name_length"),
        ({"name": "x" * 201}, "projects_name_length"),
        ({"name": "   "}, "projects_name_not_blank"),
    ],
)
def test_project_checks(conn: Conn, fields: dict[str, str], constraint: str) -> None:
    owner = user(conn)
    with pytest.raises(InvalidData) as caught:
        projects.create(conn, **({"owner_id": owner.id, "name": "ok"} | fields))  # type: ignore[arg-type]
    assert caught.value.constraint == constraint
    assert count(conn, "projects") == 0 and count(conn, "project_members") == 0


def test_unknown_owner_writes_nothing(conn: Conn) -> None:
    with pytest.raises(ReferenceMissing) as caught:
        projects.create(conn, owner_id=uuid.uuid4(), name="p")
    assert caught.value.constraint == "projects_owner_id_fkey"
    assert count(conn, "projects") == 0


def test_owner_cannot_be_deleted_while_owning(conn: Conn) -> None:
    owner = user(conn)
    made = project(conn, owner)
    with pytest.raises(StillReferenced) as caught:
        users.hard_delete(conn, owner.id)
    assert caught.value.constraint == "projects_owner_id_fkey"
    assert count(conn, "users") == 1
    projects.delete(conn, made.id)
    users.hard_delete(conn, owner.id)
    assert count(conn, "users") == 0


def test_members_add_change_remove(conn: Conn) -> None:
    owner, bob = user(conn), user(conn)
    made = project(conn, owner)
    added = projects.add_member(conn, made.id, bob.id)
    assert (added.role, added.access_level) == ("member", "write")
    with pytest.raises(Conflict) as caught:
        projects.add_member(conn, made.id, bob.id, role="viewer")
    assert caught.value.constraint == "project_members_pkey"
    changed = projects.change_member_role(conn, made.id, bob.id, role="viewer")
    assert (changed.role, changed.access_level) == ("viewer", "read")
    assert [p.id for p in projects.list_for_user(conn, bob.id).items] == [made.id]
    assert {m.user_id for m in projects.list_members(conn, made.id).items} == {owner.id, bob.id}
    projects.remove_member(conn, made.id, bob.id)
    assert projects.list_for_user(conn, bob.id).items == []
    with pytest.raises(NotFound):
        projects.remove_member(conn, made.id, bob.id)


def test_a_users_projects_page_in_join_order_without_gaps_or_repeats(conn: Conn) -> None:
    me, other = user(conn), user(conn)
    mine = [project(conn, me) for _ in range(3)]
    theirs = [project(conn, other) for _ in range(5)]
    for made in theirs[:4]:
        projects.add_member(conn, made.id, me.id, role="viewer")
    project(conn, other)  # not mine: never listed
    seen = []
    page = projects.list_for_user(conn, me.id, limit=3)
    while True:
        assert len(page.items) <= 3
        seen += page.items
        if page.next_cursor is None:
            break
        if len(seen) == 3:  # joins now, after the cursor: on a later page
            projects.add_member(conn, theirs[4].id, me.id)
        page = projects.list_for_user(conn, me.id, cursor=page.next_cursor, limit=3)
    keys = [(p.joined_at, p.id) for p in seen]
    assert keys == sorted(keys)
    assert [p.id for p in seen] == [p.id for p in mine + theirs]  # the late join comes last
    assert {p.id: p.role for p in seen} == {p.id: "owner" for p in mine} | {
        p.id: "viewer" for p in theirs[:4]
    } | {theirs[4].id: "member"}
    with pytest.raises(InvalidData) as caught:
        projects.list_for_user(conn, me.id, cursor="not-a-cursor")
    assert caught.value.column == "cursor"
    with pytest.raises(InvalidData) as caught:
        projects.list_for_user(conn, me.id, limit=0)
    assert caught.value.column == "limit"


def test_a_projects_members_page_in_join_order(conn: Conn) -> None:
    owner = user(conn)
    made = project(conn, owner)
    joined = [owner.id]
    for _ in range(6):
        joined.append(projects.add_member(conn, made.id, user(conn).id).user_id)
    project(conn, user(conn))  # another project's owner: never listed
    seen = []
    page = projects.list_members(conn, made.id, limit=4)
    while True:
        seen += page.items
        if page.next_cursor is None:
            break
        page = projects.list_members(conn, made.id, cursor=page.next_cursor, limit=4)
    keys = [(m.created_at, m.user_id) for m in seen]
    assert keys == sorted(keys)
    assert sorted(m.user_id for m in seen) == sorted(joined)
    assert len(seen) == len(joined) == count(conn, "project_members") - 1
    first = projects.list_members(conn, made.id, limit=4)
    assert len(first.items) == 4 and first.next_cursor is not None
    with pytest.raises(InvalidData):
        projects.list_members(conn, made.id, cursor=first.next_cursor[:-2])


def test_member_checks_and_owner_protection(conn: Conn) -> None:
    owner, bob = user(conn), user(conn)
    made = project(conn, owner)
    with pytest.raises(InvalidData) as caught:
        projects.add_member(conn, made.id, bob.id, access_level="root")
    assert caught.value.constraint == "project_members_access_level_valid"
    with pytest.raises(ReferenceMissing) as missing:
        projects.add_member(conn, made.id, uuid.uuid4())
    assert missing.value.constraint == "project_members_user_id_fkey"
    assert count(conn, "project_members") == 1
    with pytest.raises(InvalidData):
        projects.remove_member(conn, made.id, owner.id)
    with pytest.raises(InvalidData):
        projects.change_member_role(conn, made.id, owner.id, role="viewer")
    with pytest.raises(InvalidData):
        projects.add_member(conn, made.id, bob.id, role="owner")
    assert projects.get_member(conn, made.id, owner.id).role == "owner"


def test_owner_role_needs_admin_access_in_the_database(conn: Conn) -> None:
    owner = user(conn)
    made = project(conn, owner)
    with pytest.raises(InvalidData) as caught:
        projects.change_member_role(conn, made.id, user(conn).id, role="owner")
    assert caught.value.column == "role"
    import psycopg

    with pytest.raises(psycopg.errors.CheckViolation) as raw:
        conn.execute("UPDATE project_members SET access_level = 'read' WHERE role = 'owner'")
    assert raw.value.diag.constraint_name == "project_members_owner_has_admin_access"


def test_database_allows_one_owner_member_per_project(conn: Conn) -> None:
    owner, other = user(conn), user(conn)
    proj = project(conn, owner)
    projects.add_member(conn, proj.id, other.id, role="admin")
    with pytest.raises(psycopg.errors.UniqueViolation) as caught:
        conn.execute(
            "UPDATE project_members SET role = 'owner' WHERE project_id = %s AND user_id = %s",
            [proj.id, other.id],
        )
    assert caught.value.diag.constraint_name == "project_members_one_owner_key"


def test_update_and_delete(conn: Conn) -> None:
    made = project(conn, user(conn))
    changed = projects.update(conn, made.id, git_url="https://example.com/a/b")
    assert changed.name == made.name and changed.git_url == "https://example.com/a/b"
    assert changed.updated_at >= made.updated_at
    projects.delete(conn, made.id)
    assert count(conn, "project_members") == 0
    for call in (
        lambda: projects.get(conn, made.id),
        lambda: projects.update(conn, made.id, name="x"),
        lambda: projects.delete(conn, made.id),
    ):
        with pytest.raises(NotFound):
            call()


def test_role_change_of_a_member_removed_meanwhile_is_not_found(conn: Conn, pool: Pool) -> None:
    """The member is removed in an open transaction while their role changes: the
    change waits for the removal, then raises NotFound (it used to trip an assert)."""
    owner, bob = user(conn), user(conn)
    made = project(conn, owner)
    projects.add_member(conn, made.id, bob.id)
    outcome = race(
        pool,
        conn,
        lambda remover: projects.remove_member(remover, made.id, bob.id),
        lambda: projects.change_member_role(pool, made.id, bob.id, role="viewer"),
    )
    assert isinstance(outcome, NotFound), outcome
    assert [m.user_id for m in projects.list_members(conn, made.id).items] == [owner.id]
