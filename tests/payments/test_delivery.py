"""Delivery: the KOL submits each piece of content on the deliverable's platform, the merchant
approves it or asks for changes within the review window, the window approves what was left
unanswered, and the last approval releases the deal's escrow to the KOL."""

import asyncio
import uuid
from datetime import datetime, timedelta

from services.deals import service as deals
from services.jobs import defer
from services.worker.app import run_worker
from tests.helpers import Client, api_key, kol
from tests.negotiation.support import events_of
from tests.payments.conftest import Inbox, Sides
from tests.payments.delivery_support import (
    ago,
    balance,
    event_types,
    post_url,
    review,
    set_policy,
    submit,
    submitted,
)
from tests.payments.support import PROBLEM, accepted_deal, deal_status, funded_deal


async def test_a_post_on_another_platform_is_refused_naming_url(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, db
) -> None:
    deal = await funded_deal(pay_client, stripe_api, inbox, sides.merchant, sides.kol)

    elsewhere = await submit(
        pay_client, sides.kol, deal["id"], url="https://www.instagram.com/p/abc123"
    )
    lookalike = await submit(pay_client, sides.kol, deal["id"], url="https://nottiktok.com/v/1")
    plain_http = await submit(pay_client, sides.kol, deal["id"], url="http://www.tiktok.com/v/1")
    no_such_piece = await submit(pay_client, sides.kol, deal["id"], deliverable=1)
    future = await submit(pay_client, sides.kol, deal["id"], posted_at=ago(hours=-2))
    broken = await submit(pay_client, sides.kol, deal["id"], url="https://[bad/video/1")

    assert elsewhere.status_code == 422
    assert elsewhere.headers["content-type"].startswith(PROBLEM)
    assert [e["field"] for e in elsewhere.json()["errors"]] == ["url"]
    assert "tiktok.com" in elsewhere.json()["errors"][0]["message"]
    assert [e["field"] for e in lookalike.json()["errors"]] == ["url"]
    assert (plain_http.status_code, plain_http.json()["errors"][0]["field"]) == (422, "url")
    assert [e["field"] for e in no_such_piece.json()["errors"]] == ["deliverable"]
    assert [e["field"] for e in future.json()["errors"]] == ["posted_at"]
    assert (broken.status_code, broken.json()["errors"][0]["field"]) == (422, "url")
    assert await deal_status(db, deal["id"]) == "funded"


async def test_only_the_deals_kol_submits(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, db
) -> None:
    deal = await funded_deal(pay_client, stripe_api, inbox, sides.merchant, sides.kol)
    stranger = await kol(pay_client)

    by_stranger = await submit(pay_client, stranger, deal["id"])
    by_merchant = await submit(pay_client, sides.merchant, deal["id"])

    assert by_stranger.status_code == 404
    assert by_merchant.status_code == 403
    assert await deal_status(db, deal["id"]) == "funded"


async def test_content_is_refused_before_funding(pay_client: Client, sides: Sides) -> None:
    deal = await accepted_deal(pay_client, sides.merchant, sides.kol)

    refused = await submit(pay_client, sides.kol, deal["id"])

    assert refused.status_code == 409


async def test_first_submission_moves_the_deal_and_both_sides_see_it(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, db
) -> None:
    deal = await funded_deal(pay_client, stripe_api, inbox, sides.merchant, sides.kol)
    await set_policy(db, deal["id"], review_days=5)
    metrics = {"views": 12_000, "likes": 900, "comments": 40, "shares": 12}

    piece = await submitted(pay_client, sides.kol, deal["id"], metrics=metrics)

    assert (piece["status"], piece["platform"], piece["metrics"]) == (
        "submitted",
        "tiktok",
        metrics,
    )
    created = datetime.fromisoformat(piece["created_at"])
    due = datetime.fromisoformat(piece["review_due_at"])
    assert timedelta(days=5) <= due - created < timedelta(days=5, seconds=5)
    assert await deal_status(db, deal["id"]) == "content_submitted"
    assert await event_types(db, piece["id"]) == ["submission.created"]
    partner = await api_key(pay_client, sides.merchant, "deals:read")
    url = f"/v1/deals/{deal['id']}/submissions"
    for headers in (sides.merchant.headers, sides.kol.headers, {"X-API-Key": partner}):
        listed = await pay_client.get(url, headers=headers)
        assert [s["id"] for s in listed.json()["items"]] == [piece["id"]], listed.text
    assert (await pay_client.get(url, headers=sides.other_merchant.headers)).status_code == 404


