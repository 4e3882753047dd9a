"""Funding: one PaymentIntent per deal for creator fee + platform fee; the verified
`payment_intent.succeeded` webhook marks the deal funded and books its escrow, exactly once,
whatever the order or repetition of Stripe's deliveries."""

import asyncio
import uuid

import pytest
import stripe

from services.actors import Caller
from services.payments import service
from services.payments.gateway import StripeLibraryGateway
from services.payments.operations import Unsettled
from services.settings import Settings
from tests.helpers import Client
from tests.negotiation.support import events_of
from tests.payments.conftest import Inbox, Sides
from tests.payments.support import (
    PROBLEM,
    accepted_deal,
    deal_status,
    deliver,
    funded_deal,
    pay,
    start_funding,
)

FUNDING_ENTRIES = "SELECT count(*) FROM journal_entries WHERE deal_id = $1 AND kind = 'funding'"


async def test_funding_makes_one_payment_intent_for_creator_fee_plus_platform_fee(
    pay_client: Client, sides: Sides, stripe_api: stripe.StripeClient
) -> None:
    deal = await accepted_deal(pay_client, sides.merchant, sides.kol)

    first = await start_funding(pay_client, sides.merchant, deal["id"])
    again = await start_funding(pay_client, sides.merchant, deal["id"])

    assert again == first
    assert first["amount"] == deal["terms"]["fixed_fee"] + deal["terms"]["platform_fee"]
    intent = await stripe_api.v1.payment_intents.retrieve_async(first["payment_intent_id"])
    assert (intent.amount, intent.currency) == (first["amount"], "usd")
    assert intent.transfer_group == f"deal_{deal['id']}"
    assert first["client_secret"] == intent.client_secret
    assert first["status"] == "pending"


async def test_only_the_deals_merchant_can_fund_it(pay_client: Client, sides: Sides) -> None:
    deal = await accepted_deal(pay_client, sides.merchant, sides.kol)
    url = f"/v1/deals/{deal['id']}/funding"

    stranger = await pay_client.post(url, headers=sides.other_merchant.headers)
    creator = await pay_client.post(url, headers=sides.kol.headers)

    assert (stranger.status_code, stranger.headers["content-type"]) == (404, PROBLEM)
    assert creator.status_code == 403


async def test_succeeded_webhook_funds_the_deal_and_books_escrow(
    pay_client: Client, sides: Sides, stripe_api: stripe.StripeClient, inbox: Inbox, db
) -> None:
    deal = await funded_deal(pay_client, stripe_api, inbox, sides.merchant, sides.kol)

    assert await deal_status(db, deal["id"]) == "funded"
    statement = (
        await pay_client.get(f"/v1/deals/{deal['id']}/statement", headers=sides.kol.headers)
    ).json()
    paid = deal["terms"]["merchant_pays"]
    assert (statement["funded"], statement["in_escrow"], statement["refunded"]) == (paid, paid, 0)
    [entry] = statement["entries"]
    assert entry["kind"] == "funding"
    assert sorted(p["amount"] for p in entry["postings"]) == [-paid, paid]
    assert (await events_of(db, deal["id"]))[-1] == "deal.funded"


async def test_repeated_webhook_is_processed_once(
    pay_client: Client, sides: Sides, stripe_api: stripe.StripeClient, inbox: Inbox, db
) -> None:
    deal = await accepted_deal(pay_client, sides.merchant, sides.kol)
    funding = await start_funding(pay_client, sides.merchant, deal["id"])
    await pay(stripe_api, funding["payment_intent_id"])
    body, signature = await inbox.wait_for("payment_intent.succeeded", funding["payment_intent_id"])

    first = await deliver(pay_client, body, signature)
    second = await deliver(pay_client, body, signature)

    assert first.json() == {"received": True, "duplicate": False}
    assert (second.status_code, second.json()) == (200, {"received": True, "duplicate": True})
    assert await db.fetchval(FUNDING_ENTRIES, uuid.UUID(deal["id"])) == 1
    assert (await events_of(db, deal["id"])).count("deal.funded") == 1


