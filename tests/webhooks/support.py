"""Helpers of the webhook tests: registering an endpoint and making events happen."""

import asyncio
from typing import Any

import asyncpg

from services.webhooks.pump import Pump
from tests.helpers import Account, Client
from tests.negotiation.support import open_brief
from tests.webhooks.conftest import WAIT


async def endpoint(client: Client, owner: Account, url: str, **fields: Any) -> dict[str, Any]:
    response = await client.post(
        "/v1/webhook-endpoints", json={"url": url, **fields}, headers=owner.headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def published_brief(client: Client, owner: Account) -> str:
    """Publish a brief of `owner`: one `brief.published` event of its merchant."""
    brief: dict[str, Any] = await open_brief(client, owner)
    brief_id: str = brief["id"]
    return brief_id


# Whether the fan-out's position has passed event $1.
PASSED = """
    SELECT (e.xid, e.id) <= (f.xid, f.event_id) FROM events e, webhook_fanout f WHERE e.id = $1
"""


async def deliver(pump: Pump, db: asyncpg.Connection) -> None:
    """Run the pump until every event written so far was fanned out and everything due sent.

    An event becomes readable once every older transaction on the server has ended, so a
    long transaction elsewhere holds it back for a while: wait for it (bounded)."""
    last = await db.fetchval("SELECT max(id) FROM events")
    async with asyncio.timeout(WAIT):
        while True:
            await pump.drain()
            if last is None or await db.fetchval(PASSED, last):
                await pump.drain()
                return
            await asyncio.sleep(0.05)
