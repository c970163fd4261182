"""Events of a server and RSVPs with capacity (queries in `sql/events.sql`).

Capacity is enforced by the database: a trigger on event_rsvps keeps
`events.going_count`, bounded by CHECK `events_capacity_not_exceeded`, and
its UPDATE locks the event row so concurrent "going" answers queue. A full
event raises `EventFull` (a Conflict naming that constraint). Every other answer
takes the same row lock, so one given while the event is being cancelled waits
for that and is then refused (event_rsvps_event_scheduled).

Cancelled and completed are final: only a scheduled event changes status
(trigger events_keep_status_final, InvalidData events_status_transition).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final
from uuid import UUID

from dal._unset import UNSET, _Unset, update_params
from dal.acting import refuse_for_others
from dal.aio import keyset, queries
from dal.aio.db import Db
from dal.aio.keyset import TimeOrder
from dal.arguments import checked
from dal.errors import InvalidData, NotFound, not_allowed
from dal.many import Many, array_literal, many, unique_ids
from dal.pagination import Page, check_limit
from dal.rows.events import Event, EventFull, Rsvp, SearchHit, UserEvent

__all__ = [
    "CAPACITY_RULE",
    "RESPONSES",
    "STATUSES",
    "STATUS_RULE",
    "UNSET",
    "Event",
    "EventFull",
    "Rsvp",
    "SearchHit",
    "UserEvent",
    "cancel",
    "create",
    "delete",
    "get",
    "get_many",
    "rsvp",
    "rsvp_counts",
    "rsvps",
    "search",
    "upcoming_for_server",
    "upcoming_for_user",
    "update",
    "withdraw",
]

STATUSES: Final = ("scheduled", "cancelled", "completed")
RESPONSES: Final = ("going", "maybe", "declined")
CAPACITY_RULE: Final = "events_capacity_not_exceeded"
STATUS_RULE: Final = "events_status_transition"

# Upcoming events (soonest first) and an event's answers (in the order given).
_UPCOMING_FOR_SERVER: Final = TimeOrder(
    Event,
    "events.upcoming_for_server_first_page",
    "events.upcoming_for_server_after",
    ("after_starts_at", "after_id"),
    int,
    lambda event: (event.starts_at, event.id),
)
_UPCOMING_FOR_USER: Final = TimeOrder(
    UserEvent,
    "events.upcoming_for_user_first_page",
    "events.upcoming_for_user_after",
    ("after_starts_at", "after_id"),
    int,
    lambda event: (event.starts_at, event.id),
)
_RSVPS: Final = TimeOrder(
    Rsvp,
    "events.list_rsvps_first_page",
    "events.list_rsvps_after",
    ("after_responded_at", "after_user_id"),
    UUID,
    lambda answer: (answer.responded_at, answer.user_id),
)


def _found(event: Event | None, event_id: int) -> Event:
    if event is None:
        raise NotFound(f"no event with id {event_id}", table="events")
    return event


def _full(exc: InvalidData) -> InvalidData | EventFull:
    if exc.constraint != CAPACITY_RULE:
        return exc
    return EventFull(
        "the event is full", constraint=CAPACITY_RULE, table="events", sqlstate=exc.sqlstate
    )


@checked
async def create(
    db: Db,
    *,
    server_id: int,
    creator_id: UUID | None,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    description: str = "",
    location: str | None = None,
    capacity: int | None = None,
) -> Event:
    """Create a scheduled event; capacity None means unlimited.

    InvalidData names the rule (events_starts_before_ends, events_capacity_positive ...).
    The server's moderators (and admins, and its owner) create events, as their creator:
    PermissionDenied for anyone else, or for a creator_id other than the acting user.
    """
    params = {
        "server_id": server_id,
        "creator_id": creator_id,
        "title": title,
        "description": description,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "location": location,
        "capacity": capacity,
    }
    found = await queries.fetch_one(db, "events.insert", params, Event)
    assert found is not None
    return found


@checked
async def get(db: Db, event_id: int) -> Event:
    """The event with this id; NotFound otherwise."""
    return _found(
        await queries.fetch_one(db, "events.get_by_id", {"id": event_id}, Event), event_id
    )


@checked
async def get_many(db: Db, event_ids: Iterable[int]) -> Many[int, Event]:
    """The events with these ids in one statement: `rows` in the order asked (each id
    once), and the ids that matched no row in `missing`. At most 1,000 ids."""
    ids = unique_ids(event_ids, "event_ids")
    if not ids:
        return Many([], [])
    found = await queries.fetch_all(db, "events.get_many", {"ids": array_literal(ids)}, Event)
    return many(ids, found, lambda row: row.id)


@checked
async def update(
    db: Db,
    event_id: int,
    *,
    title: str | _Unset = UNSET,
    description: str | _Unset = UNSET,
    starts_at: datetime | _Unset = UNSET,
    ends_at: datetime | _Unset = UNSET,
    location: str | _Unset | None = UNSET,
    capacity: int | _Unset | None = UNSET,
    status: str | _Unset = UNSET,
) -> Event:
    """Change only the fields given; nothing is written when any of them is refused.

    Lowering capacity below the seats taken raises EventFull; changing the
    status of a cancelled or completed event raises InvalidData
    events_status_transition (those are final). Moderators of the event's server change
    it: PermissionDenied for a member who is not one, NotFound for anyone else.
    """
    fields: dict[str, Any] = {
        "title": title,
        "description": description,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "location": location,
        "capacity": capacity,
        "status": status,
    }
    params: dict[str, Any] = {"id": event_id} | update_params(fields)
    try:
        found = await queries.fetch_one(db, "events.update", params, Event)
    except InvalidData as exc:
        raise _full(exc) from exc
    if found is None:
        await get(db, event_id)  # NotFound when it is not there to see
        raise not_allowed(f"event {event_id}", table="events")
    return found


@checked
async def cancel(db: Db, event_id: int) -> Event:
    """Mark the event cancelled, for good; it leaves upcoming lists and takes no more answers.

    Idempotent; InvalidData events_status_transition for a completed event.
    """
    return await update(db, event_id, status="cancelled")


@checked
async def delete(db: Db, event_id: int) -> None:
    """Delete the event with its RSVPs; surveys about it keep existing without the link.
    NotFound if no such event; PermissionDenied for a member who is not a moderator."""
    if await queries.execute(db, "events.delete", {"id": event_id}) == 0:
        await get(db, event_id)  # NotFound when it is not there to see
        raise not_allowed(f"event {event_id}", table="events")


@checked
async def upcoming_for_server(
    db: Db, server_id: int, *, cursor: str | None = None, limit: int = 50
) -> Page[Event]:
    """A server's scheduled events from now on, soonest first, one keyset page at a time."""
    params = {"server_id": server_id}
    return await keyset.page(db, _UPCOMING_FOR_SERVER, params, cursor=cursor, limit=limit)


