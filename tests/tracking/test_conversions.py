"""Conversions through the HTTP API: attribution, repeats, rejections with reasons, fraud holds,
the deal's cap, returns, operator review, and the holding period's end booking the ledger."""

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from contracts.events import ConversionRecorded, EventPayload
from services.accounts.service import ensure_operator
from services.ledger import rules as ledger_rules
from services.ledger.service import balance
from services.tracking import commissions
from tests.helpers import Account, Client, api_key, kol, login, merchant, unique_email
from tests.negotiation.support import answer, events_of, open_brief, terms

PROBLEM = "application/problem+json"


class Deal:
    """An accepted deal with its tracking code and a partner key of its merchant."""

    def __init__(self, row: dict[str, Any], code: str, owner: Account, creator: Account, key: str):
        self.id = row["id"]
        self.row = row
        self.code = code
        self.owner = owner
        self.creator = creator
        self.partner = {"X-API-Key": key}

    @property
    def take_rate_bp(self) -> int:
        rate: int = self.row["terms"]["take_rate_bp"]
        return rate


async def make_deal(
    client: Client, db: Any, owner: Account | None = None, **term_changes: Any
) -> Deal:
    owner = owner or await merchant(client)
    creator = await kol(client)
    brief = await open_brief(client, owner)
    body = {"kol_id": creator.me["kol_id"], "terms": terms(50_000, **term_changes)}
    offer = await client.post(f"/v1/briefs/{brief['id']}/offers", json=body, headers=owner.headers)
    assert offer.status_code == 201, offer.text
    accepted = await answer(client, creator, offer.json(), "accept", 1)
    assert accepted.status_code == 200, accepted.text
    row = accepted.json()
    code = await db.fetchval(
        "SELECT code FROM tracking_links WHERE deal_id = $1", uuid.UUID(row["id"])
    )
    key = await api_key(client, owner, "conversions:write", "reports:read")
    return Deal(row, code, owner, creator, key)


def order(deal: Deal | None = None, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": f"o-{uuid.uuid4().hex[:12]}",
        "amount": 10_000,
        "currency": "USD",
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    if deal is not None:
        body["tracking_code"] = deal.code
    body.update(changes)
    return body


async def click(db: Any, deal: Deal, at: datetime | None = None) -> str:
    click_id = uuid.uuid4()
    await db.execute(
        "INSERT INTO clicks (id, deal_id, clicked_at) VALUES ($1, $2, $3)",
        click_id,
        uuid.UUID(deal.id),
        at or datetime.now(UTC) - timedelta(minutes=5),
    )
    return str(click_id)


def cut(commission: int, take_rate_bp: int) -> int:
    return (commission * take_rate_bp + 5_000) // 10_000  # exact here: no ties in these amounts


async def test_an_order_counts_once_with_its_commission(client: Client, db: Any) -> None:
    deal = await make_deal(client, db)
    body = order(deal, amount=12_345)

    first = await client.post("/v1/conversions", json=body, headers=deal.partner)
    again = await client.post("/v1/conversions", json=body, headers=deal.partner)

    assert first.status_code == 201, first.text
    made = first.json()
    made_id = uuid.UUID(made["id"])
    commission = 1_852  # 12,345 × 15 % = 1,851.75
    assert (made["status"], made["reasons"], made["deal_id"]) == ("pending", [], deal.id)
    assert made["commission"] == commission
    assert made["platform_cut"] == cut(commission, deal.take_rate_bp)
    assert made["kol_share"] == commission - made["platform_cut"]
    assert (again.status_code, again.json()) == (200, made)
    assert await events_of(db, made["id"]) == ["conversion.recorded"]
    payload = await db.fetchval("SELECT payload FROM events WHERE aggregate_id = $1", made_id)
    assert msgspec.convert(payload, EventPayload) == ConversionRecorded(
        conversion_id=made_id, merchant_id=uuid.UUID(deal.owner.me["merchant_id"]),
        deal_id=uuid.UUID(deal.id), order_id=body["order_id"], amount=12_345, currency="USD",
        status="pending", reasons=[], commission=commission,
    )  # fmt: skip
    counted = await db.fetchval(
        "SELECT commission_counted FROM tracking_links WHERE deal_id = $1", uuid.UUID(deal.id)
    )
    assert counted == commission


async def test_a_contradicting_report_of_a_counted_order_is_rejected_as_duplicate(
    client: Client, db: Any
) -> None:
    deal = await make_deal(client, db)
    body = order(deal)
    first = (await client.post("/v1/conversions", json=body, headers=deal.partner)).json()

    other = await client.post(
        "/v1/conversions", json=body | {"amount": 99_999}, headers=deal.partner
    )

    assert other.status_code == 201
    assert (other.json()["status"], other.json()["reasons"]) == ("rejected", ["duplicate"])
    assert other.json()["id"] != first["id"]
    assert other.json()["commission"] == 0


async def test_batch_gives_each_item_its_own_result(client: Client, db: Any) -> None:
    deal = await make_deal(client, db)
    now = datetime.now(UTC)
    repeated = order(deal, order_id="repeat-1")
    items = [
        order(deal, amount=20_000),
        order(tracking_code="nosuchcode12"),
        order(deal, occurred_at=(now - timedelta(days=2)).isoformat()),
        order(deal, currency="EUR"),
        repeated,
        repeated,
        repeated | {"amount": 1},
        order(deal, occurred_at=(now + timedelta(hours=2)).isoformat()),
        order(),
    ]

    response = await client.post(
        "/v1/conversions/batch", json={"items": items}, headers=deal.partner
    )

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(len(items)))
    assert [(r["status"], r["reasons"], r["duplicate"]) for r in results] == [
        ("pending", [], False),
        ("rejected", ["unknown_code"], False),
        ("rejected", ["outside_window"], False),
        ("rejected", ["currency_mismatch"], False),
        ("pending", [], False),
        ("pending", [], True),
        ("rejected", ["duplicate"], False),
        ("rejected", ["occurred_in_future"], False),
        ("rejected", ["unknown_code"], False),
    ]
    assert results[5]["id"] == results[4]["id"]
    assert results[0]["commission"] == 3_000
    assert response.json()["counts"] == {"pending": 3, "rejected": 6}
    stored = await db.fetch(
        "SELECT status, count(*) FROM conversions WHERE merchant_id = $1 GROUP BY status",
        uuid.UUID(deal.owner.me["merchant_id"]),
    )
    assert {r["status"]: r["count"] for r in stored} == {"pending": 2, "rejected": 6}

    resent = await client.post("/v1/conversions/batch", json={"items": items}, headers=deal.partner)
    again = resent.json()["results"]
    # A report rejected as ahead of our clock is judged again; every other one is answered
    # from what was stored.
    assert [r["id"] == first["id"] for r, first in zip(again, results, strict=True)] == [
        True, True, True, True, True, True, True, False, True,
    ]  # fmt: skip
    assert [r["duplicate"] for r in again] == [True] * 7 + [False, True]
    assert (again[7]["status"], again[7]["reasons"]) == ("rejected", ["occurred_in_future"])


