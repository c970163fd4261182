"""Seed rows for configuration: app_config, feature_flags, user_settings.

app_config and feature_flags are small by nature (a fixed catalogue of keys and
flags, whatever the profile); user_settings grows with users: heavy users
override more of the "user.*" defaults, most users keep them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from dal.seed.context import Context
from dal.seed.step import Step

# key -> (value, description); "user.*" keys are the defaults of user settings.
APP_CONFIG: dict[str, tuple[Any, str]] = {
    "site.name": ("DAL demo", "Shown in page titles and e-mails"),
    "site.support_email": ("support@example.com", "Where users write to"),
    "auth.session_ttl_minutes": (720, "Idle sign-out"),
    "auth.max_login_attempts": (5, "Before a short lock-out"),
    "tasks.max_subtask_depth": (3, "Nesting allowed under a task"),
    "events.default_capacity": (None, "null: unlimited"),
    "events.reminder_hours": ([24, 1], "Reminders before an event starts"),
    "surveys.max_questions": (50, "Per survey"),
    "moods.retention_months": (36, "Older partitions are detached"),
    "recommendations.max_active": (20, "Shown at once"),
    "user.theme": ("light", "Default theme"),
    "user.language": ("en", "Default language"),
    "user.timezone": ("UTC", "Default time zone"),
    "user.week_start": ("monday", "First day of the week"),
    "user.notifications.email": (True, "E-mail notifications"),
    "user.notifications.push": (False, "Push notifications"),
    "user.digest.frequency": ("weekly", "Digest e-mail"),
}
# name -> (enabled, rollout percentage, description)
FLAGS: dict[str, tuple[bool, int, str]] = {
    "new-dashboard": (True, 25, "The redesigned dashboard"),
    "mood-insights": (True, 100, "Weekly mood insights"),
    "event-waitlist": (True, 50, "Waitlist when an event is full"),
    "survey-branching": (False, 0, "Questions that depend on earlier answers"),
    "dark-mode-auto": (True, 100, "Follow the system theme"),
    "task-ai-suggestions": (True, 10, "Suggested subtasks"),
    "recommendations.v2": (True, 5, "The second ranking model"),
    "gitlab-sync": (False, 100, "Sync tasks from GitLab"),
}
SETTINGS: dict[str, list[Any]] = {
    "theme": ["dark", "light", "solarized"],
    "language": ["en", "de", "fr", "es", "pt", "ja"],
    "timezone": ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Europe/London"],
    "week_start": ["sunday", "monday"],
    "notifications.email": [False, True],
    "notifications.push": [True, False],
    "digest.frequency": ["daily", "weekly", "never"],
}


def steps(ctx: Context) -> list[Step]:
    return [
        Step(
            "app_config",
            ("key", "value", "description", "created_at", "updated_at"),
            len(APP_CONFIG),
            lambda: _app_config(ctx),
        ),
        Step(
            "feature_flags",
            ("name", "enabled", "rollout_percentage", "description", "created_at", "updated_at"),
            len(FLAGS),
            lambda: _flags(ctx),
        ),
        Step(
            "user_settings",
            ("user_id", "key", "value", "updated_at"),
            ctx.profile.users * 2,
            lambda: _user_settings(ctx),
        ),
    ]


def _app_config(ctx: Context) -> Iterator[tuple[Any, ...]]:
    rng = ctx.rng("app_config")
    for key, (value, description) in APP_CONFIG.items():
        created = ctx.moment(rng, days_back=700, days_ahead=-300)
        updated = created + timedelta(days=rng.uniform(0, 300))
        yield key, json.dumps(value), description, created, updated


def _flags(ctx: Context) -> Iterator[tuple[Any, ...]]:
    rng = ctx.rng("feature_flags")
    for name, (enabled, rollout, description) in FLAGS.items():
        created = ctx.moment(rng, days_back=400, days_ahead=-30)
        updated = created + timedelta(days=rng.uniform(0, 30))
        yield name, enabled, rollout, description, created, updated


def _user_settings(ctx: Context) -> Iterator[tuple[Any, ...]]:
    """Heavy (low-rank) users override more settings; most override one or none."""
    rng = ctx.rng("user_settings")
    keys = list(SETTINGS)
    heavy = max(1, len(ctx.user_ids) // 10)
    for rank, user in enumerate(ctx.user_ids):
        count = rng.randint(2, len(keys)) if rank < heavy else rng.choice([0, 0, 1, 1, 2, 3])
        for key in rng.sample(keys, count):
            value = rng.choice(SETTINGS[key])
            yield user, key, json.dumps(value), ctx.moment(rng, days_back=300)
