"""Servers (communities) and their members (queries in `sql/servers.sql`)."""

from __future__ import annotations

from typing import Final
from uuid import UUID

from dal.acting import acting_user
from dal.aio import keyset, queries
from dal.aio.db import Db, transaction
from dal.aio.keyset import TimeOrder
from dal.arguments import checked
from dal.errors import Conflict, InvalidData, NotFound, not_allowed
from dal.pagination import Page
from dal.rows.servers import Member, Membership, Server

__all__ = [
    "ROLES",
    "Member",
    "Membership",
    "Server",
    "add_member",
    "create",
    "delete",
    "for_user",
    "get",
    "get_by_snowflake_id",
    "get_member",
    "members",
    "remove_member",
    "rename",
    "set_role",
    "transfer_ownership",
]

ROLES: Final = ("owner", "admin", "moderator", "member")

# A server's members and a user's servers, each in join order.
_MEMBERS: Final = TimeOrder(
    Member,
    "servers.list_members_first_page",
    "servers.list_members_after",
    ("after_joined_at", "after_user_id"),
    UUID,
    lambda member: (member.joined_at, member.user_id),
)
_USER_SERVERS: Final = TimeOrder(
    Membership,
    "servers.list_for_user_first_page",
    "servers.list_for_user_after",
    ("after_joined_at", "after_server_id"),
    int,
    lambda server: (server.joined_at, server.id),
)


def _found(server: Server | None, server_id: int) -> Server:
    if server is None:
        raise NotFound(f"no server with id {server_id}", table="servers")
    return server


def _member_role(role: str) -> str:
    # "owner" comes only with ownership (create / transfer_ownership), so a
    # server always has exactly one owner member.
    if role not in ROLES or role == "owner":
        raise InvalidData(
            f"role must be one of admin, moderator, member, not {role!r}", column="role"
        )
    return role


@checked
async def create(db: Db, *, snowflake_id: int, name: str, owner_id: UUID) -> Server:
    """Create a server and make its owner a member with role owner, atomically.

    Raises Conflict (servers_snowflake_id_key), InvalidData
    (servers_name_length ...) or ReferenceMissing (servers_owner_id_fkey).
    """
    params = {"snowflake_id": snowflake_id, "name": name, "owner_id": owner_id}
    async with transaction(db) as conn:
        server = await queries.fetch_one(conn, "servers.insert", params, Server)
        assert server is not None  # INSERT ... RETURNING always returns the row
        member = {"server_id": server.id, "user_id": owner_id, "role": "owner"}
        await queries.execute(conn, "servers.add_member", member)
        return server


@checked
async def get(db: Db, server_id: int) -> Server:
    """The server with this id; NotFound otherwise."""
    found = await queries.fetch_one(db, "servers.get_by_id", {"id": server_id}, Server)
    return _found(found, server_id)


@checked
async def get_by_snowflake_id(db: Db, snowflake_id: int) -> Server:
    """The server with this external snowflake id; NotFound otherwise."""
    found = await queries.fetch_one(
        db, "servers.get_by_snowflake_id", {"snowflake_id": snowflake_id}, Server
    )
    if found is None:
        raise NotFound(f"no server with snowflake id {snowflake_id}", table="servers")
    return found


@checked
async def rename(db: Db, server_id: int, name: str) -> Server:
    """Change the server's name (its admins may). NotFound if no such server (or the
    acting user may not see it), PermissionDenied if they may see it but not rename it."""
    params = {"id": server_id, "name": name}
    renamed = await queries.fetch_one(db, "servers.rename", params, Server)
    if renamed is None:
        await get(db, server_id)  # NotFound when it is not there to see
        raise not_allowed(f"server {server_id}", table="servers")
    return renamed


@checked
async def delete(db: Db, server_id: int) -> None:
    """Delete the server with its members, events, RSVPs and surveys (only its owner
    may). NotFound if no such server; PermissionDenied for a member who is not the owner."""
    if await queries.execute(db, "servers.delete", {"id": server_id}) == 0:
        await get(db, server_id)  # NotFound when it is not there to see
        raise not_allowed(f"server {server_id}", table="servers")


def _owner_conflict() -> Conflict:
    return Conflict(
        "the owner's role changes only by transferring ownership",
        table="server_members",
        column="role",
    )


