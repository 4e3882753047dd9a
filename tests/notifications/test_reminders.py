"""Reminders: an open offer reminds the side that must answer it once, within 24 hours of its
expiry, and never after it lapsed or was answered. Time passes by parameter."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.notifications import reminders
from services.settings import Settings
from tests.helpers import Client, merchant
from tests.negotiation.support import answer, counter, invite, open_brief
from tests.notifications.support import kinds, read_inbox, speaking

COUNT = """
    SELECT count(*) FROM notifications WHERE kind = 'offer_expiring' AND object_id = $1
"""


async def _reminded(db: Any, offer: dict[str, Any]) -> int:
    count: int = await db.fetchval(COUNT, uuid.UUID(offer["id"]))
    return count


async def test_an_offer_reminds_whoever_must_answer_once_a_day_before_it_expires(
    client: Client, db: Any, settings: Settings
) -> None:
    owner, creator = await merchant(client), await speaking(client, "en")
    brief = await open_brief(client, owner, title="Night cream")
    waiting_for_kol = await invite(client, owner, brief["id"], creator)
    other = await speaking(client, "en")
    waiting_for_shop = await invite(client, owner, brief["id"], other)
    countered = await counter(client, other, waiting_for_shop, 70_000)
    assert countered.status_code == 200, countered.text
    expires = datetime.fromisoformat(waiting_for_kol["expires_at"])
    now = datetime.now(UTC)
    assert expires - now > timedelta(days=2)

    await reminders.remind(db, settings, now)
    assert await _reminded(db, waiting_for_kol) == 0
    for at in (expires - timedelta(hours=23), expires - timedelta(hours=1)):
        await reminders.remind(db, settings, at)
    assert await _reminded(db, waiting_for_kol) == 1
    assert await _reminded(db, waiting_for_shop) == 1
    (item, *_) = (await read_inbox(client, creator))["items"]
    assert item["kind"] == "offer_expiring"
    assert item["title"] == "The offer for “Night cream” expires soon"
    assert "offer_expiring" not in await kinds(client, other)  # the shop must answer that one
    assert "offer_expiring" in await kinds(client, owner)


async def test_no_reminder_for_an_answered_or_lapsed_offer(
    client: Client, db: Any, settings: Settings
) -> None:
    owner, creator = await merchant(client), await speaking(client, "en")
    brief = await open_brief(client, owner)
    declined = await invite(client, owner, brief["id"], creator)
    refused = await answer(client, creator, declined, "decline", 1)
    assert refused.status_code == 200, refused.text
    lapsing = await invite(client, owner, brief["id"], await speaking(client, "en"))
    expires = datetime.fromisoformat(lapsing["expires_at"])

    await reminders.remind(db, settings, expires - timedelta(hours=2))
    await reminders.remind(db, settings, expires + timedelta(minutes=1))
    assert await _reminded(db, declined) == 0
    assert await _reminded(db, lapsing) == 1
