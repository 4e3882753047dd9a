"""Commission settlement: accrued commissions are charged to the merchant's saved card
off-session, then each KOL's share is transferred; a decline is recorded, shown and retried."""

import uuid
from datetime import UTC, datetime, timedelta

import stripe

from services.ledger import rules as ledger_rules
from services.ledger.service import balance
from services.payments import commissions
from services.tracking import commissions as tracking
from tests.helpers import Account, Client, api_key, kol, merchant
from tests.payments.support import accepted_deal
from tests.stripe_peer import onboard_account

LINKS = {"return_url": "https://app.kolmarket.test/payouts", "refresh_url": "https://app.test/r"}
DEAL = "SELECT id, merchant_id, kol_id, currency FROM deals WHERE id = $1"


async def _save_card(client: Client, owner: Account, card: str):
    return await client.post(
        "/v1/billing/payment-method", json={"payment_method": card}, headers=owner.headers
    )


async def _deal_with_commissions(client: Client, db, owner: Account, *amounts: tuple[int, int]):
    creator = await kol(client)
    opened = await client.post("/v1/kols/me/payout-account", json=LINKS, headers=creator.headers)
    deal = await accepted_deal(client, owner, creator)
    row = await db.fetchrow(DEAL, uuid.UUID(deal["id"]))
    async with db.transaction():
        for amount, cut in amounts:
            await commissions.accrue(db, row, amount, cut)
    return row, opened.json()["stripe_account_id"]


async def test_accrued_commissions_are_charged_off_session_then_transferred(
    pay_client: Client, stripe_api: stripe.StripeClient, peer_url: str, db, pool, gateway
) -> None:
    owner = await merchant(pay_client)
    saved = await _save_card(pay_client, owner, "pm_card_visa")
    assert (saved.status_code, saved.json()["card_last4"]) == (200, "4242")
    deal, account_id = await _deal_with_commissions(
        pay_client, db, owner, (3_000, 450), (2_000, 300)
    )
    await onboard_account(peer_url, account_id)
    assert await balance(db, ledger_rules.receivable(deal["merchant_id"], "USD")) == 5_000

    settled = await commissions.settle(pool, gateway, deal["merchant_id"], "USD")

    assert settled is not None
    assert (settled.status, settled.amount, settled.attempts) == ("paid", 5_000, 1)
    intent = await stripe_api.v1.payment_intents.retrieve_async(settled.payment_intent_id or "")
    assert (intent.status, intent.customer) == ("succeeded", saved.json()["stripe_customer_id"])
    transfers = await stripe_api.v1.transfers.list_async({"transfer_group": f"deal_{deal['id']}"})
    assert sorted(t.amount for t in transfers.data) == [1_700, 2_550]
    assert {t.destination for t in transfers.data} == {account_id}
    assert await balance(db, ledger_rules.receivable(deal["merchant_id"], "USD")) == 0
    assert await balance(db, ledger_rules.payable(deal["kol_id"], "USD")) == 0
    assert await commissions.settle(pool, gateway, deal["merchant_id"], "USD") is None
    listed = (await pay_client.get("/v1/billing/settlements", headers=owner.headers)).json()
    assert [(s["id"], s["status"]) for s in listed["items"]] == [(str(settled.id), "paid")]


