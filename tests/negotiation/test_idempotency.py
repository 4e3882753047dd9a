"""Idempotency-Key on creates: a replay returns the first answer; a different body with the
same key answers 422; a failed request does not use the key up."""

import asyncio
import json
import uuid
from typing import Any

from tests.helpers import Client
from tests.negotiation.conftest import Parties
from tests.negotiation.support import brief_body, invite, open_brief, terms


def _keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def test_replaying_a_brief_creation_returns_the_first_answer(
    client: Client, db, parties: Parties
) -> None:
    count = "SELECT count(*) FROM briefs WHERE merchant_id = $1"
    merchant_id = uuid.UUID(parties.merchant.me["merchant_id"])
    before = await db.fetchval(count, merchant_id)
    body = json.dumps(brief_body())
    headers = _keyed(parties.merchant.headers, uuid.uuid4().hex)
    headers["Content-Type"] = "application/json"
    first = await client.post("/v1/briefs", content=body, headers=headers)
    replay = await client.post("/v1/briefs", content=body, headers=headers)
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.content == first.content
    assert await db.fetchval(count, merchant_id) == before + 1


async def test_the_same_key_with_another_body_answers_409(client: Client, parties: Parties) -> None:
    key = uuid.uuid4().hex
    headers = _keyed(parties.merchant.headers, key)
    first = await client.post("/v1/briefs", json=brief_body(title="One"), headers=headers)
    other = await client.post("/v1/briefs", json=brief_body(title="Two"), headers=headers)
    assert first.status_code == 201
    assert other.status_code == 409
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_keys_are_scoped_to_the_caller_and_the_path(client: Client, parties: Parties) -> None:
    key = uuid.uuid4().hex
    body = brief_body()
    mine = await client.post("/v1/briefs", json=body, headers=_keyed(parties.merchant.headers, key))
    theirs = await client.post(
        "/v1/briefs", json=body, headers=_keyed(parties.other_merchant.headers, key)
    )
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]
    one = await open_brief(client, parties.merchant)
    two = await open_brief(client, parties.merchant)
    invitation = {"kol_id": parties.kol.me["kol_id"], "terms": terms()}
    headers = _keyed(parties.merchant.headers, key)
    a = await client.post(f"/v1/briefs/{one['id']}/offers", json=invitation, headers=headers)
    b = await client.post(f"/v1/briefs/{two['id']}/offers", json=invitation, headers=headers)
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"]


async def test_concurrent_replays_make_one_offer(client: Client, db, parties: Parties) -> None:
    brief = await open_brief(client, parties.merchant)
    body = json.dumps({"terms": terms()})
    headers = _keyed(parties.kol.headers, uuid.uuid4().hex) | {"Content-Type": "application/json"}
    url = f"/v1/briefs/{brief['id']}/applications"
    answers = await asyncio.gather(
        *(client.post(url, content=body, headers=headers) for _ in range(6))
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.content for a in answers}) == 1
    count = await db.fetchval(
        "SELECT count(*) FROM offers WHERE brief_id = $1", uuid.UUID(brief["id"])
    )
    assert count == 1


async def test_a_replayed_accept_returns_the_same_deal(
    client: Client, db, parties: Parties
) -> None:
    brief = await open_brief(client, parties.merchant)
    offer = await invite(client, parties.merchant, brief["id"], parties.kol)
    headers = _keyed(parties.kol.headers, uuid.uuid4().hex)
    url = f"/v1/offers/{offer['id']}/accept"
    first = await client.post(url, json={"revision": 1}, headers=headers)
    replay = await client.post(url, json={"revision": 1}, headers=headers)
    unkeyed = await client.post(url, json={"revision": 1}, headers=parties.kol.headers)
    assert (first.status_code, replay.status_code, unkeyed.status_code) == (200, 200, 409)
    assert replay.json() == first.json()
    deals = await db.fetchval(
        "SELECT count(*) FROM deals WHERE offer_id = $1", uuid.UUID(offer["id"])
    )
    assert deals == 1


async def test_a_failed_request_leaves_its_key_unused(client: Client, parties: Parties) -> None:
    brief = await open_brief(client, parties.merchant, budget=10_000)
    body: dict[str, Any] = {"kol_id": parties.kol.me["kol_id"], "terms": terms(50_000)}
    headers = _keyed(parties.merchant.headers, uuid.uuid4().hex)
    url = f"/v1/briefs/{brief['id']}/offers"
    refused = await client.post(url, json=body, headers=headers)
    assert refused.status_code == 422
    raised = await client.patch(
        f"/v1/briefs/{brief['id']}", json={"budget": 100_000}, headers=parties.merchant.headers
    )
    assert raised.status_code == 200
    assert (await client.post(url, json=body, headers=headers)).status_code == 201


async def test_an_overlong_key_is_refused(client: Client, parties: Parties) -> None:
    response = await client.post(
        "/v1/briefs", json=brief_body(), headers=_keyed(parties.merchant.headers, "k" * 256)
    )
    assert response.status_code in (400, 422)
    assert response.headers["content-type"].startswith("application/problem+json")
