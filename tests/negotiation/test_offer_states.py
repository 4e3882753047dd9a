"""The offer state machine over HTTP: every transition, allowed and refused, for each side."""

from typing import Any

import pytest

from services.negotiation.service import expire_due
from tests.helpers import Account, Client, api_key
from tests.negotiation.conftest import Parties
from tests.negotiation.support import (
    PROBLEM,
    answer,
    counter,
    events_of,
    invite,
    open_brief,
    terms,
)

VERBS = ("accept", "counter", "decline", "withdraw")
# After each allowed verb: the offer's status and the event it appends.
OUTCOME = {
    "accept": ("accepted", "offer.accepted"),
    "counter": ("open", "offer.countered"),
    "decline": ("declined", "offer.declined"),
    "withdraw": ("withdrawn", "offer.withdrawn"),
}


async def _apply(client: Client, creator: Account, brief_id: str) -> dict[str, Any]:
    response = await client.post(
        f"/v1/briefs/{brief_id}/applications",
        json={"terms": terms(40_000), "message": "I film skincare every week"},
        headers=creator.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _start(client: Client, parties: Parties, start: str) -> dict[str, Any]:
    """An open offer whose latest revision was proposed as `start` says."""
    brief = await open_brief(client, parties.merchant)
    if start in ("invitation", "kol_counter"):
        offer = await invite(client, parties.merchant, brief["id"], parties.kol)
    else:
        offer = await _apply(client, parties.kol, brief["id"])
    counters = {
        "kol_counter": (parties.kol, 70_000),
        "merchant_counter": (parties.merchant, 45_000),
    }
    if start in counters:
        who, fee = counters[start]
        countered = await counter(client, who, offer, fee)
        assert countered.status_code == 200, countered.text
        offer = countered.json()
    return offer


# Who proposed the latest revision in each starting point.
PROPOSER = {
    "invitation": "merchant",
    "application": "kol",
    "kol_counter": "kol",
    "merchant_counter": "merchant",
}


async def _act(client: Client, who: Account, offer: dict[str, Any], verb: str) -> Any:
    if verb == "counter":
        return await counter(client, who, offer, 55_000)
    return await answer(client, who, offer, verb, offer["latest_revision"])


@pytest.mark.parametrize("verb", VERBS)
@pytest.mark.parametrize("actor", ["merchant", "kol"])
@pytest.mark.parametrize("start", list(PROPOSER))
async def test_each_side_may_do_exactly_what_its_role_allows(
    client: Client, db, parties: Parties, start: str, actor: str, verb: str
) -> None:
    offer = await _start(client, parties, start)
    before = await events_of(db, offer["id"])
    who = parties.merchant if actor == "merchant" else parties.kol
    is_proposer = PROPOSER[start] == actor
    allowed = is_proposer if verb == "withdraw" else not is_proposer

    response = await _act(client, who, offer, verb)

    after = await events_of(db, offer["id"])
    current = (await client.get(f"/v1/offers/{offer['id']}", headers=who.headers)).json()
    if allowed:
        assert response.status_code == 200, response.text
        status, event = OUTCOME[verb]
        assert current["status"] == status
        assert after == [*before, event]
    else:
        assert response.status_code == 409, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["current"]["latest_revision"] == offer["latest_revision"]
        assert after == before
        assert current["status"] == "open"
        assert current["latest_revision"] == offer["latest_revision"]


async def _terminal(client: Client, db, parties: Parties, state: str) -> dict[str, Any]:
    offer = await _start(client, parties, "invitation")
    if state == "accepted":
        assert (await answer(client, parties.kol, offer, "accept", 1)).status_code == 200
    elif state == "declined":
        assert (await answer(client, parties.kol, offer, "decline", 1)).status_code == 200
    elif state == "withdrawn":
        assert (await answer(client, parties.merchant, offer, "withdraw", 1)).status_code == 200
    else:
        await db.execute(
            "UPDATE offers SET expires_at = now() - interval '1 second' WHERE id = $1",
            offer["id"],
        )
        assert await expire_due(db) >= 1
    return offer


@pytest.mark.parametrize("state", ["accepted", "declined", "withdrawn", "expired"])
async def test_a_closed_offer_refuses_every_verb_from_both_sides(
    client: Client, db, parties: Parties, state: str
) -> None:
    offer = await _terminal(client, db, parties, state)
    before = await events_of(db, offer["id"])
    for who in (parties.merchant, parties.kol):
        for verb in VERBS:
            response = await _act(client, who, offer, verb)
            assert response.status_code == 409, (verb, response.text)
            assert response.json()["current"]["status"] == state
    assert await events_of(db, offer["id"]) == before


async def test_kol_cannot_accept_own_counter_offer(client: Client, parties: Parties) -> None:
    offer = await _start(client, parties, "kol_counter")
    response = await answer(client, parties.kol, offer, "accept", 2)
    assert response.status_code == 409
    assert "only the other side" in response.json()["detail"]


async def test_accepting_a_stale_revision_answers_409_with_the_current_one(
    client: Client, parties: Parties
) -> None:
    offer = await _start(client, parties, "kol_counter")
    stale = await answer(client, parties.kol, offer, "accept", 1)
    assert stale.status_code == 409
    assert stale.json()["current"]["latest_revision"] == 2
    also_stale = await answer(client, parties.merchant, offer, "accept", 1)
    assert also_stale.status_code == 409
    assert "not the latest" in also_stale.json()["detail"]
    current = also_stale.json()["current"]
    assert [r["number"] for r in current["revisions"]] == [1, 2]
    accepted = await answer(client, parties.merchant, offer, "accept", current["latest_revision"])
    assert accepted.status_code == 200
    assert accepted.json()["terms"]["fixed_fee"] == 70_000


async def test_an_offer_past_its_deadline_cannot_be_answered_before_the_job_runs(
    client: Client, db, parties: Parties
) -> None:
    offer = await _start(client, parties, "invitation")
    await db.execute(
        "UPDATE offers SET expires_at = now() - interval '1 second' WHERE id = $1", offer["id"]
    )
    response = await answer(client, parties.kol, offer, "accept", 1)
    assert response.status_code == 409
    assert "expired" in response.json()["detail"]
    assert await db.fetchval("SELECT count(*) FROM deals WHERE offer_id = $1", offer["id"]) == 0


async def test_counter_rounds_are_bounded_by_the_brief(client: Client, parties: Parties) -> None:
    brief = await open_brief(client, parties.merchant, max_counter_rounds=2)
    offer = await invite(client, parties.merchant, brief["id"], parties.kol)
    first = await counter(client, parties.kol, offer, 60_000)
    second = await counter(client, parties.merchant, first.json(), 55_000)
    assert (first.status_code, second.status_code) == (200, 200)
    third = await counter(client, parties.kol, second.json(), 58_000)
    assert third.status_code == 409
    assert "counter rounds" in third.json()["detail"]
    assert third.json()["current"]["latest_revision"] == 3
    # Answering the last revision is still possible.
    assert (await answer(client, parties.kol, second.json(), "accept", 3)).status_code == 200


async def test_counter_terms_are_validated_against_the_brief(
    client: Client, parties: Parties
) -> None:
    offer = await _start(client, parties, "invitation")
    bad = terms(
        60_000,
        currency="EUR",
        commission_bp=0,
        commission_cap=100,
        deliverables=[{"kind": "post", "platform": "youtube", "count": 1, "due_by": "2020-01-01"}],
    )
    response = await client.post(
        f"/v1/offers/{offer['id']}/counter",
        json={"revision": 1, "terms": bad},
        headers=parties.kol.headers,
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {
        "terms.currency",
        "terms.commission_cap",
        "terms.deliverables[0].platform",
        "terms.deliverables[0].due_by",
    }


async def test_every_revision_carries_the_same_numbers_for_both_sides(
    client: Client, parties: Parties
) -> None:
    offer = await _start(client, parties, "kol_counter")
    seen = [
        (await client.get(f"/v1/offers/{offer['id']}", headers=who.headers)).json()
        for who in (parties.merchant, parties.kol)
    ]
    assert seen[0] == seen[1]
    latest = seen[0]["revisions"][-1]
    numbers = latest["breakdown"]
    assert latest["proposed_by"] == "kol"
    assert numbers["creator_fee"] == 70_000
    assert numbers["platform_fee"] == 70_000 * numbers["take_rate_bp"] // 10_000
    assert numbers["merchant_pays"] == numbers["creator_fee"] + numbers["platform_fee"]
    amounts = {line["code"]: line["amount"] for line in numbers["lines"]}
    assert amounts["merchant_pays"] == amounts["creator_fee"] + amounts["platform_fee"]
    assert numbers["rate_card_version"]
    assert seen[0]["awaiting"] == "merchant"


async def test_strangers_get_404_and_partners_403_on_offers(
    client: Client, parties: Parties
) -> None:
    offer = await _start(client, parties, "invitation")
    for stranger in (parties.other_merchant, parties.other_kol):
        seen = await client.get(f"/v1/offers/{offer['id']}", headers=stranger.headers)
        assert seen.status_code == 404
        for verb in VERBS:
            assert (await _act(client, stranger, offer, verb)).status_code == 404
    listed = await client.get("/v1/offers", headers=parties.other_kol.headers)
    assert offer["id"] not in {o["id"] for o in listed.json()["items"]}
    secret = await api_key(client, parties.merchant, "deals:read")
    partner = await client.get(f"/v1/offers/{offer['id']}", headers={"X-API-Key": secret})
    assert partner.status_code == 403


async def test_kol_cannot_invite_and_merchant_cannot_apply(
    client: Client, parties: Parties
) -> None:
    brief = await open_brief(client, parties.merchant)
    as_kol = await client.post(
        f"/v1/briefs/{brief['id']}/offers",
        json={"kol_id": parties.other_kol.me["kol_id"], "terms": terms()},
        headers=parties.kol.headers,
    )
    as_merchant = await client.post(
        f"/v1/briefs/{brief['id']}/applications",
        json={"terms": terms()},
        headers=parties.merchant.headers,
    )
    assert (as_kol.status_code, as_merchant.status_code) == (403, 403)


async def test_one_open_offer_per_kol_and_brief(client: Client, parties: Parties) -> None:
    offer = await _start(client, parties, "invitation")
    again = await client.post(
        f"/v1/briefs/{offer['brief_id']}/applications",
        json={"terms": terms()},
        headers=parties.kol.headers,
    )
    assert again.status_code == 409
    assert again.json()["current"]["id"] == offer["id"]
    assert (await answer(client, parties.kol, offer, "decline", 1)).status_code == 200
    reapplied = await client.post(
        f"/v1/briefs/{offer['brief_id']}/applications",
        json={"terms": terms()},
        headers=parties.kol.headers,
    )
    assert reapplied.status_code == 201


async def test_offers_list_each_side_its_own_with_cursor_pages(
    client: Client, parties: Parties
) -> None:
    brief = await open_brief(client, parties.merchant)
    made = {
        (await invite(client, parties.merchant, brief["id"], who))["id"]
        for who in (parties.kol, parties.other_kol)
    }
    for who, expected in ((parties.merchant, made), (parties.kol, None)):
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 1, "brief_id": brief["id"]}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get("/v1/offers", params=params, headers=who.headers)).json()
            seen += [o["id"] for o in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen))
        if expected is not None:
            assert set(seen) == expected
        else:
            assert len(seen) == 1 and seen[0] in made