async def test_a_replayed_submission_is_made_once(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, db
) -> None:
    deal = await funded_deal(pay_client, stripe_api, inbox, sides.merchant, sides.kol)
    url, posted_at, key = post_url(), ago(hours=3), {"Idempotency-Key": uuid.uuid4().hex}

    first = await submit(
        pay_client, sides.kol, deal["id"], url=url, posted_at=posted_at, headers=key
    )
    again = await submit(
        pay_client, sides.kol, deal["id"], url=url, posted_at=posted_at, headers=key
    )

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    count = await db.fetchval(
        "SELECT count(*) FROM submissions WHERE deal_id = $1", uuid.UUID(deal["id"])
    )
    assert count == 1


async def test_only_the_merchant_of_the_deal_reviews(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox
) -> None:
    deal = await funded_deal(pay_client, stripe_api, inbox, sides.merchant, sides.kol)
    piece = await submitted(pay_client, sides.kol, deal["id"])

    by_kol = await review(pay_client, sides.kol, deal["id"], piece["id"], "approve")
    by_other = await review(pay_client, sides.other_merchant, deal["id"], piece["id"], "approve")
    unknown = await review(pay_client, sides.merchant, deal["id"], str(uuid.uuid4()), "approve")

    assert (by_kol.status_code, by_other.status_code, unknown.status_code) == (403, 404, 404)


async def test_changes_requested_then_resubmitted_then_approved(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, db
) -> None:
    deal = await funded_deal(pay_client, stripe_api, inbox, sides.merchant, sides.kol)
    first = await submitted(pay_client, sides.kol, deal["id"])
    second = await submitted(pay_client, sides.kol, deal["id"])

    third = await submit(pay_client, sides.kol, deal["id"])
    same_url = await submit(pay_client, sides.kol, deal["id"], url=first["url"])
    no_reason = await review(pay_client, sides.merchant, deal["id"], first["id"], "request_changes")
    sent_back = await review(
        pay_client, sides.merchant, deal["id"], first["id"], "request_changes",
        reason="Show the product label in the first three seconds.",
    )  # fmt: skip
    twice = await review(pay_client, sides.merchant, deal["id"], first["id"], "approve")
    redone = await submitted(pay_client, sides.kol, deal["id"])
    approved = [
        await review(pay_client, sides.merchant, deal["id"], piece["id"], "approve")
        for piece in (second, redone)
    ]

    assert third.status_code == 409  # the deliverable's two pieces are both under review
    assert same_url.status_code == 409
    assert (no_reason.status_code, no_reason.json()["errors"][0]["field"]) == (422, "reason")
    assert sent_back.status_code == 200
    assert (sent_back.json()["status"], sent_back.json()["reason"]) == (
        "changes_requested",
        "Show the product label in the first three seconds.",
    )
    assert twice.status_code == 409
    assert [a.json()["status"] for a in approved] == ["approved", "approved"]
    assert await event_types(db, first["id"]) == [
        "submission.created",
        "submission.changes_requested",
    ]
    assert await deal_status(db, deal["id"]) == "approved"


async def test_approving_every_piece_releases_the_deal(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, db
) -> None:
    deal = await funded_deal(pay_client, stripe_api, inbox, sides.merchant, sides.kol)
    await set_policy(db, deal["id"], payout_hold_days=5)
    first = await submitted(pay_client, sides.kol, deal["id"])
    await review(pay_client, sides.merchant, deal["id"], first["id"], "approve")

    assert await deal_status(db, deal["id"]) == "content_submitted"
    owed_before = await balance(db, "kol_payable", sides.kol.me["kol_id"])

    second = await submitted(pay_client, sides.kol, deal["id"])
    await review(pay_client, sides.merchant, deal["id"], second["id"], "approve")

    deal_id = uuid.UUID(deal["id"])
    approved_at = await db.fetchval("SELECT approved_at FROM deals WHERE id = $1", deal_id)
    assert await deal_status(db, deal["id"]) == "approved"
    fee = deal["terms"]["fixed_fee"]
    assert await balance(db, "merchant_escrow", deal["id"]) == 0
    assert await balance(db, "kol_payable", sides.kol.me["kol_id"]) - owed_before == fee
    payout = await db.fetchrow(
        "SELECT amount, status, due_at FROM payouts WHERE deal_id = $1", deal_id
    )
    assert (payout["amount"], payout["status"]) == (fee, "scheduled")
    assert payout["due_at"] == approved_at + timedelta(days=5)
    assert (await events_of(db, deal["id"]))[-1] == "deal.approved"
    statement = (
        await pay_client.get(f"/v1/deals/{deal['id']}/statement", headers=sides.kol.headers)
    ).json()
    assert [e["kind"] for e in statement["entries"]] == ["funding", "release"]


