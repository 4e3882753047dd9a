"""Use cases of the events feed: a page of a caller's events after a cursor, and a live
stream of them (for Server-Sent Events) that resumes from a position.

Both read in commit order below the snapshot's xmin (see `positions`), so an event whose
transaction committed after a later one's is never skipped. The stream borrows a pooled
connection only for each read, waking on commits (`EventSignal`) or after `poll_seconds`.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec

from contracts.events import EventPayload
from contracts.feed import EventOut, EventPage, EventQuery
from contracts.webhooks import WebhookObject
from services.actors import Caller
from services.feed import positions, queries, rules
from services.feed.listener import EventSignal
from services.feed.positions import Position

STREAM_BATCH = 200
MIN_READ_INTERVAL = 0.1  # seconds between a stream's reads, however often commits wake it


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One event of the stream: `id` resumes after it (`Last-Event-ID`)."""

    id: str
    type: str
    data: str


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Nothing new for a while: a comment line that keeps proxies from closing the stream."""


async def read(
    conn: asyncpg.Connection, caller: Caller, after: Position, query: EventQuery, limit: int
) -> tuple[Sequence[asyncpg.Record], Position]:
    """Up to `limit` events visible to `caller` after `after`, and where to continue."""
    scope, scope_id = rules.scope_of(caller)
    rows = await conn.fetch(
        queries.READ_BY_SCOPE[scope],
        *(str(after.xid), after.id, list(query.types) or None, query.object_id),
        *(query.since, query.until, limit, scope_id),
    )
    xmin = int(rows[0]["xmin"])
    events = [r for r in rows if r["id"] is not None]
    last = _position(events[-1]) if events else None
    return events, positions.next_position(after, last, xmin, full=len(events) == limit)


def _position(row: asyncpg.Record) -> Position:
    return Position(int(row["xid"]), row["id"])


def event_out(row: asyncpg.Record) -> EventOut:
    return EventOut(
        id=row["id"],
        type=row["type"],
        created_at=row["created_at"],
        object=WebhookObject(type=row["aggregate_type"], id=row["aggregate_id"], version=row["id"]),
        data=msgspec.convert(row["payload"], EventPayload),
        cursor=positions.encode(_position(row)),
    )


async def list_events(
    conn: asyncpg.Connection, caller: Caller, query: EventQuery, cursor: str | None, limit: int
) -> EventPage:
    """A page of the caller's events in commit order, oldest first, from the beginning or
    after `cursor`."""
    after = positions.decode(cursor) if cursor is not None else positions.START
    rows, following = await read(conn, caller, after, query, limit)
    return EventPage(
        items=[event_out(r) for r in rows],
        next_cursor=positions.encode(following),
        has_more=len(rows) == limit,
    )


async def current_position(conn: asyncpg.Connection) -> Position:
    """The position of "now": a stream started here receives only events committed later."""
    return positions.boundary(int(await conn.fetchval(queries.SNAPSHOT_XMIN)))


def _stream_event(row: asyncpg.Record) -> StreamEvent:
    body = msgspec.json.encode(
        {
            "id": row["id"],
            "type": row["type"],
            "created_at": row["created_at"],
            "object": {
                "type": row["aggregate_type"],
                "id": row["aggregate_id"],
                "version": row["id"],
            },
            "data": row["payload"],
            "cursor": positions.encode(_position(row)),
        }
    )
    return StreamEvent(id=positions.encode(_position(row)), type=row["type"], data=body.decode())


async def stream(
    pool: asyncpg.Pool,
    signal: EventSignal,
    caller: Caller,
    after: Position,
    *,
    heartbeat_seconds: float,
    max_seconds: float,
    poll_seconds: float = 5.0,
) -> AsyncIterator[StreamEvent | Heartbeat]:
    """The caller's events from `after` on, as they commit, for at most `max_seconds`
    (the client then reconnects with the last id it received)."""
    rules.scope_of(caller)  # refuse a caller without events before streaming anything
    deadline = time.monotonic() + max_seconds
    quiet_since = time.monotonic()
    query = EventQuery()
    while time.monotonic() < deadline:
        woken = signal.current
        async with pool.acquire() as conn:
            rows, after = await read(conn, caller, after, query, STREAM_BATCH)
        for row in rows:
            yield _stream_event(row)
        if rows:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= heartbeat_seconds:
            quiet_since = time.monotonic()
            yield Heartbeat()
        if len(rows) == STREAM_BATCH:
            continue
        wait = min(poll_seconds, heartbeat_seconds, max(0.0, deadline - time.monotonic()))
        await _wait(woken, wait)
        await asyncio.sleep(MIN_READ_INTERVAL)


async def _wait(event: asyncio.Event, seconds: float) -> Any:
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return None
