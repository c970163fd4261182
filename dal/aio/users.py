"""Users: the identity every product area shares (queries in `sql/users.sql`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Final
from uuid import UUID

from dal import passwords
from dal._json import jsonb
from dal._unset import UNSET, _Unset, any_given, update_params
from dal.aio import keyset, queries
from dal.aio.db import Db, transaction
from dal.aio.keyset import TimeOrder
from dal.arguments import checked
from dal.errors import InvalidData, NotFound
from dal.many import Many, array_literal, many, unique_ids
from dal.pagination import Page
from dal.rows.users import User

__all__ = [
    "STATUSES",
    "User",
    "authenticate",
    "count",
    "create",
    "get",
    "get_by_email",
    "get_by_github_id",
    "get_by_gitlab_id",
    "get_by_username",
    "get_many",
    "hard_delete",
    "link_github",
    "link_gitlab",
    "list_page",
    "set_password",
    "soft_delete",
    "unlink_github",
    "unlink_gitlab",
    "update",
]

STATUSES: Final = ("active", "suspended", "deleted")

_SIGN_UP_ORDER: Final = TimeOrder(
    User,
    "users.list_first_page",
    "users.list_page_after",
    ("after_created_at", "after_id"),
    UUID,
    lambda user: (user.created_at, user.id),
)


async def _hashed(password: str) -> str:
    """The argon2id hash of `password`: a deliberately slow hash, which an async
    caller runs in a worker thread so the event loop goes on meanwhile."""
    if True:  # ASYNC
        return await asyncio.to_thread(passwords.hash_password, password)
    return passwords.hash_password(password)


async def _verified(encoded: str | None, password: str) -> bool:
    """Whether `password` matches `encoded`, off the event loop in the async flavour."""
    if True:  # ASYNC
        return await asyncio.to_thread(passwords.verify, encoded, password)
    return passwords.verify(encoded, password)


def _found(user: User | None, what: str) -> User:
    if user is None:
        raise NotFound(f"no user with {what}", table="users")
    return user


@checked
async def create(
    db: Db,
    *,
    email: str,
    username: str,
    password: str | None = None,
    display_name: str | None = None,
    preferences: Mapping[str, Any] | None = None,
    github_id: int | None = None,
    gitlab_id: int | None = None,
) -> User:
    """Create a user; the password (if any) is hashed with argon2id.

    Raises Conflict (users_email_lower_key / users_username_lower_key ...) and
    InvalidData naming the broken rule.
    """
    params = {
        "email": email,
        "username": username,
        "password_hash": None if password is None else await _hashed(password),
        "display_name": display_name,
        "preferences": jsonb(
            {} if preferences is None else preferences,
            "preferences",
            object_constraint="users_preferences_is_object",
        ),
        "github_id": github_id,
        "gitlab_id": gitlab_id,
    }
    return _found(await queries.fetch_one(db, "users.insert", params, User), "that insert")


@checked
async def get(db: Db, user_id: UUID) -> User:
    """The user with this id; NotFound otherwise."""
    found = await queries.fetch_one(db, "users.get_by_id", {"id": user_id}, User)
    if found is None:  # the message is built only on a miss: a hit formats nothing
        raise NotFound(f"no user with id {user_id}", table="users")
    return found


@checked
async def get_many(db: Db, user_ids: Iterable[UUID]) -> Many[UUID, User]:
    """The users with these ids in one statement: `rows` in the order asked (each id
    once), and the ids that matched no row in `missing`. At most 1,000 ids."""
    ids = unique_ids(user_ids, "user_ids")
    if not ids:
        return Many([], [])
    found = await queries.fetch_all(db, "users.get_many", {"ids": array_literal(ids)}, User)
    return many(ids, found, lambda row: row.id)


@checked
async def get_by_email(db: Db, email: str) -> User:
    """The user with this email, in any letter case; NotFound otherwise."""
    found = await queries.fetch_one(db, "users.get_by_email", {"email": email}, User)
    return _found(found, "that email")


@checked
async def get_by_username(db: Db, username: str) -> User:
    """The user with this username, in any letter case; NotFound otherwise."""
    found = await queries.fetch_one(db, "users.get_by_username", {"username": username}, User)
    return _found(found, "that username")


@checked
async def get_by_github_id(db: Db, github_id: int) -> User:
    """The user whose account is linked to this GitHub account id; NotFound otherwise."""
    found = await queries.fetch_one(db, "users.get_by_github_id", {"github_id": github_id}, User)
    return _found(found, "that GitHub account")


@checked
async def get_by_gitlab_id(db: Db, gitlab_id: int) -> User:
    """The user whose account is linked to this GitLab account id; NotFound otherwise."""
    found = await queries.fetch_one(db, "users.get_by_gitlab_id", {"gitlab_id": gitlab_id}, User)
    return _found(found, "that GitLab account")


@checked
async def link_github(db: Db, user_id: UUID, github_id: int) -> User:
    """Link a GitHub account to the user (replacing any linked before). Conflict
    (users_github_id_key) when another user holds it; nothing is written then."""
    return await update(db, user_id, github_id=github_id)


@checked
async def unlink_github(db: Db, user_id: UUID) -> User:
    """Remove the user's link to a GitHub account (none linked: no change)."""
    return await update(db, user_id, github_id=None)


