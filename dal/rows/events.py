"""Row types of the events area: the same classes in both flavours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from dal.errors import Conflict
from dal.rows.base import Row


class EventFull(Conflict):
    """A "going" answer (or a lower capacity) would exceed the event's capacity."""


@dataclass(frozen=True, slots=True)
class Event(Row):
    """A server's event (table events), with the count of members going."""

    id: int
    server_id: int
    creator_id: UUID | None
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    location: str | None
    capacity: int | None
    going_count: int
    status: str
    created_at: datetime
    updated_at: datetime

    @property
    def seats_left(self) -> int | None:
        """Free seats, or None when the capacity is unlimited."""
        return None if self.capacity is None else self.capacity - self.going_count


@dataclass(frozen=True, slots=True)
class UserEvent(Event):
    """An upcoming event in one of the user's servers, with the user's answer (or None)."""

    response: str | None


@dataclass(frozen=True, slots=True)
class SearchHit(Event):
    """A matching event and its relevance (higher is better)."""

    rank: float


@dataclass(frozen=True, slots=True)
class Rsvp(Row):
    """A member's answer to an event (table event_rsvps): going, maybe or not going."""

    event_id: int
    user_id: UUID
    response: str
    responded_at: datetime
