"""Row types of the config_store area: the same classes in both flavours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dal.rows.base import Row


@dataclass(frozen=True, slots=True)
class ConfigEntry(Row):
    """One application setting (table app_config): a key and a JSON value."""

    key: str
    value: Any
    description: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class FeatureFlag(Row):
    """A feature flag (table feature_flags): on or off, for a percentage of users."""

    name: str
    enabled: bool
    rollout_percentage: int
    description: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Setting(Row):
    """A user's setting as it applies: their own value, or the app_config default."""

    key: str
    value: Any
    is_default: bool  # True: the app_config "user.<key>" default, not the user's own value


@dataclass(frozen=True, slots=True)
class _Value(Row):
    value: Any
    is_default: bool
