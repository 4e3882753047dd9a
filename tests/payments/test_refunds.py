"""Cancellation and refunds: before funding a deal is simply cancelled; funded, before
delivery, the merchant gets everything back once; in a dispute an operator refunds a part."""

import uuid

import stripe

from services.accounts.service import ensure_operator
from tests.helpers import Client, login, unique_email
from tests.negotiation.support import events_of
from tests.payments.conftest import Inbox, Sides
from tests.payments.support import (
    accepted_deal,
    deal_status,
    funded_deal,
    set_deal_status,
    start_funding,
)


async def _operator(client: Client, db):
    email = unique_email("operator")
    await ensure_operator(db, email, "operator pass 123")
    return await login(client, email, "operator pass 123")


async def test_cancelling_before_funding_moves_no_money(pay_client: Client, sides: Sides, db):
    deal = await accepted_deal(pay_client, sides.merchant, sides.kol)

    cancelled = await pay_client.post(
        f"/v1/deals/{deal['id']}/cancel", headers=sides.merchant.headers
    )

    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert (await events_of(db, deal["id"]))[-1] == "deal.cancelled"
    refused = await pay_client.post(
        f"/v1/deals/{deal['id']}/funding", headers=sides.merchant.headers
    )
    assert refused.status_code == 409


async def test_cancelling_an_unpaid_deal_cancels_its_payment_intent(
    pay_client: Client, sides: Sides, stripe_api: stripe.StripeClient
) -> None:
    deal = await accepted_deal(pay_client, sides.merchant, sides.kol)
    intent_id = (await start_funding(pay_client, sides.merchant, deal["id"]))["payment_intent_id"]

    cancelled = await pay_client.post(
        f"/v1/deals/{deal['id']}/cancel", headers=sides.merchant.headers
    )

    assert cancelled.json()["status"] == "cancelled"
    intent = await stripe_api.v1.payment_intents.retrieve_async(intent_id)
    assert intent.status == "canceled"
    again = await pay_client.post(f"/v1/deals/{deal['id']}/funding", headers=sides.merchant.headers)
    assert again.status_code == 409


async def test_cancelling_a_funded_deal_refunds_the_merchant_in_full_once(
    pay_client: Client, sides: Sides, stripe_api: stripe.StripeClient, inbox: Inbox, db
) -> None:
    deal = await funded_deal(pay_client, stripe_api, inbox, sides.merchant, sides.kol)
    url = f"/v1/deals/{deal['id']}/cancel"

    first = await pay_client.post(url, headers=sides.merchant.headers)
    again = await pay_client.post(url, headers=sides.merchant.headers)

    assert (first.status_code, first.json()["status"]) == (200, "refunded")
    assert again.status_code == 409
    statement = (
        await pay_client.get(f"/v1/deals/{deal['id']}/statement", headers=sides.merchant.headers)
    ).json()
    paid = deal["terms"]["merchant_pays"]
    assert (statement["refunded"], statement["in_escrow"]) == (paid, 0)
    [refund] = statement["refunds"]
    intent_id = await db.fetchval(
        "SELECT payment_intent_id FROM deal_fundings WHERE deal_id = $1", uuid.UUID(deal["id"])
    )
    intent = await stripe_api.v1.payment_intents.retrieve_async(
        intent_id, {"expand": ["latest_charge"]}
    )
    assert intent.latest_charge.amount_refunded == paid
    assert refund["amount"] == paid and refund["reason"] == "cancelled"
    assert (await events_of(db, deal["id"]))[-1] == "deal.refunded"


async def test_kol_and_other_merchants_cannot_cancel(pay_client: Client, sides: Sides) -> None:
    deal = await accepted_deal(pay_client, sides.merchant, sides.kol)
    url = f"/v1/deals/{deal['id']}/cancel"

    assert (await pay_client.post(url, headers=sides.kol.headers)).status_code == 403
    assert (await pay_client.post(url, headers=sides.other_merchant.headers)).status_code == 404


async def test_delivered_deal_cannot_be_cancelled(
    pay_client: Client, sides: Sides, stripe_api: stripe.StripeClient, inbox: Inbox, db
) -> None:
    deal = await funded_deal(pay_client, stripe_api, inbox, sides.merchant, sides.kol)
    await set_deal_status(db, deal["id"], "content_submitted")

    refused = await pay_client.post(
        f"/v1/deals/{deal['id']}/cancel", headers=sides.merchant.headers
    )

    assert refused.status_code == 409
    assert await deal_status(db, deal["id"]) == "content_submitted"