@checked
async def link_gitlab(db: Db, user_id: UUID, gitlab_id: int) -> User:
    """Link a GitLab account to the user (replacing any linked before). Conflict
    (users_gitlab_id_key) when another user holds it; nothing is written then."""
    return await update(db, user_id, gitlab_id=gitlab_id)


@checked
async def unlink_gitlab(db: Db, user_id: UUID) -> User:
    """Remove the user's link to a GitLab account (none linked: no change)."""
    return await update(db, user_id, gitlab_id=None)


@checked
async def authenticate(db: Db, login: str, password: str) -> User | None:
    """The active user whose email or username is `login` and whose password matches.

    Takes the same time whether or not the login exists. On success stamps
    last_login_at and upgrades the hash if its parameters are outdated.
    """
    # The KDF runs between two short statements, not inside a transaction: a
    # deliberately slow hash must not hold a pooled connection in a transaction.
    user = await queries.fetch_one(db, "users.get_by_login", {"login": login}, User)
    matches = await _verified(user.password_hash if user else None, password)
    if user is None or user.password_hash is None or not matches:
        return None
    rehashed = await _hashed(password) if passwords.needs_rehash(user.password_hash) else None
    async with transaction(db) as conn:
        if rehashed is not None:
            params = {"id": user.id, "password_hash": rehashed}
            await queries.execute(conn, "users.set_password_hash", params)
        last_login = await queries.fetch_value(conn, "users.touch_last_login", {"id": user.id})
    if last_login is None:  # deleted between the check and the stamp
        return None
    return replace(user, last_login_at=last_login)


@checked
async def update(
    db: Db,
    user_id: UUID,
    *,
    email: str | _Unset = UNSET,
    username: str | _Unset = UNSET,
    display_name: str | _Unset | None = UNSET,
    preferences: Mapping[str, Any] | _Unset = UNSET,
    status: str | _Unset = UNSET,
    github_id: int | _Unset | None = UNSET,
    gitlab_id: int | _Unset | None = UNSET,
) -> User:
    """Change only the fields given; updated_at moves. NotFound if no such user."""
    fields: dict[str, Any] = {
        "email": email,
        "username": username,
        "display_name": display_name,
        "preferences": preferences,
        "status": status,
        "github_id": github_id,
        "gitlab_id": gitlab_id,
    }
    if not any_given(fields):
        return await get(db, user_id)
    params: dict[str, Any] = {"id": user_id} | update_params(fields)
    if params["set_preferences"]:
        params["preferences"] = jsonb(
            params["preferences"], "preferences", object_constraint="users_preferences_is_object"
        )
    found = await queries.fetch_one(db, "users.update", params, User)
    return _found(found, f"id {user_id}")


@checked
async def set_password(db: Db, user_id: UUID, password: str) -> None:
    """Hash and store a new password."""
    params = {"id": user_id, "password_hash": await _hashed(password)}
    if await queries.execute(db, "users.set_password_hash", params) == 0:
        raise NotFound(f"no user with id {user_id}", table="users")


@checked
async def soft_delete(db: Db, user_id: UUID) -> None:
    """Mark the user deleted (they can no longer sign in); their data stays."""
    if await queries.execute(db, "users.soft_delete", {"id": user_id}) == 0:
        await get(db, user_id)  # NotFound if missing; already deleted is fine


@checked
async def hard_delete(db: Db, user_id: UUID) -> None:
    """Delete the user row; owned rows follow their foreign keys' ON DELETE rules."""
    if await queries.execute(db, "users.hard_delete", {"id": user_id}) == 0:
        raise NotFound(f"no user with id {user_id}", table="users")


@checked
async def list_page(
    db: Db,
    *,
    cursor: str | None = None,
    limit: int = 50,
    statuses: Sequence[str] = ("active", "suspended"),
) -> Page[User]:
    """Users in sign-up order, one keyset page at a time."""
    bad = set(statuses) - set(STATUSES)
    if bad:
        raise InvalidData(f"unknown user status {sorted(bad)[0]!r}", column="status")
    params = {"statuses": list(statuses)}
    return await keyset.page(db, _SIGN_UP_ORDER, params, cursor=cursor, limit=limit)


@checked
async def count(db: Db) -> int:
    """The number of users, soft-deleted ones included."""
    return int(await queries.fetch_value(db, "users.count_all", {}))
