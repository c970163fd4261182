"""How much data each profile makes, and how it is skewed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    """Row counts of one seed profile. Per-user activity follows a Zipf-like law:
    a few heavy users own much of the data, most users own a little."""

    name: str
    users: int
    projects: int
    tasks: int
    moods: int
    servers: int
    events: int
    skew: float = 1.1  # Zipf exponent of per-user activity

    def scaled(self, factor: float) -> Profile:
        """The same shape at another size (benchmarks' CI mode uses a fraction of large)."""

        def scale(n: int) -> int:
            return max(1, round(n * factor))

        return Profile(
            f"{self.name}x{factor:g}",
            scale(self.users),
            scale(self.projects),
            scale(self.tasks),
            scale(self.moods),
            scale(self.servers),
            scale(self.events),
            self.skew,
        )


PROFILES: dict[str, Profile] = {
    "dev": Profile("dev", users=12, projects=4, tasks=120, moods=400, servers=3, events=12),
    "small": Profile(
        "small", users=300, projects=40, tasks=6_000, moods=8_000, servers=10, events=200
    ),
    "large": Profile(
        "large",
        users=50_000,
        projects=5_000,
        tasks=1_000_000,
        moods=1_000_000,
        servers=500,
        events=50_000,
    ),
}