@checked
async def add_member(db: Db, server_id: int, user_id: UUID, role: str = "member") -> Member:
    """Add a member, or change the role of an existing non-owner member.

    Conflict if the user is the owner; ReferenceMissing (server_members_server_id_fkey /
    _user_id_fkey) if either is missing. One statement: it cannot demote someone who
    becomes the owner concurrently.
    """
    params = {"server_id": server_id, "user_id": user_id, "role": _member_role(role)}
    member = await queries.fetch_one(db, "servers.add_member", params, Member)
    if member is None:  # ON CONFLICT ... WHERE role <> 'owner' left the owner's row alone
        raise _owner_conflict()
    return member


@checked
async def set_role(db: Db, server_id: int, user_id: UUID, role: str) -> Member:
    """Change a member's role (admin, moderator or member).

    NotFound if not a member (also when removed while this runs); Conflict for the owner;
    PermissionDenied unless the acting user is an admin of the server.
    """
    params = {"server_id": server_id, "user_id": user_id, "role": _member_role(role)}
    async with transaction(db) as conn:
        member = await queries.fetch_one(conn, "servers.change_member_role", params, Member)
        if member is not None:
            return member
        current = await get_member(conn, server_id, user_id)  # NotFound when not a member
    if current.role == "owner":
        raise _owner_conflict()
    raise not_allowed(f"the membership of {user_id}", table="server_members")


@checked
async def get_member(db: Db, server_id: int, user_id: UUID) -> Member:
    """One membership; NotFound when the user is not a member."""
    params = {"server_id": server_id, "user_id": user_id}
    found = await queries.fetch_one(db, "servers.get_member", params, Member)
    if found is None:
        raise NotFound(
            f"user {user_id} is not a member of server {server_id}", table="server_members"
        )
    return found


@checked
async def remove_member(db: Db, server_id: int, user_id: UUID) -> None:
    """Remove a member; the owner cannot leave (transfer ownership first). Admins remove
    members, a member may leave; anyone else gets PermissionDenied."""
    params = {"server_id": server_id, "user_id": user_id}
    async with transaction(db) as conn:
        if await queries.execute(conn, "servers.remove_member", params) == 1:
            return
        member = await get_member(conn, server_id, user_id)  # NotFound when not a member
    if member.role == "owner":
        raise Conflict(
            f"user {member.user_id} owns server {server_id}: transfer ownership first",
            table="server_members",
        )
    raise not_allowed(f"the membership of {user_id}", table="server_members")


@checked
async def transfer_ownership(db: Db, server_id: int, new_owner_id: UUID) -> Server:
    """Make an existing member the owner; the previous owner becomes an admin.

    NotFound for an unknown server, or when the new owner is not a member. The
    server's row is locked first, so concurrent transfers of one server queue:
    the later one waits for the earlier to commit, then transfers from the owner
    that one set (in a caller's REPEATABLE READ transaction it raises
    ConcurrentUpdate instead). The database holds one owner member per server
    for any writer (unique index server_members_one_owner_key). Only the owner hands a
    server over: PermissionDenied for any other acting user.
    """
    async with transaction(db) as conn:
        server = await queries.fetch_one(conn, "servers.lock_by_id", {"id": server_id}, Server)
        acting = acting_user()
        if server is None or (acting is not None and acting != server.owner_id):
            await get(conn, server_id)  # NotFound when it is not there to see
            raise not_allowed(f"server {server_id}", table="servers")
        # Demote first: the one-owner index is checked row by row.
        demote = {"server_id": server_id, "user_id": server.owner_id, "role": "admin"}
        await queries.execute(conn, "servers.set_member_role", demote)
        promote = {"server_id": server_id, "user_id": new_owner_id, "role": "owner"}
        if await queries.execute(conn, "servers.set_member_role", promote) == 0:
            raise NotFound(
                f"user {new_owner_id} is not a member of server {server_id}",
                table="server_members",
            )
        params = {"id": server_id, "owner_id": new_owner_id}
        return _found(await queries.fetch_one(conn, "servers.set_owner", params, Server), server_id)


@checked
async def members(
    db: Db, server_id: int, *, cursor: str | None = None, limit: int = 100
) -> Page[Member]:
    """A server's members in join order, one keyset page at a time."""
    params = {"server_id": server_id}
    return await keyset.page(db, _MEMBERS, params, cursor=cursor, limit=limit)


@checked
async def for_user(
    db: Db, user_id: UUID, *, cursor: str | None = None, limit: int = 100
) -> Page[Membership]:
    """The servers a user belongs to, with their role in each, in the order they joined,
    one keyset page at a time (pass the page's `next_cursor` for the next)."""
    params = {"user_id": user_id}
    return await keyset.page(db, _USER_SERVERS, params, cursor=cursor, limit=limit)
