"""A user's task categories (queries in `sql/categories.sql`).

Names are unique per user regardless of case (Conflict naming
``categories_owner_id_name_lower_key``); colours are ``#rrggbb``. Deleting a
category leaves its tasks uncategorised (the database sets category_id NULL).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from dal._unset import UNSET, _Unset, any_given, update_params
from dal.aio import queries
from dal.aio.db import Db
from dal.arguments import checked
from dal.errors import InvalidData, NotFound
from dal.pagination import Page, check_limit, decode_cursor, page_of
from dal.rows.categories import Category, CategoryWithCount

__all__ = [
    "Category",
    "CategoryWithCount",
    "create",
    "delete",
    "get",
    "list_for_user",
    "update",
]


def _found(category: Category | None, category_id: UUID) -> Category:
    if category is None:
        raise NotFound(f"no category with id {category_id}", table="categories")
    return category


@checked
async def create(db: Db, *, owner_id: UUID, name: str, colour: str = "#808080") -> Category:
    """Create a category; Conflict if the user already has one of that name (any case)."""
    params = {"owner_id": owner_id, "name": name, "colour": colour}
    category = await queries.fetch_one(db, "categories.insert", params, Category)
    assert category is not None
    return category


@checked
async def get(db: Db, category_id: UUID) -> Category:
    """The category with this id; NotFound otherwise."""
    found = await queries.fetch_one(db, "categories.get_by_id", {"id": category_id}, Category)
    return _found(found, category_id)


@checked
async def update(
    db: Db, category_id: UUID, *, name: str | _Unset = UNSET, colour: str | _Unset = UNSET
) -> Category:
    """Rename or recolour; NotFound if no such category."""
    fields = {"name": name, "colour": colour}
    if not any_given(fields):
        return await get(db, category_id)
    params: dict[str, Any] = {"id": category_id} | update_params(fields)
    return _found(await queries.fetch_one(db, "categories.update", params, Category), category_id)


@checked
async def delete(db: Db, category_id: UUID) -> None:
    """Delete the category; its tasks stay, uncategorised."""
    if await queries.execute(db, "categories.delete", {"id": category_id}) == 0:
        raise NotFound(f"no category with id {category_id}", table="categories")


@checked
async def list_for_user(
    db: Db, owner_id: UUID, *, cursor: str | None = None, limit: int = 50
) -> Page[CategoryWithCount]:
    """The user's categories by name (case-insensitive), each with its task count, one
    keyset page at a time (pass the page's `next_cursor` for the next)."""
    params: dict[str, Any] = {"owner_id": owner_id, "limit": check_limit(limit) + 1}
    if cursor is None:
        name = "categories.list_for_user_with_counts_first_page"
    else:
        (params["after_name"],) = decode_cursor(cursor, 1)
        if not isinstance(params["after_name"], str):
            raise InvalidData("cursor is not one this list gave", column="cursor")
        name = "categories.list_for_user_with_counts_after"
    rows = await queries.fetch_all(db, name, params, CategoryWithCount)
    return page_of(rows, limit, lambda last: [last.name])
