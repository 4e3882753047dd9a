"""The fan-out: events become deliveries, one per endpoint that wants them.

It reads the events in commit order below its snapshot's xmin (see
`services.feed.positions`), records the deliveries and moves its position in one
transaction, so an event is recorded for its endpoints exactly once even if the worker dies.
One fan-out runs at a time across all workers (a transaction-scoped advisory lock); the
others skip their turn.
"""

import asyncpg

from services.webhooks import queries

BATCH = 1000


async def fan_out(conn: asyncpg.Connection, batch: int = BATCH) -> tuple[int, int]:
    """Record the deliveries of up to `batch` new events: (events read, deliveries made)."""
    async with conn.transaction():
        if not await conn.fetchval(queries.TRY_LOCK_FANOUT):
            return 0, 0
        row = await conn.fetchrow(queries.FAN_OUT, batch)
    return row["events"], row["deliveries"]


async def fan_out_all(conn: asyncpg.Connection, batch: int = BATCH) -> int:
    """Fan out until no new event is left; returns the deliveries made."""
    made = 0
    while True:
        read, recorded = await fan_out(conn, batch)
        made += recorded
        if read < batch:
            return made
