"""KOL payouts: an Express account with onboarding, escrow released on approval, a payout
promised for the end of the holding period and kept (paused by a dispute, retried visibly
after a failure, never paid twice after a crash)."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.accounts.service import ensure_operator
from services.errors import Conflict
from services.payments import payouts
from services.payments.gateway import StripeLibraryGateway
from services.settings import Settings
from services.worker.app import run_worker
from tests.helpers import Account, Client, kol, login, unique_email
from tests.negotiation.support import events_of
from tests.payments.conftest import Inbox, Sides
from tests.payments.support import deal_status, deliver, funded_deal, set_deal_status
from tests.stripe_peer import TEST_API_KEY, onboard_account

LINKS = {"return_url": "https://app.kolmarket.test/payouts", "refresh_url": "https://app.test/r"}
LONG_AGO = timedelta(days=8)


async def _payout_ready_kol(client: Client, peer_url: str) -> Account:
    creator = await kol(client)
    opened = await client.post("/v1/kols/me/payout-account", json=LINKS, headers=creator.headers)
    assert opened.status_code == 200, opened.text
    await onboard_account(peer_url, opened.json()["stripe_account_id"])
    return creator


async def _approved_deal(client, stripe_api, inbox, db, owner, creator, fee=50_000) -> uuid.UUID:
    deal = await funded_deal(client, stripe_api, inbox, owner, creator, fee)
    await set_deal_status(db, deal["id"], "approved")
    return uuid.UUID(deal["id"])


async def test_kol_opens_one_express_account_and_becomes_ready_by_onboarding(
    pay_client: Client, peer_url: str, inbox: Inbox, db
) -> None:
    creator = await kol(pay_client)
    url = "/v1/kols/me/payout-account"
    first = (await pay_client.post(url, json=LINKS, headers=creator.headers)).json()
    again = (await pay_client.post(url, json=LINKS, headers=creator.headers)).json()
    assert again["stripe_account_id"] == first["stripe_account_id"]
    assert (first["ready"], first["onboarding_url"].startswith("http")) == (False, True)

    await onboard_account(peer_url, first["stripe_account_id"])
    body, signature = await inbox.wait_for("account.updated", first["stripe_account_id"])
    assert (await deliver(pay_client, body, signature)).status_code == 200

    earnings = (await pay_client.get("/v1/kols/me/earnings", headers=creator.headers)).json()
    assert earnings["payout_account_ready"] is True
    shown = (await pay_client.get(url, headers=creator.headers)).json()
    assert (shown["ready"], shown["details_submitted"]) == (True, True)


async def test_fund_approve_and_pay_out_after_the_holding_period(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, peer_url: str, db, pool, gateway
) -> None:
    creator = await _payout_ready_kol(pay_client, peer_url)
    deal_id = await _approved_deal(pay_client, stripe_api, inbox, db, sides.merchant, creator)
    approved_at = datetime.now(UTC)

    released = await payouts.release_deal(db, deal_id, approved_at)
    early = await payouts.pay_out(pool, gateway, released.id, approved_at + timedelta(days=6))

    assert released.due_at == approved_at + timedelta(days=7)
    assert (early.status, early.transfer_id) == ("scheduled", None)
    earnings = (await pay_client.get("/v1/kols/me/earnings", headers=creator.headers)).json()
    assert [(p["deal_id"], p["status"]) for p in earnings["payouts"]] == [
        (str(deal_id), "scheduled")
    ]
    assert earnings["owed"] == {"USD": released.amount}

    paid = await payouts.pay_out(pool, gateway, released.id, released.due_at)

    assert paid.status == "paid"
    transfers = await stripe_api.v1.transfers.list_async({"transfer_group": f"deal_{deal_id}"})
    assert [(t.id, t.amount) for t in transfers.data] == [(paid.transfer_id, released.amount)]
    assert await deal_status(db, str(deal_id)) == "paid"
    statement = (
        await pay_client.get(f"/v1/deals/{deal_id}/statement", headers=sides.merchant.headers)
    ).json()
    assert [e["kind"] for e in statement["entries"]] == ["funding", "release", "payout"]
    assert statement["in_escrow"] == 0
    assert statement["payout"]["status"] == "paid"
    assert (await events_of(db, str(deal_id)))[-1] == "deal.paid"
    earned = (await pay_client.get("/v1/kols/me/earnings", headers=creator.headers)).json()
    assert [(line["kind"], line["amount"]) for line in earned["lines"]] == [
        ("payout", -released.amount),
        ("release", released.amount),
    ]
    assert earned["owed"] == {"USD": 0}


async def test_release_is_refused_before_approval(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, db
) -> None:
    deal = await funded_deal(pay_client, stripe_api, inbox, sides.merchant, sides.kol)

    with pytest.raises(Conflict):
        await payouts.release_deal(db, uuid.UUID(deal["id"]))

    kinds = await db.fetch(
        "SELECT kind FROM journal_entries WHERE deal_id = $1", uuid.UUID(deal["id"])
    )
    assert [r["kind"] for r in kinds] == ["funding"]


async def test_a_dispute_pauses_the_payout(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, peer_url: str, db, pool, gateway
) -> None:
    creator = await _payout_ready_kol(pay_client, peer_url)
    deal_id = await _approved_deal(pay_client, stripe_api, inbox, db, sides.merchant, creator)
    released = await payouts.release_deal(db, deal_id, datetime.now(UTC) - LONG_AGO)
    await set_deal_status(db, str(deal_id), "disputed")

    held = await payouts.pay_out(pool, gateway, released.id)

    assert (held.status, held.transfer_id) == ("paused", None)
    transfers = await stripe_api.v1.transfers.list_async({"transfer_group": f"deal_{deal_id}"})
    assert transfers.data == []


async def test_a_failed_payout_stays_visible_as_overdue_and_is_retried(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, peer_url: str, db, pool, gateway
) -> None:
    creator = await kol(pay_client)
    deal_id = await _approved_deal(pay_client, stripe_api, inbox, db, sides.merchant, creator)
    released = await payouts.release_deal(db, deal_id, datetime.now(UTC) - LONG_AGO)

    failed = await payouts.pay_out(pool, gateway, released.id)

    assert (failed.status, failed.attempts, failed.overdue) == ("scheduled", 1, True)
    assert "not ready" in (failed.last_error or "")
    email = unique_email("operator")
    await ensure_operator(db, email, "operator pass 123")
    operator = await login(pay_client, email, "operator pass 123")
    overdue = (await pay_client.get("/v1/payouts/overdue", headers=operator.headers)).json()
    assert str(released.id) in [p["id"] for p in overdue["items"]]
    assert (await pay_client.get("/v1/payouts/overdue", headers=creator.headers)).status_code == 403

    account = await pay_client.post(
        "/v1/kols/me/payout-account", json=LINKS, headers=creator.headers
    )
    await onboard_account(peer_url, account.json()["stripe_account_id"])
    assert await payouts.pay_due(pool, gateway) >= 1

    paid = (await pay_client.get("/v1/kols/me/earnings", headers=creator.headers)).json()
    assert [(p["status"], p["attempts"]) for p in paid["payouts"]] == [("paid", 2)]


class CrashAfterTransfer(StripeLibraryGateway):
    """Stripe makes the transfer, then the connection dies before its answer arrives."""

    async def create_transfer(self, params, idempotency_key):  # type: ignore[no-untyped-def]
        await super().create_transfer(params, idempotency_key)
        raise ConnectionResetError("crashed before commit")


async def test_retry_after_a_crash_pays_the_kol_once(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, peer_url: str, db, pool, gateway,
    payments_settings: Settings,
) -> None:  # fmt: skip
    creator = await _payout_ready_kol(pay_client, peer_url)
    deal_id = await _approved_deal(pay_client, stripe_api, inbox, db, sides.merchant, creator)
    released = await payouts.release_deal(db, deal_id, datetime.now(UTC) - LONG_AGO)
    crashing = CrashAfterTransfer(payments_settings)
    try:
        unconfirmed = await payouts.pay_out(pool, crashing, released.id)
    finally:
        await crashing.close()
    assert (unconfirmed.status, unconfirmed.transfer_id) == ("scheduled", None)

    paid = await payouts.pay_out(pool, gateway, released.id)

    transfers = await stripe_api.v1.transfers.list_async({"transfer_group": f"deal_{deal_id}"})
    assert [t.id for t in transfers.data] == [paid.transfer_id]
    assert (
        await db.fetchval(
            "SELECT count(*) FROM journal_entries WHERE deal_id = $1 AND kind = 'payout'", deal_id
        )
        == 1
    )


async def test_the_worker_pays_a_payout_when_it_comes_due(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, peer_url: str, db,
    database_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    creator = await _payout_ready_kol(pay_client, peer_url)
    deal_id = await _approved_deal(pay_client, stripe_api, inbox, db, sides.merchant, creator)
    released = await payouts.release_deal(db, deal_id, datetime.now(UTC) - LONG_AGO)
    for name, value in (("STRIPE_API_KEY", TEST_API_KEY), ("STRIPE_API_BASE", peer_url)):
        monkeypatch.setenv(name, value)

    await asyncio.wait_for(run_worker(database_url, concurrency=1, wait=False), timeout=60)

    earnings = (await pay_client.get("/v1/kols/me/earnings", headers=creator.headers)).json()
    [payout] = earnings["payouts"]
    assert (payout["id"], payout["status"]) == (str(released.id), "paid")
    transfers = await stripe_api.v1.transfers.list_async({"transfer_group": f"deal_{deal_id}"})
    assert [t.id for t in transfers.data] == [payout["transfer_id"]]


async def test_small_payouts_wait_until_they_reach_the_minimum_together(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, peer_url: str, db, pool, gateway
) -> None:
    creator = await _payout_ready_kol(pay_client, peer_url)
    long_ago = datetime.now(UTC) - LONG_AGO
    first_deal = await _approved_deal(
        pay_client, stripe_api, inbox, db, sides.merchant, creator, 600
    )
    first = await payouts.release_deal(db, first_deal, long_ago)

    held = await payouts.pay_out(pool, gateway, first.id)

    assert (held.status, held.attempts) == ("scheduled", 0)
    assert "minimum" in (held.last_error or "")
    second_deal = await _approved_deal(
        pay_client, stripe_api, inbox, db, sides.merchant, creator, 500
    )
    await payouts.release_deal(db, second_deal, long_ago)
    higher = await payouts.pay_out(pool, gateway, first.id, minimum=2_000)
    assert (higher.status, higher.last_error) == (
        "scheduled",
        "waits until payouts due reach the minimum of 2000",
    )
    await payouts.pay_due(pool, gateway)

    earnings = (await pay_client.get("/v1/kols/me/earnings", headers=creator.headers)).json()
    assert earnings["minimum_payout"] == 1_000
    assert sorted((p["amount"], p["status"]) for p in earnings["payouts"]) == [
        (500, "paid"),
        (600, "paid"),
    ]