@checked
async def upcoming_for_user(
    db: Db, user_id: UUID, *, cursor: str | None = None, limit: int = 50
) -> Page[UserEvent]:
    """Scheduled events from now on across every server the user is a member of."""
    params = {"user_id": user_id}
    return await keyset.page(db, _UPCOMING_FOR_USER, params, cursor=cursor, limit=limit)


@checked
async def search(
    db: Db, query: str, *, server_id: int | None = None, limit: int = 20
) -> list[SearchHit]:
    """Events matching a web-style query ("picnic -rain", "\"board games\""), best first.

    Ranks title matches above description matches; all statuses are included.
    """
    params: dict[str, Any] = {"query": query, "limit": check_limit(limit)}
    if server_id is None:
        return await queries.fetch_all(db, "events.search", params, SearchHit)
    params["server_id"] = server_id
    return await queries.fetch_all(db, "events.search_in_server", params, SearchHit)


@checked
async def rsvp(db: Db, event_id: int, user_id: UUID, response: str) -> Rsvp:
    """Answer an event (or change the answer). Atomic on its own: no transaction needed.

    Raises EventFull when "going" would exceed capacity, InvalidData
    (event_rsvps_event_scheduled) for a cancelled or completed event, and
    ReferenceMissing for an unknown event or user. Nothing is written on error. Only
    the server's members answer, each for themselves (PermissionDenied otherwise).
    """
    if response not in RESPONSES:
        raise InvalidData(
            f"response must be one of {', '.join(RESPONSES)}, not {response!r}",
            column="response",
        )
    params = {"event_id": event_id, "user_id": user_id, "response": response}
    try:
        found = await queries.fetch_one(db, "events.upsert_rsvp", params, Rsvp)
    except InvalidData as exc:
        raise _full(exc) from exc
    assert found is not None
    return found


@checked
async def withdraw(db: Db, event_id: int, user_id: UUID) -> None:
    """Remove the user's answer; NotFound if there was none, PermissionDenied when acting
    for another user."""
    params = {"event_id": event_id, "user_id": user_id}
    if await queries.execute(db, "events.delete_rsvp", params) == 0:
        refuse_for_others(user_id, f"the answer of {user_id}", table="event_rsvps")
        raise NotFound(f"user {user_id} has not answered event {event_id}", table="event_rsvps")


@checked
async def rsvps(
    db: Db, event_id: int, response: str = "going", *, cursor: str | None = None, limit: int = 50
) -> Page[Rsvp]:
    """The answers with this response, in the order they were given, one keyset page at
    a time (pass the page's `next_cursor` for the next)."""
    params = {"event_id": event_id, "response": response}
    return await keyset.page(db, _RSVPS, params, cursor=cursor, limit=limit)


@checked
async def rsvp_counts(db: Db, event_id: int) -> dict[str, int]:
    """Number of answers per response (every response present, zero when none)."""
    counts = dict.fromkeys(RESPONSES, 0)
    for response, n in await queries.fetch_tuples(db, "events.count_rsvps", {"event_id": event_id}):
        counts[response] = int(n)
    return counts
