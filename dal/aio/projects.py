"""Projects and their members (queries in `sql/projects.sql`).

The owner is always a member too (role ``owner``, access ``admin``), added in
the same transaction as the project, so `list_for_user` pages through every
project a person can see in one index's order. The owner's membership cannot be removed
or demoted here; delete the project instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final
from uuid import UUID

from dal._unset import UNSET, _Unset, any_given, update_params
from dal.aio import keyset, queries
from dal.aio.db import Db, transaction
from dal.aio.keyset import TimeOrder
from dal.arguments import checked
from dal.errors import InvalidData, NotFound, not_allowed
from dal.many import Many, array_literal, many, unique_ids
from dal.pagination import Page
from dal.rows.projects import Member, Project, ProjectMembership

__all__ = [
    "ACCESS_LEVELS",
    "DEFAULT_ACCESS",
    "ROLES",
    "Member",
    "Project",
    "ProjectMembership",
    "add_member",
    "change_member_role",
    "create",
    "delete",
    "get",
    "get_many",
    "get_member",
    "list_for_user",
    "list_members",
    "remove_member",
    "update",
]

ROLES: Final = ("owner", "admin", "member", "viewer")
ACCESS_LEVELS: Final = ("read", "write", "admin")
DEFAULT_ACCESS: Final = {"owner": "admin", "admin": "admin", "member": "write", "viewer": "read"}

# A user's projects and a project's members, each in join order.
_USER_PROJECTS: Final = TimeOrder(
    ProjectMembership,
    "projects.list_for_user_first_page",
    "projects.list_for_user_after",
    ("after_joined_at", "after_project_id"),
    UUID,
    lambda project: (project.joined_at, project.id),
)
_MEMBERS: Final = TimeOrder(
    Member,
    "projects.list_members_first_page",
    "projects.list_members_after",
    ("after_created_at", "after_user_id"),
    UUID,
    lambda member: (member.created_at, member.user_id),
)


def _found(project: Project | None, project_id: UUID) -> Project:
    if project is None:
        raise NotFound(f"no project with id {project_id}", table="projects")
    return project


@checked
async def create(db: Db, *, owner_id: UUID, name: str, git_url: str | None = None) -> Project:
    """Create a project and make its owner a member (role owner, access admin).

    Raises ReferenceMissing (projects_owner_id_fkey) for an unknown owner and
    InvalidData (projects_name_length, projects_git_url_format ...).
    """
    params = {"owner_id": owner_id, "name": name, "git_url": git_url}
    async with transaction(db) as conn:
        project = await queries.fetch_one(conn, "projects.insert", params, Project)
        assert project is not None  # INSERT ... RETURNING always returns the row
        membership = {
            "project_id": project.id,
            "user_id": owner_id,
            "role": "owner",
            "access_level": "admin",
        }
        await queries.execute(conn, "projects.add_member", membership)
    return project


@checked
async def get(db: Db, project_id: UUID) -> Project:
    """The project with this id; NotFound otherwise."""
    found = await queries.fetch_one(db, "projects.get_by_id", {"id": project_id}, Project)
    return _found(found, project_id)


@checked
async def get_many(db: Db, project_ids: Iterable[UUID]) -> Many[UUID, Project]:
    """The projects with these ids in one statement: `rows` in the order asked (each id
    once), and the ids that matched no row in `missing`. At most 1,000 ids."""
    ids = unique_ids(project_ids, "project_ids")
    if not ids:
        return Many([], [])
    found = await queries.fetch_all(db, "projects.get_many", {"ids": array_literal(ids)}, Project)
    return many(ids, found, lambda row: row.id)


@checked
async def update(
    db: Db,
    project_id: UUID,
    *,
    name: str | _Unset = UNSET,
    git_url: str | _Unset | None = UNSET,
) -> Project:
    """Change only the fields given; updated_at moves. NotFound if no such project."""
    fields = {"name": name, "git_url": git_url}
    if not any_given(fields):
        return await get(db, project_id)
    params: dict[str, Any] = {"id": project_id} | update_params(fields)
    changed = await queries.fetch_one(db, "projects.update", params, Project)
    if changed is None:
        await get(db, project_id)  # NotFound when it is not there to see
        raise not_allowed(f"project {project_id}", table="projects")
    return changed


@checked
async def delete(db: Db, project_id: UUID) -> None:
    """Delete the project with its members, tasks, dependencies and sync history."""
    if await queries.execute(db, "projects.delete", {"id": project_id}) == 0:
        await get(db, project_id)  # NotFound when it is not there to see
        raise not_allowed(f"project {project_id}", table="projects")


@checked
async def list_for_user(
    db: Db, user_id: UUID, *, cursor: str | None = None, limit: int = 100
) -> Page[ProjectMembership]:
    """The projects the user is a member of (owned ones included), with their role and
    access level in each, in the order they joined, one keyset page at a time (pass the
    page's `next_cursor` for the next)."""
    params = {"user_id": user_id}
    return await keyset.page(db, _USER_PROJECTS, params, cursor=cursor, limit=limit)


def _access(role: str, access_level: str | None) -> str:
    if role not in ROLES:
        raise InvalidData(f"unknown project role {role!r}", column="role")
    return DEFAULT_ACCESS[role] if access_level is None else access_level


@checked
async def add_member(
    db: Db,
    project_id: UUID,
    user_id: UUID,
    *,
    role: str = "member",
    access_level: str | None = None,
) -> Member:
    """Add a user to a project; access defaults from the role (member: write, viewer: read).

    Conflict (project_members_pkey) if they are already a member; ReferenceMissing
    for an unknown project or user.
    """
    if role == "owner":
        raise InvalidData("a project has exactly one owner, set when it is created", column="role")
    params = {
        "project_id": project_id,
        "user_id": user_id,
        "role": role,
        "access_level": _access(role, access_level),
    }
    member = await queries.fetch_one(db, "projects.add_member", params, Member)
    assert member is not None
    return member


@checked
async def change_member_role(
    db: Db,
    project_id: UUID,
    user_id: UUID,
    *,
    role: str,
    access_level: str | None = None,
) -> Member:
    """Give a member another role (and access level, by default the role's).

    NotFound if not a member (also when removed while this runs); InvalidData for the owner.
    """
    if role == "owner":
        raise InvalidData("ownership cannot be given through a role change", column="role")
    params = {
        "project_id": project_id,
        "user_id": user_id,
        "role": role,
        "access_level": _access(role, access_level),
    }
    async with transaction(db) as conn:
        member = await queries.fetch_one(conn, "projects.set_member_role", params, Member)
        if member is not None:
            return member
        current = await get_member(conn, project_id, user_id)  # NotFound when not a member
    if current.role == "owner":
        raise InvalidData("the project owner's role cannot be changed", column="role")
    raise not_allowed(f"the membership of {user_id}", table="project_members")


@checked
async def get_member(db: Db, project_id: UUID, user_id: UUID) -> Member:
    """The membership of `user_id` in `project_id`; NotFound if they are not a member."""
    params = {"project_id": project_id, "user_id": user_id}
    member = await queries.fetch_one(db, "projects.get_member", params, Member)
    if member is None:
        raise NotFound(
            f"user {user_id} is not a member of project {project_id}", table="project_members"
        )
    return member


@checked
async def remove_member(db: Db, project_id: UUID, user_id: UUID) -> None:
    """Remove a member. NotFound if not a member; InvalidData for the owner."""
    params = {"project_id": project_id, "user_id": user_id}
    async with transaction(db) as conn:
        if await queries.execute(conn, "projects.remove_member", params) == 0:
            current = await get_member(conn, project_id, user_id)  # NotFound: not a member
            if current.role == "owner":
                raise InvalidData("the project owner cannot be removed", column="role")
            raise not_allowed(f"the membership of {user_id}", table="project_members")


@checked
async def list_members(
    db: Db, project_id: UUID, *, cursor: str | None = None, limit: int = 100
) -> Page[Member]:
    """The project's members in the order they joined, one keyset page at a time (pass
    the page's `next_cursor` for the next)."""
    params = {"project_id": project_id}
    return await keyset.page(db, _MEMBERS, params, cursor=cursor, limit=limit)
