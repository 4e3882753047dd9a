"""Readers of the events never skip an event whose transaction committed after a later
event's: the feed's cursor and the webhook fan-out both hand out events in commit order.

Two real transactions interleave: the first writes an event and stays open while the second
writes a later event and commits. A reader that remembered "the last id" would move past the
first event before it committed and never see it.
"""

import asyncio
import uuid

import asyncpg

from contracts.events import BriefClosed
from services import database, events
from services.actors import Caller
from services.feed import service as feed
from services.webhooks import fanout
from tests.helpers import Client, merchant
from tests.webhooks.conftest import WAIT, Receiver
from tests.webhooks.support import endpoint

DELIVERED_EVENTS = "SELECT event_id FROM webhook_deliveries WHERE endpoint_id = $1"


async def _write(conn: asyncpg.Connection, merchant_id: uuid.UUID) -> int:
    brief_id = uuid.uuid4()
    await events.append(
        conn, BriefClosed(brief_id=brief_id, merchant_id=merchant_id),
        aggregate_id=brief_id, merchant_id=merchant_id,
    )  # fmt: skip
    ident: int = await conn.fetchval("SELECT max(id) FROM events WHERE aggregate_id = $1", brief_id)
    return ident


async def test_an_event_committed_late_is_not_skipped_by_the_feed_or_the_fan_out(
    hook_client: Client, receiver: Receiver, database_url: str, db
) -> None:
    owner = await merchant(hook_client)
    merchant_id = uuid.UUID(owner.me["merchant_id"])
    caller = Caller(kind="merchant", merchant_id=merchant_id, member_role="owner")
    created = await endpoint(hook_client, owner, receiver.url(f"/order/{uuid.uuid4().hex}"))
    await fanout.fan_out_all(db)
    page = await feed.list_events(db, caller, feed.EventQuery(), None, 100)
    cursor = page.next_cursor

    first, second = await database.connect(database_url), await database.connect(database_url)
    try:
        slow = first.transaction()
        await slow.start()
        early = await _write(first, merchant_id)  # the lower id, committed last
        async with second.transaction():
            late = await _write(second, merchant_id)
        assert early < late

        # While the first is open, readers move on from what they saw...
        seen = await feed.list_events(db, caller, feed.EventQuery(), cursor, 100)
        assert seen.items == []  # the committed later event waits for the earlier one
        await fanout.fan_out_all(db)
        await slow.commit()
    finally:
        await first.close()
        await second.close()

    # ...and still find both events once it committed (as soon as no older transaction on
    # the server is open: another session's can hold them back for a while).
    ids = [e.id for e in seen.items]
    cursor = seen.next_cursor
    recorded: set[int] = set()
    async with asyncio.timeout(WAIT):
        while len(ids) < 2 or len(recorded) < 2:
            page = await feed.list_events(db, caller, feed.EventQuery(), cursor, 100)
            ids, cursor = ids + [e.id for e in page.items], page.next_cursor
            await fanout.fan_out_all(db)
            found = await db.fetch(DELIVERED_EVENTS, uuid.UUID(created["id"]))
            recorded = {r["event_id"] for r in found}
            await asyncio.sleep(0.05)
    assert ids == [early, late]
    assert recorded == {early, late}
