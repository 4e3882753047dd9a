"""A deal's money on the merchant's side moves exactly once when Stripe fails: funding, a
cancellation's refund, and a dispute's refund with its clawback, each sent through the app
while Stripe loses its answer, refuses the connection or hangs.

The caller is told the outcome is unconfirmed (503, Retry-After, the operation named);
conflicting requests are refused meanwhile; after reconciliation (or the same request sent
again) Stripe holds one object per movement and the ledger books each once, and the two agree.
"""

import pytest
import stripe

from services.payments import payouts
from tests.helpers import Client
from tests.payments.conftest import Inbox, Sides
from tests.payments.delivery_support import operator
from tests.payments.fault_support import (
    ACTED,
    FAULTS,
    booked,
    books_agree,
    failing,
    funding_intent,
    operation_status,
    payment_intents,
    payout_of,
    ready_kol,
    reconciled,
    refunds,
    refused_while,
    released_deal,
    resolve,
    takedown,
    transfers,
    unconfirmed,
)
from tests.payments.support import (
    accepted_deal,
    deal_status,
    deliver,
    funded_deal,
    pay,
    start_funding,
)
from tests.stripe_peer.faults import FaultProxy

pytestmark = pytest.mark.slow
REFUND_20K = {"outcome": "refund", "refund_amount": 20_000}


@pytest.mark.parametrize("fault", [*FAULTS, "unreachable"])
async def test_a_funding_whose_answer_is_lost_makes_one_payment_intent(
    fault_client: Client, sides: Sides, faults: FaultProxy, stripe_api: stripe.StripeClient,
    inbox: Inbox, db, pool, gateway, fault: str,
) -> None:  # fmt: skip
    deal = await accepted_deal(fault_client, sides.merchant, sides.kol)
    url, merchant = f"/v1/deals/{deal['id']}", sides.merchant.headers

    with failing(faults, fault, "POST", "/v1/payment_intents"):
        answer = await fault_client.post(f"{url}/funding", headers=merchant)

    operation = unconfirmed(answer, "funding")
    assert len(await payment_intents(stripe_api, deal_id=deal["id"])) == ACTED[fault]
    statement = (await fault_client.get(f"{url}/statement", headers=merchant)).json()
    assert statement["funding_status"] == "unknown"
    refused_while(await fault_client.post(f"{url}/cancel", headers=merchant), operation)
    assert await deal_status(db, deal["id"]) == "awaiting_funding"

    await reconciled(pool, gateway)

    assert await operation_status(db, operation["id"]) == "succeeded"
    funding = await start_funding(fault_client, sides.merchant, deal["id"])
    intent_id = funding["payment_intent_id"]
    await pay(stripe_api, intent_id)
    paid = await deliver(fault_client, *await inbox.wait_for("payment_intent.succeeded", intent_id))
    assert paid.status_code == 200, paid.text
    assert [i.id for i in await payment_intents(stripe_api, deal_id=deal["id"])] == [intent_id]
    assert await booked(db, "funding", deal["id"]) == [intent_id]
    assert await deal_status(db, deal["id"]) == "funded"
    await books_agree(pool, gateway, deal["id"])


@pytest.mark.parametrize("fault", FAULTS)
async def test_cancelling_again_while_the_refund_is_unconfirmed_completes_that_refund_once(
    fault_client: Client, sides: Sides, faults: FaultProxy, stripe_api: stripe.StripeClient,
    inbox: Inbox, db, pool, gateway, fault: str,
) -> None:  # fmt: skip
    deal = await funded_deal(fault_client, stripe_api, inbox, sides.merchant, sides.kol)
    intent_id = await funding_intent(db, deal["id"])
    url, merchant = f"/v1/deals/{deal['id']}", sides.merchant.headers

    with failing(faults, fault, "POST", "/v1/refunds"):
        first = await fault_client.post(f"{url}/cancel", headers=merchant)

    operation = unconfirmed(first, "refund")
    assert len(await refunds(stripe_api, intent_id)) == ACTED[fault]
    assert await deal_status(db, deal["id"]) == "refunded"  # decided before Stripe was called
    assert await booked(db, "refund", deal["id"]) == []
    assert (await fault_client.post(f"{url}/funding", headers=merchant)).status_code == 409

    again = await fault_client.post(f"{url}/cancel", headers=merchant)

    assert (again.status_code, again.json()["status"]) == (200, "refunded"), again.text
    assert await operation_status(db, operation["id"]) == "succeeded"
    [refund] = await refunds(stripe_api, intent_id)
    assert refund.amount == deal["terms"]["merchant_pays"]
    assert await booked(db, "refund", deal["id"]) == [refund.id]
    await reconciled(pool, gateway)
    assert [r.id for r in await refunds(stripe_api, intent_id)] == [refund.id]
    await books_agree(pool, gateway, deal["id"])
    assert (await fault_client.post(f"{url}/cancel", headers=merchant)).status_code == 409


