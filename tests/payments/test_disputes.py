"""Takedown disputes: approved content reported gone before its agreed live days puts the deal
in dispute and holds its payout; an operator pays the KOL (the payout resumes) or refunds the
merchant part of what the KOL was not yet paid, clawing back from the payout what escrow lacks."""

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from services.worker.app import run_worker
from tests.helpers import Account, Client, api_key
from tests.negotiation.support import events_of
from tests.payments.conftest import Inbox, Sides
from tests.payments.delivery_support import (
    ago,
    balance,
    delivered,
    event_types,
    operator,
    payout_ready_kol,
    review,
    set_policy,
    submitted,
)
from tests.payments.support import deal_status, funded_deal
from tests.stripe_peer import TEST_API_KEY

NOTE = "The second video was deleted from the creator's profile."


async def _released(
    client: Client, stripe_api, inbox: Inbox, db, owner: Account, creator: Account, **policy: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A deal delivered in full and approved: escrow released, payout scheduled."""
    deal = await funded_deal(client, stripe_api, inbox, owner, creator)
    if policy:
        await set_policy(db, deal["id"], **policy)
    pieces = await delivered(client, owner, creator, deal["id"], posted_at=ago(days=2))
    assert await deal_status(db, deal["id"]) == "approved"
    return deal, pieces


async def _report(
    client: Client, deal_id: str, piece: dict[str, Any], headers: dict[str, str], **changes: Any
) -> Any:
    body = {
        "submission_id": piece["id"],
        "observed_at": (datetime.fromisoformat(piece["posted_at"]) + timedelta(days=1)).isoformat(),
        "note": NOTE,
        **changes,
    }
    return await client.post(f"/v1/deals/{deal_id}/takedowns", json=body, headers=headers)


async def _payout(db, deal_id: str) -> Any:
    return await db.fetchrow(
        "SELECT id, amount, status, due_at FROM payouts WHERE deal_id = $1", uuid.UUID(deal_id)
    )


async def _resolve(client: Client, who: Account, dispute_id: str, **body: Any) -> Any:
    return await client.post(
        f"/v1/disputes/{dispute_id}/resolve", json={"note": "Decided.", **body}, headers=who.headers
    )


async def test_a_takedown_inside_the_live_days_opens_a_dispute_and_pauses_the_payout(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, db
) -> None:
    deal, pieces = await _released(pay_client, stripe_api, inbox, db, sides.merchant, sides.kol)

    reported = await _report(pay_client, deal["id"], pieces[1], sides.merchant.headers)
    again = await _report(pay_client, deal["id"], pieces[0], sides.merchant.headers)

    assert reported.status_code == 201, reported.text
    dispute = reported.json()
    assert (dispute["kind"], dispute["opened_by"], dispute["status"]) == (
        "takedown",
        "merchant",
        "open",
    )
    assert (dispute["prior_status"], dispute["submission_id"]) == ("approved", pieces[1]["id"])
    assert again.status_code == 409
    assert "already open" in again.json()["detail"]
    assert await deal_status(db, deal["id"]) == "disputed"
    payout = await _payout(db, deal["id"])
    assert payout["status"] == "paused"
    assert await event_types(db, str(payout["id"])) == ["payout.scheduled", "payout.paused"]
    assert await event_types(db, dispute["id"]) == ["dispute.opened"]
    taken = await db.fetchval(
        "SELECT status FROM submissions WHERE id = $1", uuid.UUID(pieces[1]["id"])
    )
    assert taken == "taken_down"


async def test_content_that_stayed_live_for_the_agreed_days_cannot_be_reported(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, db
) -> None:
    deal, pieces = await _released(
        pay_client, stripe_api, inbox, db, sides.merchant, sides.kol, min_live_days=1
    )
    posted = datetime.fromisoformat(pieces[0]["posted_at"])

    late = await _report(
        pay_client, deal["id"], pieces[0], sides.merchant.headers,
        observed_at=(posted + timedelta(days=1)).isoformat(),
    )  # fmt: skip
    before_posting = await _report(
        pay_client, deal["id"], pieces[0], sides.merchant.headers,
        observed_at=(posted - timedelta(hours=1)).isoformat(),
    )  # fmt: skip
    by_kol = await _report(pay_client, deal["id"], pieces[0], sides.kol.headers)
    by_other = await _report(pay_client, deal["id"], pieces[0], sides.other_merchant.headers)

    assert late.status_code == 409
    assert late.json()["detail"] == "the content stayed live for the agreed 1 days"
    assert (before_posting.status_code, before_posting.json()["errors"][0]["field"]) == (
        422,
        "observed_at",
    )
    assert (by_kol.status_code, by_other.status_code) == (403, 404)
    assert await deal_status(db, deal["id"]) == "approved"
    assert (await _payout(db, deal["id"]))["status"] == "scheduled"


async def test_only_approved_content_can_be_reported(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, db
) -> None:
    deal = await funded_deal(pay_client, stripe_api, inbox, sides.merchant, sides.kol)
    piece = await submitted(pay_client, sides.kol, deal["id"], posted_at=ago(days=2))

    refused = await _report(pay_client, deal["id"], piece, sides.merchant.headers)

    assert refused.status_code == 409
    assert await deal_status(db, deal["id"]) == "content_submitted"


async def test_a_partner_key_reports_only_with_deals_write(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, db
) -> None:
    deal, pieces = await _released(pay_client, stripe_api, inbox, db, sides.merchant, sides.kol)
    reader = await api_key(pay_client, sides.merchant, "deals:read")
    writer = await api_key(pay_client, sides.merchant, "deals:write")
    other_writer = await api_key(pay_client, sides.other_merchant, "deals:write")

    without = await _report(pay_client, deal["id"], pieces[0], {"X-API-Key": reader})
    elsewhere = await _report(pay_client, deal["id"], pieces[0], {"X-API-Key": other_writer})
    assert (without.status_code, elsewhere.status_code) == (403, 404)
    assert await deal_status(db, deal["id"]) == "approved"

    reported = await _report(pay_client, deal["id"], pieces[0], {"X-API-Key": writer})

    assert (reported.status_code, reported.json()["opened_by"]) == (201, "partner")
    listed = await pay_client.get(f"/v1/deals/{deal['id']}/disputes", headers={"X-API-Key": reader})
    assert [d["id"] for d in listed.json()["items"]] == [reported.json()["id"]]


async def test_operators_and_both_sides_read_disputes(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, db
) -> None:
    deal, pieces = await _released(pay_client, stripe_api, inbox, db, sides.merchant, sides.kol)
    dispute = (await _report(pay_client, deal["id"], pieces[0], sides.merchant.headers)).json()
    ops = await operator(pay_client, db)

    one = await pay_client.get(f"/v1/disputes/{dispute['id']}", headers=ops.headers)
    open_ones = await pay_client.get("/v1/disputes?status=open&limit=100", headers=ops.headers)
    resolved_ones = await pay_client.get("/v1/disputes?status=resolved", headers=ops.headers)
    of_deal = f"/v1/deals/{deal['id']}/disputes"

    assert (one.status_code, one.json()["note"]) == (200, NOTE)
    assert dispute["id"] in [d["id"] for d in open_ones.json()["items"]]
    assert dispute["id"] not in [d["id"] for d in resolved_ones.json()["items"]]
    for side in (sides.merchant, sides.kol):
        listed = await pay_client.get(of_deal, headers=side.headers)
        assert [d["id"] for d in listed.json()["items"]] == [dispute["id"]]
    assert (await pay_client.get(of_deal, headers=sides.other_merchant.headers)).status_code == 404
    assert (await pay_client.get("/v1/disputes", headers=sides.merchant.headers)).status_code == 403
    page = await pay_client.get("/v1/disputes?limit=1", headers=ops.headers)
    assert len(page.json()["items"]) == 1 and page.json()["next_cursor"]


async def test_resolving_for_the_kol_resumes_the_payout_and_the_worker_pays_it(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, peer_url: str, db,
    database_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    creator = await payout_ready_kol(pay_client, peer_url)
    deal, pieces = await _released(
        pay_client, stripe_api, inbox, db, sides.merchant, creator, payout_hold_days=0
    )
    dispute = (await _report(pay_client, deal["id"], pieces[0], sides.merchant.headers)).json()
    ops = await operator(pay_client, db)
    for name, value in (("STRIPE_API_KEY", TEST_API_KEY), ("STRIPE_API_BASE", peer_url)):
        monkeypatch.setenv(name, value)

    await asyncio.wait_for(run_worker(database_url, concurrency=1, wait=False), timeout=60)
    assert (await _payout(db, deal["id"]))["status"] == "paused"  # not paid while disputed

    resolved = await _resolve(pay_client, ops, dispute["id"], outcome="pay_kol")
    twice = await _resolve(pay_client, ops, dispute["id"], outcome="pay_kol")

    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["status"], resolved.json()["outcome"]) == ("resolved", "pay_kol")
    assert twice.status_code == 409
    assert await deal_status(db, deal["id"]) == "approved"
    assert (await _payout(db, deal["id"]))["status"] == "scheduled"
    restored = await db.fetchval(
        "SELECT status FROM submissions WHERE id = $1", uuid.UUID(pieces[0]["id"])
    )
    assert restored == "approved"

    await asyncio.wait_for(run_worker(database_url, concurrency=1, wait=False), timeout=60)

    payout = await _payout(db, deal["id"])
    assert (payout["status"], payout["amount"]) == ("paid", deal["terms"]["fixed_fee"])
    transfers = await stripe_api.v1.transfers.list_async({"transfer_group": f"deal_{deal['id']}"})
    assert [t.amount for t in transfers.data] == [deal["terms"]["fixed_fee"]]
    assert await deal_status(db, deal["id"]) == "paid"
    assert await event_types(db, dispute["id"]) == ["dispute.opened", "dispute.resolved"]


async def _refunds_at_stripe(stripe_api, db, deal_id: str) -> list[int]:
    intent_id = await db.fetchval(
        "SELECT payment_intent_id FROM deal_fundings WHERE deal_id = $1", uuid.UUID(deal_id)
    )
    refunds = await stripe_api.v1.refunds.list_async({"payment_intent": intent_id})
    return sorted(r.amount for r in refunds.data)


async def test_a_refund_claws_back_what_escrow_lacks_from_the_unpaid_payout(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, db
) -> None:
    deal, pieces = await _released(pay_client, stripe_api, inbox, db, sides.merchant, sides.kol)
    dispute = (await _report(pay_client, deal["id"], pieces[0], sides.merchant.headers)).json()
    ops = await operator(pay_client, db)
    fee, platform_fee = deal["terms"]["fixed_fee"], deal["terms"]["platform_fee"]
    owed_before = await balance(db, "kol_payable", sides.kol.me["kol_id"])
    revenue_before = await db.fetchval(
        "SELECT -coalesce(sum(p.amount), 0)::bigint FROM ledger_accounts a"
        " JOIN postings p ON p.account_id = a.id WHERE a.kind = 'platform_revenue'"
        " AND a.currency = 'USD'"
    )

    resolved = await _resolve(
        pay_client, ops, dispute["id"], outcome="refund", refund_amount=20_000
    )

    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["outcome"], resolved.json()["refund_amount"]) == ("refund", 20_000)
    assert await deal_status(db, deal["id"]) == "approved"
    payout = await _payout(db, deal["id"])
    assert (payout["amount"], payout["status"]) == (fee - 20_000, "scheduled")
    assert await balance(db, "kol_payable", sides.kol.me["kol_id"]) == owed_before - 20_000
    assert await balance(db, "merchant_escrow", deal["id"]) == 0
    revenue_after = await db.fetchval(
        "SELECT -coalesce(sum(p.amount), 0)::bigint FROM ledger_accounts a"
        " JOIN postings p ON p.account_id = a.id WHERE a.kind = 'platform_revenue'"
        " AND a.currency = 'USD'"
    )
    assert revenue_after == revenue_before  # the platform fee is not refunded
    statement = (
        await pay_client.get(f"/v1/deals/{deal['id']}/statement", headers=sides.merchant.headers)
    ).json()
    assert [e["kind"] for e in statement["entries"]] == ["funding", "release", "clawback", "refund"]
    clawback = statement["entries"][2]["postings"]
    assert sorted((p["account"], p["amount"]) for p in clawback) == [
        ("kol_payable", 20_000),
        ("merchant_escrow", -20_000),
    ]
    assert (statement["refunded"], statement["in_escrow"]) == (20_000, 0)
    assert (statement["payout"]["amount"], statement["payout"]["status"]) == (
        fee - 20_000,
        "scheduled",
    )
    assert statement["funded"] == fee + platform_fee
    assert await _refunds_at_stripe(stripe_api, db, deal["id"]) == [20_000]
    payload = await db.fetchval(
        "SELECT payload FROM events WHERE aggregate_id = $1 AND type = 'dispute.resolved'",
        uuid.UUID(dispute["id"]),
    )
    assert (payload["clawback"], payload["deal_status"]) == (20_000, "approved")
    again = await _resolve(pay_client, ops, dispute["id"], outcome="refund", refund_amount=1)
    assert again.status_code == 409
    assert await _refunds_at_stripe(stripe_api, db, deal["id"]) == [20_000]


async def test_a_refund_of_everything_unpaid_cancels_the_payout_and_refunds_the_deal(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, db
) -> None:
    deal, pieces = await _released(pay_client, stripe_api, inbox, db, sides.merchant, sides.kol)
    dispute = (await _report(pay_client, deal["id"], pieces[0], sides.merchant.headers)).json()
    ops = await operator(pay_client, db)
    fee = deal["terms"]["fixed_fee"]

    too_much = await _resolve(
        pay_client, ops, dispute["id"], outcome="refund", refund_amount=fee + 1
    )
    missing = await _resolve(pay_client, ops, dispute["id"], outcome="refund")
    by_merchant = await _resolve(
        pay_client, sides.merchant, dispute["id"], outcome="refund", refund_amount=fee
    )

    assert too_much.status_code == 422
    assert [e["field"] for e in too_much.json()["errors"]] == ["refund_amount"]
    assert str(fee) in too_much.json()["errors"][0]["message"]
    assert (missing.status_code, missing.json()["errors"][0]["field"]) == (422, "refund_amount")
    assert by_merchant.status_code == 403
    assert await deal_status(db, deal["id"]) == "disputed"
    assert await _refunds_at_stripe(stripe_api, db, deal["id"]) == []

    everything = await _resolve(pay_client, ops, dispute["id"], outcome="refund", refund_amount=fee)

    assert everything.status_code == 200, everything.text
    assert await deal_status(db, deal["id"]) == "refunded"
    payout = await _payout(db, deal["id"])
    assert (payout["amount"], payout["status"]) == (0, "cancelled")
    assert await _refunds_at_stripe(stripe_api, db, deal["id"]) == [fee]
    assert (await events_of(db, deal["id"]))[-1] == "deal.refunded"


async def test_a_refund_before_release_comes_from_escrow_and_the_deal_goes_on(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, db
) -> None:
    deal = await funded_deal(pay_client, stripe_api, inbox, sides.merchant, sides.kol)
    pieces = [
        await submitted(pay_client, sides.kol, deal["id"], posted_at=ago(days=2)) for _ in range(2)
    ]
    await review(pay_client, sides.merchant, deal["id"], pieces[0]["id"], "approve")
    dispute = (await _report(pay_client, deal["id"], pieces[0], sides.merchant.headers)).json()
    ops = await operator(pay_client, db)
    fee, platform_fee = deal["terms"]["fixed_fee"], deal["terms"]["platform_fee"]
    paid = fee + platform_fee

    leaves_only_the_fee = await _resolve(
        pay_client, ops, dispute["id"], outcome="refund", refund_amount=paid - platform_fee
    )
    resolved = await _resolve(
        pay_client, ops, dispute["id"], outcome="refund", refund_amount=10_000
    )

    assert leaves_only_the_fee.status_code == 422
    assert resolved.status_code == 200, resolved.text
    assert await deal_status(db, deal["id"]) == "content_submitted"
    assert await balance(db, "merchant_escrow", deal["id"]) == paid - 10_000
    redone = await submitted(pay_client, sides.kol, deal["id"])
    await review(pay_client, sides.merchant, deal["id"], pieces[1]["id"], "approve")
    await review(pay_client, sides.merchant, deal["id"], redone["id"], "approve")
    assert await deal_status(db, deal["id"]) == "approved"
    payout = await _payout(db, deal["id"])
    assert (payout["amount"], payout["status"]) == (fee - 10_000, "scheduled")
    assert await balance(db, "merchant_escrow", deal["id"]) == 0


async def test_resolving_for_the_kol_before_the_due_date_keeps_the_promised_date(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, db
) -> None:
    deal, pieces = await _released(pay_client, stripe_api, inbox, db, sides.merchant, sides.kol)
    promised = (await _payout(db, deal["id"]))["due_at"]
    dispute = (await _report(pay_client, deal["id"], pieces[0], sides.merchant.headers)).json()
    ops = await operator(pay_client, db)

    resolved = await _resolve(pay_client, ops, dispute["id"], outcome="pay_kol")

    assert resolved.status_code == 200, resolved.text
    payout = await _payout(db, deal["id"])
    assert (payout["status"], payout["due_at"]) == ("scheduled", promised)
    jobs = await db.fetch(
        "SELECT scheduled_at FROM procrastinate_jobs"
        " WHERE task_name = 'payments:pay_out' AND status = 'todo' AND args->>'payout_id' = $1",
        str(payout["id"]),
    )
    assert [j["scheduled_at"] for j in jobs] == [promised]


async def test_a_takedown_during_the_payouts_transfer_is_refused_and_changes_nothing(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, db
) -> None:
    deal, pieces = await _released(pay_client, stripe_api, inbox, db, sides.merchant, sides.kol)

    async with db.transaction():  # the payout job holds the payout while Stripe answers
        await db.execute(
            "SELECT 1 FROM payouts WHERE deal_id = $1 FOR UPDATE", uuid.UUID(deal["id"])
        )
        busy = await _report(pay_client, deal["id"], pieces[1], sides.merchant.headers)

    assert busy.status_code == 409, busy.text
    assert "being transferred" in busy.json()["detail"]
    assert await deal_status(db, deal["id"]) == "approved"
    assert (await _payout(db, deal["id"]))["status"] == "scheduled"
    later = await _report(pay_client, deal["id"], pieces[1], sides.merchant.headers)
    assert later.status_code == 201, later.text
