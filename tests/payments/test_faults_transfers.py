"""Money to the KOL and commissions move exactly once when Stripe fails: a payout's transfer,
a commission settlement's charge and a KOL's commission transfer, each made by the use case
the worker runs while Stripe loses its answer, refuses the connection or hangs.

The job ends with the movement unconfirmed; conflicting requests are refused meanwhile; after
reconciliation and the next scheduled run Stripe holds one object per movement, the ledger
books each once, and the two agree.
"""

import msgspec
import pytest
import stripe

from services.payments import commissions, payouts
from services.payments.gateway import StripeLibraryGateway
from services.settings import Settings
from services.tracking import commissions as tracking
from tests.helpers import Client
from tests.payments.conftest import Inbox, Sides
from tests.payments.fault_support import (
    ACTED,
    FAULTS,
    booked,
    books_agree,
    commissions_owed,
    entries_of,
    failing,
    operation_of,
    payment_intents,
    payout_of,
    ready_kol,
    reconciled,
    refused_while,
    released_deal,
    takedown,
    transfers,
)
from tests.payments.support import deal_status
from tests.stripe_peer.faults import FaultProxy

pytestmark = pytest.mark.slow
ACCRUAL = "SELECT id, transfer_id FROM commission_accruals WHERE deal_id = $1"
SETTLEMENT = "SELECT id, status, payment_intent_id FROM commission_settlements WHERE id = $1"


@pytest.mark.parametrize("fault", [*FAULTS, "unreachable"])
async def test_a_payout_transfer_whose_answer_is_lost_pays_the_kol_once(
    fault_client: Client, sides: Sides, faults: FaultProxy, stripe_api: stripe.StripeClient,
    inbox: Inbox, peer_url: str, db, pool, gateway, faulty_gateway, fault: str,
) -> None:  # fmt: skip
    creator = await ready_kol(fault_client, peer_url)
    deal, pieces, payout = await released_deal(
        fault_client, stripe_api, inbox, db, sides.merchant, creator
    )

    with failing(faults, fault, "POST", "/v1/transfers"):
        left = await payouts.pay_out(pool, faulty_gateway, payout["id"])

    assert (left.status, left.transfer_id) == ("scheduled", None)
    operation = await operation_of(db, payout["id"])
    assert (operation["kind"], operation["status"]) == ("payout", "unknown")
    assert len(await transfers(stripe_api, deal["id"])) == ACTED[fault]
    refused_while(await takedown(fault_client, sides.merchant, deal["id"], pieces[0]), operation)
    assert await deal_status(db, deal["id"]) == "approved"
    assert (await payout_of(db, deal["id"]))["status"] == "scheduled"

    await reconciled(pool, gateway)

    [transfer] = await transfers(stripe_api, deal["id"])
    assert transfer.amount == payout["amount"]
    paid = await payout_of(db, deal["id"])
    assert (paid["status"], paid["transfer_id"]) == ("paid", transfer.id)
    assert await booked(db, "payout", deal["id"]) == [transfer.id]
    assert await deal_status(db, deal["id"]) == "paid"
    await payouts.pay_due(pool, gateway)  # the sweep finds nothing more to pay
    assert [t.id for t in await transfers(stripe_api, deal["id"])] == [transfer.id]
    await books_agree(pool, gateway, deal["id"])


async def test_with_retries_a_lost_transfer_answer_is_healed_inside_the_call(
    fault_client: Client, sides: Sides, faults: FaultProxy, stripe_api: stripe.StripeClient,
    inbox: Inbox, peer_url: str, db, pool, gateway, payments_settings: Settings,
) -> None:  # fmt: skip
    creator = await ready_kol(fault_client, peer_url)
    deal, _, payout = await released_deal(
        fault_client, stripe_api, inbox, db, sides.merchant, creator
    )
    retrying = StripeLibraryGateway(
        msgspec.structs.replace(payments_settings, stripe_api_base=faults.url)
    )
    assert payments_settings.stripe_max_retries > 0
    try:
        with failing(faults, "drop", "POST", "/v1/transfers"):
            paid = await payouts.pay_out(pool, retrying, payout["id"])
    finally:
        await retrying.close()

    assert paid.status == "paid"
    assert faults.outcomes("POST", "/v1/transfers") == ["drop", "forwarded"]
    assert [t.id for t in await transfers(stripe_api, deal["id"])] == [paid.transfer_id]
    operation = await operation_of(db, payout["id"])
    assert (operation["status"], operation["attempts"]) == ("succeeded", 1)
    assert await booked(db, "payout", deal["id"]) == [paid.transfer_id]
    await books_agree(pool, gateway, deal["id"])


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_commission_charge_whose_answer_is_lost_charges_the_merchant_once(
    fault_client: Client, faults: FaultProxy, stripe_api: stripe.StripeClient, peer_url: str,
    db, pool, gateway, faulty_gateway, fault: str,
) -> None:  # fmt: skip
    deal = await commissions_owed(fault_client, db, peer_url, 3_000, 450)

    with failing(faults, fault, "POST", "/v1/payment_intents"):
        left = await commissions.settle(pool, faulty_gateway, deal["merchant_id"], "USD")

    assert left is not None
    assert left.status != "paid" and left.payment_intent_id is None
    operation = await operation_of(db, left.id)
    assert (operation["kind"], operation["status"]) == ("settlement", "unknown")
    assert len(await payment_intents(stripe_api, settlement_id=str(left.id))) == ACTED[fault]
    assert await transfers(stripe_api, deal["id"]) == []

    await reconciled(pool, gateway)
    await tracking.settle_all(pool, gateway)  # the scheduled run

    [intent] = await payment_intents(stripe_api, settlement_id=str(left.id))
    assert (intent.status, intent.amount) == ("succeeded", 3_000)
    settled = await db.fetchrow(SETTLEMENT, left.id)
    assert (settled["status"], settled["payment_intent_id"]) == ("paid", intent.id)
    assert await entries_of(db, intent.id) == ["settlement"]
    [transfer] = await transfers(stripe_api, deal["id"])
    assert transfer.amount == 3_000 - 450
    assert await booked(db, "payout", deal["id"]) == [transfer.id]
    await books_agree(pool, gateway, deal["id"])


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_commission_transfer_whose_answer_is_lost_pays_the_kol_once(
    fault_client: Client, faults: FaultProxy, stripe_api: stripe.StripeClient, peer_url: str,
    db, pool, gateway, faulty_gateway, fault: str,
) -> None:  # fmt: skip
    deal = await commissions_owed(fault_client, db, peer_url, 2_000, 300)

    with failing(faults, fault, "POST", "/v1/transfers"):
        settled = await commissions.settle(pool, faulty_gateway, deal["merchant_id"], "USD")

    assert settled is not None and settled.status == "paid"
    accrual = await db.fetchrow(ACCRUAL, deal["id"])
    assert accrual["transfer_id"] is None
    operation = await operation_of(db, accrual["id"])
    assert (operation["kind"], operation["status"]) == ("commission", "unknown")
    assert len(await transfers(stripe_api, deal["id"])) == ACTED[fault]

    await reconciled(pool, gateway)
    await tracking.settle_all(pool, gateway)  # the scheduled run

    [transfer] = await transfers(stripe_api, deal["id"])
    assert transfer.amount == 2_000 - 300
    assert (await db.fetchrow(ACCRUAL, deal["id"]))["transfer_id"] == transfer.id
    assert await booked(db, "payout", deal["id"]) == [transfer.id]
    assert len(await payment_intents(stripe_api, settlement_id=str(settled.id))) == 1
    await books_agree(pool, gateway, deal["id"])