async def test_a_refund_nobody_asks_about_again_is_completed_by_reconciliation(
    fault_client: Client, sides: Sides, faults: FaultProxy, stripe_api: stripe.StripeClient,
    inbox: Inbox, db, pool, gateway,
) -> None:  # fmt: skip
    deal = await funded_deal(fault_client, stripe_api, inbox, sides.merchant, sides.kol)
    intent_id = await funding_intent(db, deal["id"])
    with failing(faults, "drop", "POST", "/v1/refunds"):
        first = await fault_client.post(
            f"/v1/deals/{deal['id']}/cancel", headers=sides.merchant.headers
        )
    operation = unconfirmed(first, "refund")

    await reconciled(pool, gateway)

    assert await operation_status(db, operation["id"]) == "succeeded"
    [refund] = await refunds(stripe_api, intent_id)
    assert await booked(db, "refund", deal["id"]) == [refund.id]
    statement = await fault_client.get(
        f"/v1/deals/{deal['id']}/statement", headers=sides.merchant.headers
    )
    assert (statement.json()["refunded"], statement.json()["in_escrow"]) == (refund.amount, 0)
    await books_agree(pool, gateway, deal["id"])


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_dispute_refund_whose_answer_is_lost_refunds_and_claws_back_once(
    fault_client: Client, sides: Sides, faults: FaultProxy, stripe_api: stripe.StripeClient,
    inbox: Inbox, peer_url: str, db, pool, gateway, fault: str,
) -> None:  # fmt: skip
    creator = await ready_kol(fault_client, peer_url)
    deal, pieces, payout = await released_deal(
        fault_client, stripe_api, inbox, db, sides.merchant, creator
    )
    first = (await takedown(fault_client, sides.merchant, deal["id"], pieces[0])).json()
    ops = await operator(fault_client, db)
    intent_id, fee = await funding_intent(db, deal["id"]), deal["terms"]["fixed_fee"]

    with failing(faults, fault, "POST", "/v1/refunds"):
        answer = await resolve(fault_client, ops, first["id"], **REFUND_20K)

    operation = unconfirmed(answer, "refund")
    assert len(await refunds(stripe_api, intent_id)) == ACTED[fault]
    reduced = await payout_of(db, deal["id"])
    assert (reduced["amount"], reduced["status"]) == (fee - 20_000, "scheduled")
    assert len(await booked(db, "clawback", deal["id"])) == 1
    # Meanwhile the reduced payout waits for the refund, and no second refund can start.
    held = await payouts.pay_out(pool, gateway, payout["id"])
    assert (held.status, held.transfer_id) == ("scheduled", None)
    assert operation["id"] in (held.last_error or "")
    assert await transfers(stripe_api, deal["id"]) == []
    second = await takedown(fault_client, sides.merchant, deal["id"], pieces[1])
    assert second.status_code == 201, second.text
    refused_while(
        await resolve(fault_client, ops, second.json()["id"], outcome="refund", refund_amount=100),
        operation,
    )

    await reconciled(pool, gateway)

    [refund] = await refunds(stripe_api, intent_id)
    assert refund.amount == 20_000
    assert await booked(db, "refund", deal["id"]) == [refund.id]
    kept = await resolve(fault_client, ops, second.json()["id"], outcome="pay_kol")
    assert kept.status_code == 200, kept.text
    paid = await payouts.pay_out(pool, gateway, payout["id"])
    assert paid.status == "paid"
    assert [(t.id, t.amount) for t in await transfers(stripe_api, deal["id"])] == [
        (paid.transfer_id, fee - 20_000)
    ]
    assert await booked(db, "payout", deal["id"]) == [paid.transfer_id]
    assert len(await booked(db, "clawback", deal["id"])) == 1
    await books_agree(pool, gateway, deal["id"])
