"""Seed rows for users."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from dal import passwords
from dal.seed.context import Context, seeded_uuid
from dal.seed.step import Step

FIRST = [
    "ada",
    "alan",
    "grace",
    "linus",
    "barbara",
    "ken",
    "margaret",
    "edsger",
    "radia",
    "donald",
    "frances",
    "john",
    "katherine",
    "dennis",
    "hedy",
    "tim",
    "annie",
    "guido",
]
LAST = [
    "lovelace",
    "turing",
    "hopper",
    "torvalds",
    "liskov",
    "thompson",
    "hamilton",
    "dijkstra",
    "perlman",
    "knuth",
    "allen",
    "mccarthy",
    "johnson",
    "ritchie",
    "lamarr",
]
DEV_PASSWORD = "dev-password"  # every seeded user's password, for trying sign-in locally

USER_COLUMNS = (
    "id",
    "email",
    "username",
    "password_hash",
    "display_name",
    "preferences",
    "status",
    "github_id",
    "gitlab_id",
    "last_login_at",
    "created_at",
    "updated_at",
)


def steps(ctx: Context) -> list[Step]:
    return [Step("users", USER_COLUMNS, ctx.profile.users, lambda: _users(ctx))]


def _users(ctx: Context) -> Iterator[tuple[Any, ...]]:
    rng = ctx.rng("users")
    # One hash for all (argon2 per row would be slow), salted from the seed: reproducible.
    salt = hashlib.sha256(f"dal-seed-{ctx.seed}".encode()).digest()[:16]
    password_hash = passwords.hash_password(DEV_PASSWORD, salt=salt)
    ids = [seeded_uuid(rng) for _ in range(ctx.profile.users)]
    ctx.set_users(ids)
    for n, user_id in enumerate(ids):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        created = ctx.moment(rng, days_back=730)
        status = rng.choices(["active", "suspended", "deleted"], [97, 2, 1])[0]
        login = created + timedelta(days=rng.uniform(0, 30)) if rng.random() < 0.8 else None
        yield (
            user_id,
            f"{first}.{last}{n}@example.com",
            f"{first}_{last}{n}",
            password_hash,
            f"{first.title()} {last.title()}",
            json.dumps({"theme": rng.choice(["light", "dark"]), "tz": "UTC"}),
            status,
            100_000 + n if rng.random() < 0.3 else None,
            200_000 + n if rng.random() < 0.1 else None,
            login,
            created,
            login or created,
        )
