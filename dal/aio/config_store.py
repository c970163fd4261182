"""Application config, feature flags and per-user settings (queries in `sql/config.sql`).

Named `config_store` because `dal.config` holds the process's own settings.

- `app_config`: key -> jsonb value. Keys under ``user.`` are the defaults of
  per-user settings: `get_user_setting(db, uid, "theme")` returns the user's own
  value, else app_config ``user.theme``.
- Feature flags roll out by a stable bucket: ``sha256("<flag>:<user id>")``,
  first 8 bytes as an unsigned integer, modulo 100. A user is in when the flag
  is enabled and their bucket < rollout_percentage, so the same user always gets
  the same answer, raising the percentage only adds users, and each flag picks
  a different set of users. Computed in Python, not SQL, so the buckets do not
  depend on PostgreSQL's internal hash functions.
"""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

from dal._json import jsonb
from dal._unset import UNSET, _Unset, update_params
from dal.aio import queries
from dal.aio.db import Db
from dal.arguments import checked
from dal.errors import NotFound
from dal.rows.config_store import ConfigEntry, FeatureFlag, Setting, _Value

__all__ = [
    "ConfigEntry",
    "FeatureFlag",
    "Setting",
    "all_entries",
    "bucket",
    "delete",
    "delete_flag",
    "get",
    "get_entry",
    "get_flag",
    "get_or",
    "get_user_setting",
    "is_enabled",
    "reset_user_setting",
    "set",
    "set_flag",
    "set_user_setting",
    "user_settings",
]


@checked
async def get(db: Db, key: str) -> Any:
    """The value of a config key; NotFound when it is not set."""
    entry = await get_entry(db, key)
    return entry.value


@checked
async def get_entry(db: Db, key: str) -> ConfigEntry:
    """The setting `key` with its description; NotFound if there is none."""
    found = await queries.fetch_one(db, "config.get", {"key": key}, ConfigEntry)
    if found is None:
        raise NotFound(f"no config key {key!r}", table="app_config")
    return found


@checked
async def get_or(db: Db, key: str, default: Any) -> Any:
    """The value of a config key, or `default` when it is not set."""
    found = await queries.fetch_one(db, "config.get", {"key": key}, ConfigEntry)
    return default if found is None else found.value


@checked
async def set(
    db: Db, key: str, value: Any, *, description: str | _Unset | None = UNSET
) -> ConfigEntry:
    """Set a key to any JSON value (InvalidData app_config_key_format for a bad key).

    The description is kept unless given; None clears it.
    """
    params = {"key": key, "value": jsonb(value, "value")} | update_params(
        {"description": description}
    )
    found = await queries.fetch_one(db, "config.upsert", params, ConfigEntry)
    assert found is not None
    return found


@checked
async def delete(db: Db, key: str) -> None:
    """Delete the setting `key`; NotFound if there is none."""
    if await queries.execute(db, "config.delete", {"key": key}) == 0:
        raise NotFound(f"no config key {key!r}", table="app_config")


@checked
async def all_entries(db: Db) -> list[ConfigEntry]:
    """Every application setting, by key."""
    return await queries.fetch_all(db, "config.list_all", {}, ConfigEntry)


@checked
async def set_flag(
    db: Db,
    name: str,
    *,
    enabled: bool,
    rollout_percentage: int = 100,
    description: str | _Unset | None = UNSET,
) -> FeatureFlag:
    """Create or change a flag (InvalidData feature_flags_rollout_percentage_range ...).

    The description is kept unless given; None clears it.
    """
    params = {
        "name": name,
        "enabled": enabled,
        "rollout_percentage": rollout_percentage,
    } | update_params({"description": description})
    found = await queries.fetch_one(db, "config.upsert_flag", params, FeatureFlag)
    assert found is not None
    return found


@checked
async def get_flag(db: Db, name: str) -> FeatureFlag:
    """The feature flag `name`; NotFound if there is none."""
    found = await queries.fetch_one(db, "config.get_flag", {"name": name}, FeatureFlag)
    if found is None:
        raise NotFound(f"no feature flag {name!r}", table="feature_flags")
    return found


@checked
async def delete_flag(db: Db, name: str) -> None:
    """Delete the feature flag `name`; NotFound if there is none."""
    if await queries.execute(db, "config.delete_flag", {"name": name}) == 0:
        raise NotFound(f"no feature flag {name!r}", table="feature_flags")


@checked
def bucket(flag: str, user_id: UUID) -> int:
    """The user's stable rollout bucket (0-99) for this flag."""
    digest = hashlib.sha256(f"{flag}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


@checked
async def is_enabled(db: Db, flag: str, user_id: UUID) -> bool:
    """Whether the flag is on for this user; an unknown flag is off."""
    found = await queries.fetch_one(db, "config.get_flag", {"name": flag}, FeatureFlag)
    if found is None or not found.enabled:
        return False
    return bucket(flag, user_id) < found.rollout_percentage


@checked
async def get_user_setting(db: Db, user_id: UUID, key: str) -> Setting:
    """The user's value for `key`, else the app_config default ``user.<key>``; else NotFound."""
    params = {"user_id": user_id, "key": key}
    found = await queries.fetch_one(db, "config.get_user_setting", params, _Value)
    if found is None:
        raise NotFound(f"no setting {key!r} for this user and no default", table="user_settings")
    return Setting(key, found.value, found.is_default)


@checked
async def set_user_setting(db: Db, user_id: UUID, key: str, value: Any) -> Setting:
    """Set the user's own value (ReferenceMissing user_settings_user_id_fkey for no user)."""
    params = {"user_id": user_id, "key": key, "value": jsonb(value, "value")}
    found = await queries.fetch_one(db, "config.upsert_user_setting", params, Setting)
    assert found is not None
    return found


@checked
async def reset_user_setting(db: Db, user_id: UUID, key: str) -> None:
    """Drop the user's own value so the default applies again; NotFound if they had none."""
    params = {"user_id": user_id, "key": key}
    if await queries.execute(db, "config.delete_user_setting", params) == 0:
        raise NotFound(f"user has no own value for {key!r}", table="user_settings")


@checked
async def user_settings(db: Db, user_id: UUID) -> list[Setting]:
    """Every setting of the user by key: their own values and the defaults they kept."""
    return await queries.fetch_all(db, "config.list_user_settings", {"user_id": user_id}, Setting)
