"""Row types of the config_store area: the same classes in both flavours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ConfigEntry:
    key: str
    value: Any
    description: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class FeatureFlag:
    name: str
    enabled: bool
    rollout_percentage: int
    description: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Setting:
    key: str
    value: Any
    is_default: bool  # True: the app_config "user.<key>" default, not the user's own value


@dataclass(frozen=True, slots=True)
class _Value:
    value: Any
    is_default: bool
