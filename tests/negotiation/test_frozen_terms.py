"""What both sides agreed to stays as agreed: the database refuses any change to a deal's frozen
fields and to the offer revisions it was negotiated through, while the deal's status still moves.

These tests write SQL past the product's own functions on purpose: the promise holds for any
statement, not only for the code paths that exist today."""

import uuid
from typing import Any

import asyncpg
import pytest

from tests.helpers import Client
from tests.negotiation.conftest import Parties
from tests.negotiation.support import answer, counter, invite, open_brief

# A new value for each frozen field; each would pass the column's own constraints.
CHANGES = {
    "offer_id": "gen_random_uuid()",
    "revision": "revision + 1",
    "brief_id": "gen_random_uuid()",
    "merchant_id": "gen_random_uuid()",
    "kol_id": "gen_random_uuid()",
    "terms": "terms || '{\"fixed_fee\": 1}'::jsonb",
    "terms_sha256": "repeat('0', 64)",
    "merchant_pays": "merchant_pays + 1",
    "currency": "'EUR'",
    "merchant_accepted_at": "merchant_accepted_at + interval '1 second'",
    "kol_accepted_at": "kol_accepted_at - interval '1 second'",
}
FROZEN = ", ".join(CHANGES)


async def _deal(client: Client, parties: Parties) -> dict[str, Any]:
    brief = await open_brief(client, parties.merchant)
    offer = await invite(client, parties.merchant, brief["id"], parties.kol)
    accepted = await answer(client, parties.kol, offer, "accept", 1)
    assert accepted.status_code == 200, accepted.text
    deal: dict[str, Any] = accepted.json()
    return deal


async def _frozen(db: asyncpg.Connection, deal_id: uuid.UUID) -> asyncpg.Record:
    return await db.fetchrow(f"SELECT {FROZEN} FROM deals WHERE id = $1", deal_id)


@pytest.fixture(scope="module")
async def deal(client: Client, parties: Parties) -> dict[str, Any]:
    return await _deal(client, parties)


@pytest.mark.parametrize("column", list(CHANGES))
async def test_a_deals_frozen_field_can_never_be_updated(
    db: asyncpg.Connection, deal: dict[str, Any], column: str
) -> None:
    deal_id = uuid.UUID(deal["id"])
    before = await _frozen(db, deal_id)

    with pytest.raises(asyncpg.RestrictViolationError, match=f"{column} cannot change"):
        await db.execute(f"UPDATE deals SET {column} = {CHANGES[column]} WHERE id = $1", deal_id)

    assert await _frozen(db, deal_id) == before


async def test_changing_several_frozen_fields_names_each_of_them(
    db: asyncpg.Connection, deal: dict[str, Any]
) -> None:
    sql = "UPDATE deals SET merchant_pays = 0, status = 'funded', currency = 'JPY' WHERE id = $1"
    with pytest.raises(asyncpg.RestrictViolationError, match="currency, merchant_pays cannot"):
        await db.execute(sql, uuid.UUID(deal["id"]))
    assert await db.fetchval("SELECT status FROM deals WHERE id = $1", uuid.UUID(deal["id"])) == (
        "awaiting_funding"
    )


async def test_a_deals_status_and_approval_still_move(
    client: Client, db: asyncpg.Connection, parties: Parties
) -> None:
    deal = await _deal(client, parties)
    deal_id = uuid.UUID(deal["id"])
    before = await _frozen(db, deal_id)

    await db.execute(
        "UPDATE deals SET status = 'approved', approved_at = now(), updated_at = now(),"
        " terms = terms, currency = currency WHERE id = $1",  # the same values change nothing
        deal_id,
    )
    moved = await db.fetchrow("SELECT status, approved_at FROM deals WHERE id = $1", deal_id)
    assert moved["status"] == "approved"
    assert moved["approved_at"] is not None
    assert await _frozen(db, deal_id) == before


async def test_cancelling_a_deal_still_moves_its_status(
    client: Client, db: asyncpg.Connection, parties: Parties
) -> None:
    deal = await _deal(client, parties)

    cancelled = await client.post(
        f"/v1/deals/{deal['id']}/cancel", headers=parties.merchant.headers
    )

    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert cancelled.json()["terms_sha256"] == deal["terms_sha256"]


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE offer_revisions SET terms = terms || '{\"fixed_fee\": 1}'::jsonb"
        " WHERE offer_id = $1",
        "UPDATE offer_revisions SET message = 'edited later' WHERE offer_id = $1",
        "UPDATE offer_revisions SET proposed_by_user = NULL WHERE offer_id = $1",
        "DELETE FROM offer_revisions WHERE offer_id = $1",
        "DELETE FROM offers WHERE id = $1",  # the revisions would go with it
    ],
)
async def test_offer_revisions_can_never_be_updated_or_deleted(
    client: Client, db: asyncpg.Connection, parties: Parties, sql: str
) -> None:
    brief = await open_brief(client, parties.merchant)
    offer = await invite(client, parties.merchant, brief["id"], parties.kol)
    offer_id = uuid.UUID(offer["id"])
    revisions = "SELECT number, terms, message FROM offer_revisions WHERE offer_id = $1"
    before = await db.fetch(revisions, offer_id)

    with pytest.raises(asyncpg.RestrictViolationError, match="offer_revisions"):
        await db.execute(sql, offer_id)

    assert await db.fetch(revisions, offer_id) == before
    countered = await counter(client, parties.kol, offer, 61_000)
    assert countered.status_code == 200, countered.text
    assert [r["number"] for r in await db.fetch(revisions, offer_id)] == [1, 2]
