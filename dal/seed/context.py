"""Shared state of one seeding run: the profile, deterministic randomness, parent ids."""

from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dal.seed.profiles import Profile

# Seeded data is dated relative to this instant so the same seed gives the same rows.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Context:
    profile: Profile
    seed: int
    now: datetime = EPOCH
    user_ids: list[uuid.UUID] = field(default_factory=list)
    # Cumulative Zipf weights over user_ids: heavy users first.
    user_cum_weights: list[float] = field(default_factory=list)
    shared: dict[str, Any] = field(default_factory=dict)

    def rng(self, table: str) -> random.Random:
        """A generator private to one table, so tables can be added without reshuffling."""
        return random.Random(f"{self.seed}:{table}")

    def set_users(self, ids: list[uuid.UUID]) -> None:
        self.user_ids = ids
        weights = [1.0 / (rank + 1) ** self.profile.skew for rank in range(len(ids))]
        self.user_cum_weights = list(itertools.accumulate(weights))

    def pick_user(self, rng: random.Random) -> uuid.UUID:
        """A user drawn by activity: heavy users are picked far more often."""
        return rng.choices(self.user_ids, cum_weights=self.user_cum_weights)[0]

    def split(self, total: int, parts: int, rng: random.Random) -> list[int]:
        """Split `total` into `parts` skewed counts that sum to `total`."""
        weights = [1.0 / (rank + 1) ** self.profile.skew for rank in range(parts)]
        scale = total / sum(weights)
        counts = [int(w * scale) for w in weights]
        for index in rng.sample(range(parts), min(parts, total - sum(counts))):
            counts[index] += 1
        return counts

    def moment(self, rng: random.Random, *, days_back: float, days_ahead: float = 0) -> datetime:
        """A random instant between `days_back` ago and `days_ahead` from `now`."""
        offset = rng.uniform(-days_back, days_ahead)
        return self.now + timedelta(days=offset)


def seeded_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)
