"""Offers lapse at their deadline: the worker's job expires them once each, with their event,
however many workers run it at the same time."""

import asyncio
import uuid
from types import SimpleNamespace
from typing import Any

import asyncpg

from services import database
from services.negotiation.jobs import blueprint, expire_offers
from services.negotiation.service import expire_due
from services.worker.app import BLUEPRINTS
from tests.helpers import Client
from tests.negotiation.conftest import Parties
from tests.negotiation.support import events_of, invite, open_brief


async def _lapse(db: asyncpg.Connection, offers: list[dict[str, Any]]) -> None:
    await db.execute(
        "UPDATE offers SET expires_at = now() - interval '1 second' WHERE id = any($1::uuid[])",
        [uuid.UUID(o["id"]) for o in offers],
    )


async def _status(db: asyncpg.Connection, offer: dict[str, Any]) -> str:
    return await db.fetchval("SELECT status FROM offers WHERE id = $1", uuid.UUID(offer["id"]))


async def test_offers_past_their_deadline_expire_once_with_their_event(
    client: Client, db, parties: Parties
) -> None:
    brief = await open_brief(client, parties.merchant)
    due = await invite(client, parties.merchant, brief["id"], parties.kol)
    not_yet = await invite(client, parties.merchant, brief["id"], parties.other_kol)
    await _lapse(db, [due])

    assert await expire_due(db, batch_size=1) >= 1
    assert await expire_due(db) == 0

    seen = await client.get(f"/v1/offers/{due['id']}", headers=parties.kol.headers)
    assert (seen.json()["status"], seen.json()["awaiting"]) == ("expired", None)
    assert await events_of(db, due["id"]) == ["offer.created", "offer.expired"]
    assert await _status(db, not_yet) == "open"
    brief_now = await client.get(f"/v1/briefs/{brief['id']}", headers=parties.merchant.headers)
    assert brief_now.json()["reserved"] == 55_000


async def test_workers_expiring_at_the_same_time_expire_each_offer_once(
    client: Client, db, database_url: str, parties: Parties
) -> None:
    offers = []
    for _ in range(30):
        brief = await open_brief(client, parties.merchant)
        offers.append(await invite(client, parties.merchant, brief["id"], parties.kol))
    await _lapse(db, offers)
    pool = await database.create_pool(database_url, min_size=4, max_size=4)
    try:

        async def worker() -> int:
            async with pool.acquire() as conn:
                return await expire_due(conn, batch_size=3)

        counts = await asyncio.gather(*(worker() for _ in range(4)))
    finally:
        await pool.close()
    assert sum(counts) >= len(offers)
    for offer in offers:
        assert await _status(db, offer) == "expired"
        assert await events_of(db, offer["id"]) == ["offer.created", "offer.expired"]


async def test_the_periodic_expiry_job_is_registered_and_expires_due_offers(
    client: Client, db, database_url: str, parties: Parties
) -> None:
    assert BLUEPRINTS["negotiation"] is blueprint
    assert any(p.task is expire_offers for p in blueprint.periodic_registry.periodic_tasks.values())
    brief = await open_brief(client, parties.merchant)
    offer = await invite(client, parties.merchant, brief["id"], parties.kol)
    await _lapse(db, [offer])
    pool = await database.create_pool(database_url, min_size=1, max_size=1)
    try:
        # The worker calls the task with its context, which carries the shared pool.
        context = SimpleNamespace(additional_context={"pool": pool})
        assert await expire_offers.func(context, timestamp=0) >= 1
    finally:
        await pool.close()
    assert await _status(db, offer) == "expired"
    assert await events_of(db, offer["id"]) == ["offer.created", "offer.expired"]
