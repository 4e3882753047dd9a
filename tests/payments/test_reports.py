"""A brief's campaign report: its money agrees with the ledger, its counts with what was
tracked, and it compares the campaign with the plan."""

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe

from services.ledger import rules as ledger_rules
from services.ledger.service import balance
from services.tracking import commissions as tracking
from tests.helpers import Client, api_key, kol, merchant
from tests.negotiation.support import answer, invite, open_brief
from tests.payments.conftest import Inbox
from tests.payments.support import deliver, pay, start_funding

NOW = datetime.now(UTC)


async def _fund(client: Client, stripe_api: stripe.StripeClient, inbox: Inbox, owner, deal_id: str):
    funding = await start_funding(client, owner, deal_id)
    await pay(stripe_api, funding["payment_intent_id"])
    body, signature = await inbox.wait_for("payment_intent.succeeded", funding["payment_intent_id"])
    assert (await deliver(client, body, signature)).status_code == 200


async def _click(db: Any, deal_id: str, n: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(n)]
    await db.executemany(
        "INSERT INTO clicks (id, deal_id, clicked_at) VALUES ($1, $2, $3)",
        [(i, uuid.UUID(deal_id), NOW - timedelta(hours=2)) for i in ids],
    )
    return ids


async def _content(db: Any, deal_id: str, views: int, likes: int, comments: int) -> None:
    metrics = {"views": views, "likes": likes, "comments": comments, "shares": 0}
    await db.execute(
        """INSERT INTO submissions (deal_id, deliverable, platform, url, posted_at, metrics,
                                    status, review_due_at)
           VALUES ($1, 0, 'tiktok', $2, $3, $4, 'approved', $3)""",
        uuid.UUID(deal_id),
        f"https://www.tiktok.com/@c/video/{uuid.uuid4().int % 10**12}",
        NOW - timedelta(days=1),
        metrics,
    )


def _order(code: str | None = None, amount: int = 10_000, **more: Any) -> dict[str, Any]:
    body = {
        "order_id": uuid.uuid4().hex,
        "amount": amount,
        "currency": "USD",
        "occurred_at": datetime.now(UTC).isoformat(),
        **more,
    }
    if code:
        body["tracking_code"] = code
    return body