async def test_webhook_without_a_valid_signature_is_rejected_and_not_stored(
    pay_client: Client, sides: Sides, stripe_api: stripe.StripeClient, inbox: Inbox, db
) -> None:
    deal = await accepted_deal(pay_client, sides.merchant, sides.kol)
    funding = await start_funding(pay_client, sides.merchant, deal["id"])
    await pay(stripe_api, funding["payment_intent_id"])
    body, signature = await inbox.wait_for("payment_intent.succeeded", funding["payment_intent_id"])
    event_id = stripe.Webhook.construct_event(body, signature, "whsec_kolmarket_local_peer").id

    tampered = await deliver(pay_client, body.replace(b'"succeeded"', b'"succeeded" '), signature)
    unsigned = await deliver(pay_client, body, "")

    assert (tampered.status_code, tampered.headers["content-type"]) == (401, PROBLEM)
    assert unsigned.status_code == 401
    assert await db.fetchval("SELECT count(*) FROM stripe_events WHERE id = $1", event_id) == 0
    assert await deal_status(db, deal["id"]) == "awaiting_funding"


async def test_success_for_an_unknown_payment_is_acknowledged_and_changes_nothing(
    pay_client: Client, stripe_api: stripe.StripeClient, inbox: Inbox, db
) -> None:
    params = {"amount": 777, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    intent = await stripe_api.v1.payment_intents.create_async(params)
    body, signature = await inbox.wait_for("payment_intent.succeeded", intent.id)
    entries_before = await db.fetchval("SELECT count(*) FROM journal_entries")

    answer = await deliver(pay_client, body, signature)

    assert answer.json() == {"received": True, "duplicate": False}
    assert await db.fetchval("SELECT count(*) FROM journal_entries") == entries_before


async def test_declined_card_leaves_deal_unfunded_then_another_card_funds_it(
    pay_client: Client, sides: Sides, stripe_api: stripe.StripeClient, inbox: Inbox, db
) -> None:
    deal = await accepted_deal(pay_client, sides.merchant, sides.kol)
    intent_id = (await start_funding(pay_client, sides.merchant, deal["id"]))["payment_intent_id"]
    with pytest.raises(stripe.CardError):
        await pay(stripe_api, intent_id, "pm_card_visa_chargeDeclined")
    failed = await inbox.wait_for("payment_intent.payment_failed", intent_id)
    await deliver(pay_client, *failed)
    assert (await start_funding(pay_client, sides.merchant, deal["id"]))["status"] == "failed"
    assert await deal_status(db, deal["id"]) == "awaiting_funding"

    await pay(stripe_api, intent_id)
    succeeded = await inbox.wait_for("payment_intent.succeeded", intent_id)
    await deliver(pay_client, *succeeded)
    await deliver(pay_client, *failed)  # a late repeat of the failure changes nothing

    assert (await start_funding(pay_client, sides.merchant, deal["id"]))["status"] == "succeeded"
    assert await deal_status(db, deal["id"]) == "funded"
    assert await db.fetchval(FUNDING_ENTRIES, uuid.UUID(deal["id"])) == 1


class CrashAfterStripe(StripeLibraryGateway):
    """Stripe answers, then the connection dies before its answer arrives."""

    made: list[str]

    async def create_payment_intent(self, params, idempotency_key):  # type: ignore[no-untyped-def]
        intent = await super().create_payment_intent(params, idempotency_key)
        self.made.append(intent.id)
        raise ConnectionResetError("crashed before commit")


async def test_retry_after_a_crash_gets_the_same_payment_intent(
    pay_client: Client, sides: Sides, payments_settings: Settings, db, pool
) -> None:
    deal = await accepted_deal(pay_client, sides.merchant, sides.kol)
    caller = Caller(kind="merchant", merchant_id=uuid.UUID(sides.merchant.me["merchant_id"]))
    crashing = CrashAfterStripe(payments_settings)
    crashing.made = []
    try:
        with pytest.raises(Unsettled):
            await service.fund(pool, crashing, caller, uuid.UUID(deal["id"]))
    finally:
        await crashing.close()
    assert (
        await db.fetchval(
            "SELECT count(*) FROM deal_fundings WHERE deal_id = $1", uuid.UUID(deal["id"])
        )
        == 0
    )

    retried = await start_funding(pay_client, sides.merchant, deal["id"])

    assert retried["payment_intent_id"] == crashing.made[0]


async def test_two_concurrent_funding_requests_make_one_payment_intent(
    pay_client: Client, sides: Sides
) -> None:
    deal = await accepted_deal(pay_client, sides.merchant, sides.kol)
    url = f"/v1/deals/{deal['id']}/funding"

    answers = await asyncio.gather(
        *(pay_client.post(url, headers=sides.merchant.headers) for _ in range(4))
    )

    assert [a.status_code for a in answers] == [200] * 4
    assert len({a.json()["payment_intent_id"] for a in answers}) == 1
