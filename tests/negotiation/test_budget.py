"""A brief's budget: the merchant cannot promise more than is left, and deals never exceed it
unless the merchant raises it. Merchant pays = fixed fee + platform fee (10 % on the default
rate card), so a 50 000 fee holds 55 000 of the budget."""

from typing import Any

from tests.helpers import Client
from tests.negotiation.conftest import Parties
from tests.negotiation.support import answer, counter, open_brief, terms


async def _invite(client: Client, parties: Parties, brief_id: str, who: Any, fee: int) -> Any:
    return await client.post(
        f"/v1/briefs/{brief_id}/offers",
        json={"kol_id": who.me["kol_id"], "terms": terms(fee)},
        headers=parties.merchant.headers,
    )


async def _brief(client: Client, parties: Parties, budget: int) -> dict[str, Any]:
    return await open_brief(client, parties.merchant, budget=budget)


async def _use(client: Client, parties: Parties, brief_id: str) -> tuple[int, int, int]:
    brief = (await client.get(f"/v1/briefs/{brief_id}", headers=parties.merchant.headers)).json()
    return brief["committed"], brief["reserved"], brief["remaining"]


async def test_the_merchant_cannot_send_terms_the_remaining_budget_cannot_cover(
    client: Client, parties: Parties
) -> None:
    brief = await _brief(client, parties, 100_000)
    first = await _invite(client, parties, brief["id"], parties.kol, 50_000)
    assert first.status_code == 201
    assert await _use(client, parties, brief["id"]) == (0, 55_000, 45_000)
    second = await _invite(client, parties, brief["id"], parties.other_kol, 50_000)
    assert second.status_code == 422
    error = second.json()["errors"][0]
    assert error["field"] == "terms.fixed_fee"
    assert "remaining budget is 45000" in error["message"]
    fits = await _invite(client, parties, brief["id"], parties.other_kol, 40_000)
    assert fits.status_code == 201
    assert await _use(client, parties, brief["id"]) == (0, 99_000, 1_000)


async def test_a_withdrawn_or_countered_offer_frees_what_it_held(
    client: Client, parties: Parties
) -> None:
    brief = await _brief(client, parties, 60_000)
    offer = (await _invite(client, parties, brief["id"], parties.kol, 50_000)).json()
    countered = await counter(client, parties.kol, offer, 52_000)
    assert countered.status_code == 200
    # The KOL's counter is not the merchant's promise: nothing is held for it.
    assert await _use(client, parties, brief["id"]) == (0, 0, 60_000)
    other = (await _invite(client, parties, brief["id"], parties.other_kol, 50_000)).json()
    assert await _use(client, parties, brief["id"]) == (0, 55_000, 5_000)
    # Accepting the counter (57 200) does not fit beside the other invitation.
    refused = await answer(client, parties.merchant, countered.json(), "accept", 2)
    assert refused.status_code == 409
    assert "raise the budget" in refused.json()["detail"]
    assert refused.json()["current"]["status"] == "open"
    assert (await answer(client, parties.merchant, other, "withdraw", 1)).status_code == 200
    accepted = await answer(client, parties.merchant, countered.json(), "accept", 2)
    assert accepted.status_code == 200
    assert await _use(client, parties, brief["id"]) == (57_200, 0, 2_800)


async def test_deals_cannot_exceed_the_budget_until_the_merchant_raises_it(
    client: Client, parties: Parties
) -> None:
    brief = await _brief(client, parties, 50_000)
    application = await client.post(
        f"/v1/briefs/{brief['id']}/applications",
        json={"terms": terms(60_000)},
        headers=parties.kol.headers,
    )
    assert application.status_code == 201
    offer = application.json()
    refused = await answer(client, parties.merchant, offer, "accept", 1)
    assert refused.status_code == 409
    merchant_counter = await counter(client, parties.merchant, offer, 60_000)
    assert merchant_counter.status_code == 422
    raised = await client.patch(
        f"/v1/briefs/{brief['id']}", json={"budget": 66_000}, headers=parties.merchant.headers
    )
    assert raised.status_code == 200
    accepted = await answer(client, parties.merchant, offer, "accept", 1)
    assert accepted.status_code == 200
    assert accepted.json()["terms"]["merchant_pays"] == 66_000
    assert await _use(client, parties, brief["id"]) == (66_000, 0, 0)