async def test_declined_settlement_is_visible_and_retried_with_a_new_card(
    pay_client: Client, stripe_api: stripe.StripeClient, db, pool, gateway
) -> None:
    owner = await merchant(pay_client)
    assert (await _save_card(pay_client, owner, "pm_card_chargeCustomerFail")).status_code == 200
    deal, _ = await _deal_with_commissions(pay_client, db, owner, (1_000, 150))

    failed = await commissions.settle(pool, gateway, deal["merchant_id"], "USD")

    assert failed is not None
    assert (failed.status, failed.attempts, failed.last_error) == ("failed", 1, "card_declined")
    shown = (await pay_client.get("/v1/billing/settlements", headers=owner.headers)).json()
    assert [(s["status"], s["last_error"]) for s in shown["items"]] == [("failed", "card_declined")]
    assert await balance(db, ledger_rules.receivable(deal["merchant_id"], "USD")) == 1_000

    assert (await _save_card(pay_client, owner, "pm_card_visa")).status_code == 200
    paid = await commissions.settle_all(pool, gateway)
    [retried] = (await pay_client.get("/v1/billing/settlements", headers=owner.headers)).json()[
        "items"
    ]

    assert paid >= 1
    assert (retried["id"], retried["status"], retried["attempts"]) == (str(failed.id), "paid", 2)
    # the settlement's one PaymentIntent, confirmed again with the new card
    assert retried["payment_intent_id"] == failed.payment_intent_id
    intent = await stripe_api.v1.payment_intents.retrieve_async(retried["payment_intent_id"])
    assert (intent.status, intent.amount) == ("succeeded", 1_000)
    assert await balance(db, ledger_rules.receivable(deal["merchant_id"], "USD")) == 0


async def test_a_card_stripe_declines_cannot_be_saved(pay_client: Client) -> None:
    owner = await merchant(pay_client)

    refused = await _save_card(pay_client, owner, "pm_card_visa_chargeDeclined")

    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "payment_method"


async def test_tracked_orders_are_booked_settled_and_paid(
    pay_client: Client, stripe_api: stripe.StripeClient, peer_url: str, db, pool, gateway
) -> None:
    owner = await merchant(pay_client)
    await _save_card(pay_client, owner, "pm_card_visa")
    creator = await kol(pay_client)
    opened = await pay_client.post(
        "/v1/kols/me/payout-account", json=LINKS, headers=creator.headers
    )
    await onboard_account(peer_url, opened.json()["stripe_account_id"])
    deal = await accepted_deal(pay_client, owner, creator)
    code = await db.fetchval(
        "SELECT code FROM tracking_links WHERE deal_id = $1", uuid.UUID(deal["id"])
    )
    partner = {"X-API-Key": await api_key(pay_client, owner, "conversions:write")}
    now = datetime.now(UTC).isoformat()
    orders = [
        {"order_id": uuid.uuid4().hex, "amount": amount, "currency": "USD", "occurred_at": now,
         "tracking_code": code}
        for amount in (20_000, 10_000)
    ]  # fmt: skip
    results = (
        await pay_client.post("/v1/conversions/batch", json={"items": orders}, headers=partner)
    ).json()["results"]
    ids = [uuid.UUID(r["id"]) for r in results]

    await tracking.approve_due(db, datetime.now(UTC) + timedelta(days=15))
    settled = await tracking.settle(pool, gateway, uuid.UUID(owner.me["merchant_id"]), "USD")

    assert settled is not None
    assert (settled.status, settled.amount) == ("paid", 3_000 + 1_500)
    statuses = await db.fetch("SELECT status FROM conversions WHERE id = any($1::uuid[])", ids)
    assert [r["status"] for r in statuses] == ["paid", "paid"]
    kinds = await db.fetch("SELECT type FROM events WHERE aggregate_id = $1 ORDER BY id", ids[0])
    assert [k["type"] for k in kinds] == [
        "conversion.recorded",
        "conversion.approved",
        "conversion.paid",
    ]
    transfers = await stripe_api.v1.transfers.list_async({"transfer_group": f"deal_{deal['id']}"})
    cut = await db.fetchval("SELECT sum(platform_cut) FROM conversions WHERE id = any($1)", ids)
    assert cut > 0
    assert sum(t.amount for t in transfers.data) == 4_500 - cut
    assert await balance(db, ledger_rules.payable(uuid.UUID(deal["kol_id"]), "USD")) == 0


async def test_a_card_stripe_does_not_know_is_refused_naming_the_field(pay_client: Client) -> None:
    owner = await merchant(pay_client)
    saved = await _save_card(pay_client, owner, "pm_nothing_like_it")
    assert saved.status_code == 422, saved.text
    assert [e["field"] for e in saved.json()["errors"]] == ["payment_method"]
    assert (await _save_card(pay_client, owner, "pm_card_visa")).status_code == 200