async def test_changes_can_no_longer_be_requested_after_the_review_window(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, db
) -> None:
    deal = await funded_deal(pay_client, stripe_api, inbox, sides.merchant, sides.kol)
    piece = await submitted(pay_client, sides.kol, deal["id"])
    await db.execute(
        "UPDATE submissions SET review_due_at = now() - interval '1 minute' WHERE id = $1",
        uuid.UUID(piece["id"]),
    )

    late = await review(
        pay_client, sides.merchant, deal["id"], piece["id"], "request_changes", reason="Too dark."
    )

    assert late.status_code == 409
    assert "approved automatically" in late.json()["detail"]
    status = await db.fetchval(
        "SELECT status FROM submissions WHERE id = $1", uuid.UUID(piece["id"])
    )
    assert status == "submitted"


async def test_the_worker_approves_after_the_review_window_and_releases_the_deal(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, db, database_url: str
) -> None:
    deal = await funded_deal(pay_client, stripe_api, inbox, sides.merchant, sides.kol)
    pieces = [await submitted(pay_client, sides.kol, deal["id"]) for _ in range(2)]
    waiting = await submitted(  # another deal's piece, still inside its window
        pay_client, sides.kol,
        (await funded_deal(pay_client, stripe_api, inbox, sides.merchant, sides.kol))["id"],
    )  # fmt: skip
    await db.execute(
        "UPDATE submissions SET review_due_at = now() - interval '1 hour'"
        " WHERE id = any($1::uuid[])",
        [uuid.UUID(p["id"]) for p in pieces],
    )

    await defer(db, "delivery:approve_overdue", {"timestamp": 0})
    await asyncio.wait_for(run_worker(database_url, concurrency=1, wait=False), timeout=60)

    listed = await pay_client.get(
        f"/v1/deals/{deal['id']}/submissions", headers=sides.merchant.headers
    )
    assert [(s["status"], s["auto_approved"], s["reason"]) for s in listed.json()["items"]] == [
        ("approved", True, "approved automatically: the review window ended")
    ] * 2
    assert await deal_status(db, deal["id"]) == "approved"
    assert await balance(db, "merchant_escrow", deal["id"]) == 0
    payout = await db.fetchrow(
        "SELECT amount, status FROM payouts WHERE deal_id = $1", uuid.UUID(deal["id"])
    )
    assert (payout["amount"], payout["status"]) == (deal["terms"]["fixed_fee"], "scheduled")
    auto = await db.fetchval(
        "SELECT payload->>'auto' FROM events"
        " WHERE aggregate_id = $1 AND type = 'submission.approved'",
        uuid.UUID(pieces[0]["id"]),
    )
    assert auto == "true"
    status = await db.fetchval(
        "SELECT status FROM submissions WHERE id = $1", uuid.UUID(waiting["id"])
    )
    assert status == "submitted"


async def test_paid_deals_close_when_their_attribution_window_ends(
    pay_client: Client, sides: Sides, stripe_api, inbox: Inbox, db
) -> None:
    ended = await funded_deal(pay_client, stripe_api, inbox, sides.merchant, sides.kol)
    running = await funded_deal(pay_client, stripe_api, inbox, sides.merchant, sides.kol)
    days = ended["terms"]["attribution_days"]
    for deal, approved_days_ago in ((ended, days + 1), (running, days - 1)):
        await db.execute(
            "UPDATE deals SET status = 'paid', approved_at = now() - make_interval(days => $2)"
            " WHERE id = $1",
            uuid.UUID(deal["id"]),
            approved_days_ago,
        )

    closed = await deals.close_attributed(db, datetime.now(ago().tzinfo))

    assert closed >= 1
    assert await deal_status(db, ended["id"]) == "closed"
    assert await deal_status(db, running["id"]) == "paid"
    assert (await events_of(db, ended["id"]))[-1] == "deal.closed"
