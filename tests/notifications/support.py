"""Steps of the notification tests: KOLs speaking a language, the consumer and the sender run
to completion, and reading an inbox."""

import asyncio
from datetime import UTC, datetime
from typing import Any

from services.notifications import derive, queries, sending
from services.notifications.mail import mailer_for
from services.notifications.runner import LEASE_MARGIN
from services.settings import Settings
from tests.helpers import Account, Client, kol, login

WAIT = 30.0  # seconds: a guard against hanging, not a measurement


async def speaking(client: Client, *languages: str, name: str = "Creator") -> Account:
    """A KOL whose profile lists `languages`."""
    creator = await kol(client)
    profile = {"display_name": name, "languages": list(languages)}
    saved = await client.put("/v1/kols/me", json=profile, headers=creator.headers)
    assert saved.status_code == 200, saved.text
    return await login(client, creator.email)


async def notify(pool: Any, settings: Settings) -> None:
    """Run the consumer until every event written so far was turned into notifications.

    An event becomes readable once every older transaction on the server has ended, so a
    long transaction elsewhere holds it back for a while: wait for it (bounded)."""
    async with pool.acquire() as conn:
        last = await conn.fetchval("SELECT max(id) FROM events")
        async with asyncio.timeout(WAIT):
            while True:
                await derive.derive_all(conn, settings)
                if last is None or await conn.fetchval(queries.POSITION_PASSED, last):
                    return
                await asyncio.sleep(0.05)


def lease(settings: Settings) -> float:
    return 3 * settings.smtp_timeout_seconds + LEASE_MARGIN


async def send(pool: Any, settings: Settings, now: datetime | None = None) -> int:
    """Send every mail due at `now` through the configured SMTP server."""
    at = now or datetime.now(UTC)
    return await sending.send_due(pool, mailer_for(settings), at, lease(settings))


async def read_inbox(client: Client, who: Account, **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/notifications", params=params, headers=who.headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def kinds(client: Client, who: Account) -> list[str]:
    return [item["kind"] for item in (await read_inbox(client, who, limit=100))["items"]]