async def test_report_adds_up_to_the_ledger_and_the_tracked_orders(
    pay_client: Client, stripe_api: stripe.StripeClient, inbox: Inbox, db: Any
) -> None:
    client = pay_client
    owner = await merchant(client)
    first_kol, second_kol = await kol(client), await kol(client)
    brief = await open_brief(client, owner)
    deals = []
    for creator, fee in ((first_kol, 50_000), (second_kol, 30_000)):
        offer = await invite(client, owner, brief["id"], creator, fee)
        accepted = await answer(client, creator, offer, "accept", 1)
        deals.append(accepted.json())
    first, second = deals
    await _fund(client, stripe_api, inbox, owner, first["id"])
    await _fund(client, stripe_api, inbox, owner, second["id"])
    cancelled = await client.post(f"/v1/deals/{second['id']}/cancel", headers=owner.headers)
    assert cancelled.status_code == 200, cancelled.text
    codes = {
        d["id"]: await db.fetchval(
            "SELECT code FROM tracking_links WHERE deal_id = $1", uuid.UUID(d["id"])
        )
        for d in deals
    }
    clicks = await _click(db, first["id"], 40)
    await _click(db, second["id"], 10)
    await _content(db, first["id"], views=20_000, likes=1_500, comments=100)
    await _content(db, first["id"], views=10_000, likes=400, comments=0)
    buyer = "b" * 64
    partner = {"X-API-Key": await api_key(client, owner, "conversions:write", "reports:read")}
    booked = [
        _order(codes[first["id"]], 20_000, buyer_ref=buyer),
        _order(click_id=str(clicks[0]), amount=40_000),
    ]
    pending = [_order(codes[first["id"]], 10_000, buyer_ref=buyer), _order("nosuchcode99")]
    for batch in (booked, pending):
        sent = await client.post("/v1/conversions/batch", json={"items": batch}, headers=partner)
        assert sent.status_code == 200, sent.text
    await db.execute(
        "UPDATE conversions SET hold_until = $2 WHERE order_id = any($1::text[])",
        [o["order_id"] for o in booked],
        NOW - timedelta(seconds=1),
    )
    assert await tracking.approve_due(db) >= 2
    plan_result = {"status": "optimal", "total_spend": 90_000, "total_reach": 25_000.4,
                   "total_conversions": 7.6}  # fmt: skip
    await db.execute(
        """INSERT INTO plans (merchant_id, brief_id, kind, status, problem, result, adopted_at)
           VALUES ($1, $2, 'allocation', 'solved', '{}', $3, now())""",
        uuid.UUID(owner.me["merchant_id"]),
        uuid.UUID(brief["id"]),
        plan_result,
    )

    response = await client.get(f"/v1/briefs/{brief['id']}/report", headers=partner)

    assert response.status_code == 200, response.text
    report = response.json()
    by_deal = {d["deal_id"]: d["figures"] for d in report["deals"]}
    statements = [
        (await client.get(f"/v1/deals/{d['id']}/statement", headers=owner.headers)).json()
        for d in deals
    ]
    fixed = [s["funded"] - s["refunded"] for s in statements]
    merchant_id = uuid.UUID(owner.me["merchant_id"])
    commission_in_ledger = await balance(db, ledger_rules.receivable(merchant_id, "USD"))
    assert fixed == [first["terms"]["merchant_pays"], 0]
    assert [by_deal[d["id"]]["fixed_spend"] for d in deals] == fixed
    assert commission_in_ledger == 3_000 + 6_000
    assert report["total"]["commission_spend"] == commission_in_ledger
    assert report["total"]["fixed_spend"] == sum(fixed)
    spend = sum(fixed) + commission_in_ledger
    assert report["total"]["spend"] == spend
    one = by_deal[first["id"]]
    assert (one["clicks"], one["conversions"], one["gmv"]) == (40, 3, 70_000)
    assert (one["pending_commission"], one["reach"], one["engagement"]) == (1_500, 30_000, 2_000)
    assert one["repeat_buyers"] == 1
    assert one["roi_bp"] == round((70_000 - spend) * 10_000 / spend)
    assert one["cost_per_conversion"] == round(spend / 3)
    two = by_deal[second["id"]]
    assert (two["clicks"], two["conversions"], two["spend"], two["roi_bp"]) == (10, 0, 0, None)
    assert report["total"]["clicks"] == 50
    assert report["against_plan"] == [
        {"metric": "spend", "goal": None, "expected": 90_000, "actual": spend},
        {"metric": "reach", "goal": 200_000, "expected": 25_000, "actual": 30_000},
        {"metric": "conversions", "goal": 500, "expected": 8, "actual": 3},
    ]
    assert [(s["stage"], s["count"], s["rate_bp"]) for s in report["funnel"]] == [
        ("reach", 30_000, None),
        ("engagement", 2_000, 667),
        ("clicks", 50, 250),
        ("conversions", 3, 600),
        ("repeat_buyers", 1, 3_333),
    ]

    exported = await client.get(
        f"/v1/briefs/{brief['id']}/report?format=csv", headers=owner.headers
    )
    assert exported.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(exported.text)))
    assert [line["deal_id"] for line in lines] == [first["id"], second["id"], "total"]
    assert int(lines[-1]["spend"]) == spend
    assert int(lines[0]["gmv"]) == 70_000
    assert lines[1]["roi_bp"] == ""


async def test_only_the_briefs_merchant_reads_its_report(pay_client: Client) -> None:
    owner, stranger, creator = (
        await merchant(pay_client),
        await merchant(pay_client),
        await kol(pay_client),
    )
    brief = await open_brief(pay_client, owner)
    path = f"/v1/briefs/{brief['id']}/report"
    unscoped = {"X-API-Key": await api_key(pay_client, owner, "conversions:write")}

    assert (await pay_client.get(path, headers=owner.headers)).status_code == 200
    assert (await pay_client.get(path, headers=stranger.headers)).status_code == 404
    assert (await pay_client.get(path, headers=creator.headers)).status_code == 403
    assert (await pay_client.get(path, headers=unscoped)).status_code == 403
    bad = await pay_client.get(f"{path}?format=pdf", headers=owner.headers)
    assert (bad.status_code, bad.headers["content-type"]) == (422, "application/problem+json")
    assert bad.json()["errors"][0]["field"] == "format"
