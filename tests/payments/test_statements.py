"""Statements: both sides of a deal and the merchant's partners read every line of its money;
no one else learns it exists."""

import stripe

from tests.helpers import Client, api_key
from tests.payments.conftest import Inbox, Sides
from tests.payments.support import PROBLEM, funded_deal


async def test_statement_is_shown_to_both_sides_and_partners_only(
    pay_client: Client, sides: Sides, stripe_api: stripe.StripeClient, inbox: Inbox
) -> None:
    deal = await funded_deal(pay_client, stripe_api, inbox, sides.merchant, sides.kol)
    url = f"/v1/deals/{deal['id']}/statement"
    partner = {"X-API-Key": await api_key(pay_client, sides.merchant, "deals:read")}
    outsider = {"X-API-Key": await api_key(pay_client, sides.other_merchant, "deals:read")}

    seen = [
        await pay_client.get(url, headers=h)
        for h in (sides.merchant.headers, sides.kol.headers, partner)
    ]
    hidden = [
        await pay_client.get(url, headers=h) for h in (sides.other_merchant.headers, outsider)
    ]

    assert [r.status_code for r in seen] == [200, 200, 200]
    assert seen[0].json() == seen[1].json() == seen[2].json()
    terms = deal["terms"]
    statement = seen[0].json()
    assert (statement["creator_fee"], statement["platform_fee"]) == (
        terms["fixed_fee"],
        terms["platform_fee"],
    )
    assert statement["merchant_pays"] == terms["fixed_fee"] + terms["platform_fee"]
    for entry in statement["entries"]:
        assert sum(p["amount"] for p in entry["postings"]) == 0
    assert [(r.status_code, r.headers["content-type"]) for r in hidden] == [(404, PROBLEM)] * 2
