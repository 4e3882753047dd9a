"""The consumer: events become notifications.

It reads the events in commit order below its snapshot's xmin (see
`services.feed.positions`), so an event whose transaction committed after a later one's is
never skipped; it records the notifications of a batch and moves its own position in one
transaction, so each event notifies exactly once even if the worker dies. One consumer runs
at a time across all workers (a transaction-scoped advisory lock); the others skip their turn.
"""

from collections.abc import Sequence

import asyncpg
import msgspec
import structlog

from contracts.events import EventPayload
from contracts.notifications import NotificationKind
from services.notifications import queries, record, sources
from services.notifications.rules import Intent
from services.settings import Settings

BATCH = 500
log = structlog.get_logger(__name__)


def _intents(rows: Sequence[asyncpg.Record]) -> list[tuple[Intent, int | None]]:
    items: list[tuple[Intent, int | None]] = []
    for row in rows:
        if row["payload"] is None:
            continue
        try:
            event = msgspec.convert(row["payload"], EventPayload)
        except msgspec.ValidationError as error:  # never stall the stream on one event
            log.warning("notification_event_unreadable", event_id=row["id"], error=str(error))
            continue
        sides = (row["merchant_id"], row["kol_id"])
        items += [(intent, row["id"]) for intent in sources.intents(event, sides)]
    return items


async def _needed(
    conn: asyncpg.Connection, items: list[tuple[Intent, int | None]]
) -> list[tuple[Intent, int | None]]:
    """Drop the payout set-up reminders of KOLs whose payout account is ready."""
    asked = {i.kol_id for i, _ in items if i.kind is NotificationKind.PAYOUT_ACCOUNT_INCOMPLETE}
    if not asked:
        return items
    ready = {row["kol_id"] for row in await conn.fetch(queries.PAYOUT_READY, list(asked))}
    return [
        (intent, event_id)
        for intent, event_id in items
        if intent.kind is not NotificationKind.PAYOUT_ACCOUNT_INCOMPLETE
        or intent.kol_id not in ready
    ]


async def derive(
    conn: asyncpg.Connection, settings: Settings, batch: int = BATCH
) -> tuple[int, int]:
    """Turn up to `batch` new events into notifications: (events read, notifications
    recorded); (0, 0) when another worker has the turn."""
    async with conn.transaction():
        if not await conn.fetchval(queries.TRY_LOCK):
            return 0, 0
        rows = await conn.fetch(queries.READ_EVENTS, batch, sources.TYPES)
        if not rows:
            return 0, 0
        items = await _needed(conn, sources.coalesce_held(_intents(rows)))
        made = await record.record(conn, settings, items)
        await conn.execute(queries.MOVE_POSITION, rows[-1]["xid"], rows[-1]["id"])
    if made:
        log.info("notifications_recorded", events=len(rows), notifications=made)
    return len(rows), made


async def derive_all(conn: asyncpg.Connection, settings: Settings, batch: int = BATCH) -> int:
    """Derive until no new event is left; returns the notifications recorded."""
    made = 0
    while True:
        read, recorded = await derive(conn, settings, batch)
        made += recorded
        if read < batch:
            return made