async def test_malformed_batches_are_refused_whole_naming_the_item(client: Client, db: Any) -> None:
    deal = await make_deal(client, db)
    bad = [order(deal), order(deal, amount=-5)]

    response = await client.post("/v1/conversions/batch", json={"items": bad}, headers=deal.partner)
    too_many = await client.post(
        "/v1/conversions/batch", json={"items": [order(deal)] * 1001}, headers=deal.partner
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert "items[1].amount" in response.json()["detail"]
    assert too_many.status_code == 422
    assert (
        await db.fetchval("SELECT count(*) FROM conversions WHERE deal_id = $1", uuid.UUID(deal.id))
        == 0
    )


async def test_clicks_attribute_orders_within_their_window(client: Client, db: Any) -> None:
    deal = await make_deal(client, db)
    stranger = await make_deal(client, db)
    clicked = datetime.now(UTC) - timedelta(hours=1)
    click_id = await click(db, deal, clicked)
    foreign_click = await click(db, stranger)
    items = [
        order(click_id=click_id),
        order(click_id=click_id, occurred_at=(clicked - timedelta(minutes=1)).isoformat()),
        order(deal, click_id=await click(db, deal)),
        order(stranger, click_id=click_id),
        order(click_id=foreign_click),
        order(click_id=str(uuid.uuid4())),
        order(deal, click_id=str(uuid.uuid4())),  # a click we never recorded: the code counts
    ]

    results = (
        await client.post("/v1/conversions/batch", json={"items": items}, headers=deal.partner)
    ).json()["results"]

    assert [(r["status"], r["reasons"]) for r in results] == [
        ("pending", []),
        ("rejected", ["outside_window"]),
        ("pending", []),
        ("rejected", ["unknown_code"]),  # the other merchant's code is not ours to use
        ("rejected", ["unknown_click"]),
        ("rejected", ["unknown_click"]),
        ("pending", []),
    ]


async def test_fraud_signals_hold_orders_for_review(client: Client, db: Any) -> None:
    deal = await make_deal(client, db)
    kol_ref = hashlib.sha256(deal.creator.email.encode()).hexdigest()
    burst = await click(db, deal)
    items = [order(deal, buyer_ref=kol_ref)] + [order(click_id=burst) for _ in range(4)]

    results = (
        await client.post("/v1/conversions/batch", json={"items": items}, headers=deal.partner)
    ).json()["results"]
    await db.execute(
        "UPDATE briefs SET click_required = true WHERE id = $1",
        uuid.UUID(deal.row["brief_id"]),
    )
    clickless = (
        await client.post("/v1/conversions", json=order(deal), headers=deal.partner)
    ).json()

    assert [(r["status"], r["reasons"]) for r in results] == [
        ("held", ["buyer_is_kol"]),
        ("pending", []),
        ("pending", []),
        ("pending", []),
        ("held", ["click_burst"]),
    ]
    assert (clickless["status"], clickless["reasons"]) == ("held", ["no_click"])


async def test_commission_stops_at_the_deals_cap_and_a_return_frees_it(
    client: Client, db: Any
) -> None:
    deal = await make_deal(client, db, commission_cap=4_000)
    items = [order(deal, amount=20_000), order(deal, amount=20_000), order(deal, amount=20_000)]

    results = (
        await client.post("/v1/conversions/batch", json={"items": items}, headers=deal.partner)
    ).json()["results"]
    returned = await client.post(
        f"/v1/conversions/{results[0]['id']}/reversal",
        json={"reason": "returned by the buyer"},
        headers=deal.partner,
    )
    later = (
        await client.post("/v1/conversions", json=order(deal, amount=10_000), headers=deal.partner)
    ).json()

    assert [r["commission"] for r in results] == [3_000, 1_000, 0]
    assert returned.status_code == 200, returned.text
    assert (returned.json()["status"], returned.json()["reversal_reason"]) == (
        "reversed",
        "returned by the buyer",
    )
    assert later["commission"] == 1_500
    assert await events_of(db, results[0]["id"]) == ["conversion.recorded", "conversion.reversed"]


async def test_the_holding_period_end_books_commissions_and_returns_come_too_late(
    client: Client, db: Any
) -> None:
    deal = await make_deal(client, db)
    items = [order(deal, amount=10_000), order(deal, amount=30_000), order(deal, amount=5)]
    results = (
        await client.post("/v1/conversions/batch", json={"items": items}, headers=deal.partner)
    ).json()["results"]
    early = await client.post(f"/v1/conversions/{results[2]['id']}/reversal", headers=deal.partner)
    assert early.status_code == 200, early.text
    deal_id, merchant_id = uuid.UUID(deal.id), uuid.UUID(deal.owner.me["merchant_id"])
    kol_id = uuid.UUID(deal.creator.me["kol_id"])
    before = await balance(db, ledger_rules.receivable(merchant_id, "USD"))
    assert before == 0

    approved = await commissions.approve_due(db, datetime.now(UTC) + timedelta(days=15))

    assert approved >= 2
    shown = [
        (await client.get(f"/v1/conversions/{r['id']}", headers=deal.owner.headers)).json()
        for r in results
    ]
    assert [c["status"] for c in shown] == ["approved", "approved", "reversed"]
    assert await events_of(db, results[0]["id"]) == ["conversion.recorded", "conversion.approved"]
    commission = 1_500 + 4_500
    cuts = sum(c["platform_cut"] for c in shown[:2])
    assert await balance(db, ledger_rules.receivable(merchant_id, "USD")) == commission
    assert await balance(db, ledger_rules.payable(kol_id, "USD")) == commission - cuts
    entries = await db.fetch("SELECT kind FROM journal_entries WHERE deal_id = $1", deal_id)
    assert [e["kind"] for e in entries] == ["commission"]
    late = await client.post(f"/v1/conversions/{results[0]['id']}/reversal", headers=deal.partner)
    assert late.status_code == 409
    assert "holding period ended" in late.json()["detail"]


async def test_a_deal_in_dispute_keeps_its_commissions_pending(client: Client, db: Any) -> None:
    deal = await make_deal(client, db)
    made = (await client.post("/v1/conversions", json=order(deal), headers=deal.partner)).json()
    await db.execute("UPDATE deals SET status = 'disputed' WHERE id = $1", uuid.UUID(deal.id))

    await commissions.approve_due(db, datetime.now(UTC) + timedelta(days=15))

    status = await db.fetchval(
        "SELECT status FROM conversions WHERE id = $1", uuid.UUID(made["id"])
    )
    assert status == "pending"


async def test_operators_approve_or_reject_held_orders(client: Client, db: Any) -> None:
    email = unique_email("operator")
    await ensure_operator(db, email, "operator pass 123")
    operator = await login(client, email, "operator pass 123")
    deal = await make_deal(client, db)
    kol_ref = hashlib.sha256(deal.creator.email.encode()).hexdigest()
    items = [order(deal, buyer_ref=kol_ref, amount=10_000) for _ in range(2)]
    first, second = (
        await client.post("/v1/conversions/batch", json={"items": items}, headers=deal.partner)
    ).json()["results"]

    queue = await client.get("/v1/conversions/held?limit=100", headers=operator.headers)
    approve = await client.post(
        f"/v1/conversions/{first['id']}/review",
        json={"decision": "approve", "note": "the KOL bought for a giveaway; agreed"},
        headers=operator.headers,
    )
    reject = await client.post(
        f"/v1/conversions/{second['id']}/review",
        json={"decision": "reject", "note": "self-purchase"},
        headers=operator.headers,
    )
    again = await client.post(
        f"/v1/conversions/{second['id']}/review",
        json={"decision": "approve", "note": "changed my mind"},
        headers=operator.headers,
    )
    by_merchant = await client.post(
        f"/v1/conversions/{first['id']}/review",
        json={"decision": "approve", "note": "mine"},
        headers=deal.owner.headers,
    )

    assert {first["id"], second["id"]} <= {c["id"] for c in queue.json()["items"]}
    assert (approve.status_code, approve.json()["status"]) == (200, "pending")
    assert (reject.status_code, reject.json()["status"]) == (200, "rejected")
    assert reject.json()["review_note"] == "self-purchase"
    assert reject.json()["reversal_reason"] is None
    assert await events_of(db, first["id"]) == ["conversion.recorded", "conversion.reviewed"]
    assert again.status_code == 409
    assert by_merchant.status_code == 403
    counted = await db.fetchval(
        "SELECT commission_counted FROM tracking_links WHERE deal_id = $1", uuid.UUID(deal.id)
    )
    assert counted == 1_500


async def test_only_the_merchant_and_its_partners_report_and_see_orders(
    client: Client, db: Any
) -> None:
    deal = await make_deal(client, db)
    other = await merchant(client)
    other_key = {"X-API-Key": await api_key(client, other, "conversions:write", "reports:read")}
    read_only = {"X-API-Key": await api_key(client, deal.owner, "reports:read")}
    made = (await client.post("/v1/conversions", json=order(deal), headers=deal.partner)).json()

    by_kol = await client.post("/v1/conversions", json=order(deal), headers=deal.creator.headers)
    unscoped = await client.post("/v1/conversions", json=order(deal), headers=read_only)
    by_member = await client.post("/v1/conversions", json=order(deal), headers=deal.owner.headers)
    foreign_reverse = await client.post(f"/v1/conversions/{made['id']}/reversal", headers=other_key)
    foreign_read = await client.get(f"/v1/conversions/{made['id']}", headers=other_key)
    kol_read = await client.get(f"/v1/conversions/{made['id']}", headers=deal.creator.headers)
    listed = await client.get(f"/v1/conversions?deal_id={deal.id}", headers=read_only)

    assert (by_kol.status_code, unscoped.status_code, by_member.status_code) == (403, 403, 201)
    assert (foreign_reverse.status_code, foreign_read.status_code) == (404, 404)
    assert kol_read.status_code == 200
    assert {c["id"] for c in listed.json()["items"]} == {made["id"], by_member.json()["id"]}
    one = await client.get(f"/v1/conversions?order_id={made['order_id']}", headers=read_only)
    assert [c["id"] for c in one.json()["items"]] == [made["id"]]
    by_creator = await client.get("/v1/conversions", headers=deal.creator.headers)
    assert {c["id"] for c in by_creator.json()["items"]} == {made["id"], by_member.json()["id"]}
    pending = await client.get("/v1/conversions?status=pending&limit=1", headers=read_only)
    assert len(pending.json()["items"]) == 1 and pending.json()["next_cursor"]
    foreign_deal = await client.get(f"/v1/conversions?deal_id={deal.id}", headers=other_key)
    assert foreign_deal.status_code == 404


async def test_racing_batches_count_each_order_once_and_never_pass_the_cap(
    client: Client, db: Any
) -> None:
    deal = await make_deal(client, db, commission_cap=25_000)
    orders = [order(deal, amount=10_000 + i) for i in range(40)]
    first, second = orders[:30], orders[10:]  # 20 orders in both batches

    answers = await asyncio.gather(
        *(
            client.post("/v1/conversions/batch", json={"items": batch}, headers=deal.partner)
            for batch in (first, second, first)
        )
    )

    assert [a.status_code for a in answers] == [200, 200, 200]
    by_order: dict[str, set[str]] = {}
    for reply in answers:
        for result in reply.json()["results"]:
            by_order.setdefault(result["order_id"], set()).add(result["id"])
    assert len(by_order) == 40
    assert all(len(ids) == 1 for ids in by_order.values())  # every answer names one report
    rows = await db.fetch(
        "SELECT order_id, status, commission FROM conversions WHERE deal_id = $1",
        uuid.UUID(deal.id),
    )
    assert sorted(r["order_id"] for r in rows) == sorted(o["order_id"] for o in orders)
    counted = await db.fetchval(
        "SELECT commission_counted FROM tracking_links WHERE deal_id = $1", uuid.UUID(deal.id)
    )
    assert counted == sum(r["commission"] for r in rows) == 25_000
