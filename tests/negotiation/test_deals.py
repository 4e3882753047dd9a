"""Deals: made by an acceptance, with frozen terms whose SHA-256 either side can recompute, read
by both sides and by the merchant's partners with `deals:read`, and by no one else."""

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from tests.helpers import Client, api_key
from tests.negotiation.conftest import Parties
from tests.negotiation.support import answer, counter, events_of, invite, open_brief


def _canonical(terms: dict[str, Any]) -> bytes:
    return json.dumps(terms, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


async def _deal(client: Client, parties: Parties) -> tuple[dict[str, Any], dict[str, Any]]:
    """A deal on the KOL's counter (revision 2), accepted by the merchant."""
    brief = await open_brief(client, parties.merchant)
    offer = await invite(client, parties.merchant, brief["id"], parties.kol)
    countered = (await counter(client, parties.kol, offer, 62_345)).json()
    accepted = await answer(client, parties.merchant, countered, "accept", 2)
    assert accepted.status_code == 200, accepted.text
    return countered, accepted.json()


async def test_accepting_makes_a_deal_with_frozen_terms_and_their_fingerprint(
    client: Client, db, parties: Parties
) -> None:
    offer, deal = await _deal(client, parties)
    assert deal["status"] == "awaiting_funding"
    assert deal["offer_id"] == offer["id"]
    frozen = deal["terms"]
    assert frozen["revision"] == 2
    assert frozen["fixed_fee"] == 62_345
    # 62 345 × 10 % = 6 234.5, rounded half to even.
    assert frozen["platform_fee"] == 6_234
    assert frozen["merchant_pays"] == 68_579
    assert frozen["deliverables"] == offer["revisions"][1]["terms"]["deliverables"]
    assert deal["terms_sha256"] == hashlib.sha256(_canonical(frozen)).hexdigest()
    proposed_at = datetime.fromisoformat(offer["revisions"][1]["created_at"])
    assert datetime.fromisoformat(deal["kol_accepted_at"]) == proposed_at
    assert datetime.fromisoformat(deal["merchant_accepted_at"]) > proposed_at
    closed = (await client.get(f"/v1/offers/{offer['id']}", headers=parties.kol.headers)).json()
    assert (closed["status"], closed["deal_id"], closed["awaiting"]) == (
        "accepted",
        deal["id"],
        None,
    )
    assert await events_of(db, offer["id"]) == [
        "offer.created",
        "offer.countered",
        "offer.accepted",
    ]
    assert await events_of(db, deal["id"]) == ["deal.created"]
    payload = await db.fetchval(
        "SELECT payload FROM events WHERE aggregate_id = $1", uuid.UUID(deal["id"])
    )
    assert payload["terms_sha256"] == deal["terms_sha256"]


async def test_both_sides_and_the_merchants_partner_read_the_deal(
    client: Client, parties: Parties
) -> None:
    _, deal = await _deal(client, parties)
    url = f"/v1/deals/{deal['id']}"
    reader = {"X-API-Key": await api_key(client, parties.merchant, "deals:read")}
    for headers in (parties.merchant.headers, parties.kol.headers, reader):
        seen = await client.get(url, headers=headers)
        assert seen.status_code == 200
        assert seen.json() == deal
        listed = await client.get("/v1/deals", params={"limit": 100}, headers=headers)
        assert deal["id"] in {d["id"] for d in listed.json()["items"]}


async def test_no_one_else_reads_the_deal(client: Client, parties: Parties) -> None:
    _, deal = await _deal(client, parties)
    url = f"/v1/deals/{deal['id']}"
    for stranger in (parties.other_merchant, parties.other_kol):
        assert (await client.get(url, headers=stranger.headers)).status_code == 404
        listed = await client.get("/v1/deals", headers=stranger.headers)
        assert deal["id"] not in {d["id"] for d in listed.json()["items"]}
    other_partner = {"X-API-Key": await api_key(client, parties.other_merchant, "deals:read")}
    assert (await client.get(url, headers=other_partner)).status_code == 404
    unscoped = {"X-API-Key": await api_key(client, parties.merchant, "conversions:write")}
    assert (await client.get(url, headers=unscoped)).status_code == 403


async def test_deals_are_listed_newest_first_in_cursor_pages(
    client: Client, parties: Parties
) -> None:
    made = [(await _deal(client, parties))[1]["id"] for _ in range(3)]
    seen: list[str] = []
    cursor = None
    while len(seen) < 3:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/deals", params=params, headers=parties.kol.headers)).json()
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
    assert seen[:3] == made[::-1]
