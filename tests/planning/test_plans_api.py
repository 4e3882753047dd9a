"""Rate cards, quotes and plans through the HTTP API."""

import asyncio
import uuid

import msgspec
import pytest

from pricing.ratecard import default_rate_card
from pricing.rounding import round_half_even
from services.worker.app import run_worker
from tests.helpers import Client, api_key, kol, merchant, register
from tests.planning.support import operator, unique_region

SEGMENTS = [
    {
        "platform": "tiktok",
        "tier": "nano",
        "fee": 15_000,
        "reach": 4_000,
        "audience": 400_000,
        "cvr": 0.004,
        "commission_per_conversion": 300,
        "available": 40,
    },
    {
        "platform": "instagram",
        "tier": "micro",
        "fee": 60_000,
        "reach": 20_000,
        "audience": 2_000_000,
        "cvr": 0.002,
        "available": 10,
    },
]


# Caps that bind nothing but make a problem large by the engine's size rule (candidates ×
# (1 + constraints)), so it goes to the worker.
ROOMY_CAPS = {
    "max_creators_per_platform": {p: 100_000 for p in ("tiktok", "douyin", "instagram", "weibo",
                                                        "wechat", "bilibili", "kuaishou",
                                                        "youtube", "xiaohongshu", "taobao_live")},
    "max_creators_per_tier": {t: 100_000 for t in ("nano", "micro", "mid", "macro", "mega")},
}  # fmt: skip


def candidates(n: int) -> list[dict]:
    return [
        {
            "id": f"c{i}",
            "platform": ["tiktok", "douyin", "instagram"][i % 3],
            "tier": ["nano", "micro"][i % 2],
            "fee": 10_000 + 37 * (i % 101),
            "reach": 3_000.0 + 11 * (i % 97),
            "conversions": 5.0 + (i % 13) / 3,
        }
        for i in range(n)
    ]


async def test_current_rate_card_is_readable_by_people_not_partners(client: Client) -> None:
    owner = await merchant(client)
    card = await client.get("/v1/rate-cards/current", headers=owner.headers)
    assert card.status_code == 200
    assert card.json()["version"]
    assert card.json()["sources"]
    key = await api_key(client, owner, "deals:read")
    assert (
        await client.get("/v1/rate-cards/current", headers={"X-API-Key": key})
    ).status_code == 403


async def test_operators_publish_new_versions_never_edits(client: Client, db) -> None:
    ops = await operator(client, db)
    owner = await merchant(client)
    base = msgspec.to_builtins(default_rate_card())
    version = f"test-{uuid.uuid4().hex[:8]}"
    new_card = {**base, "version": version, "take_rate_bp": 1200}
    body = {"card": new_card, "note": "take rate review"}
    assert (
        await client.post("/v1/rate-cards", json=body, headers=owner.headers)
    ).status_code == 403
    published = await client.post("/v1/rate-cards", json=body, headers=ops)
    assert published.status_code == 201, published.text
    again = await client.post("/v1/rate-cards", json=body, headers=ops)
    assert again.status_code == 409
    current = (await client.get("/v1/rate-cards/current", headers=owner.headers)).json()
    assert current["version"] == version
    broken = {**new_card, "version": version + "b", "cpm": {"tiktok": {"nano": 100}}}
    refused = await client.post("/v1/rate-cards", json={"card": broken, "note": "x"}, headers=ops)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"].startswith("rate_card.")
    # Published cards are append-only, in the database itself.
    status = await db.execute("SELECT 1")
    assert status
    try:
        await db.execute("UPDATE rate_cards SET note = 'edited' WHERE version = $1", version)
        raise AssertionError("rate cards must not be editable")
    except Exception as error:
        assert "never changed" in str(error)
    # Put the default card back on top so other tests quote with it.
    restore = {**base, "version": f"restore-{uuid.uuid4().hex[:8]}"}
    assert (
        await client.post("/v1/rate-cards", json={"card": restore, "note": "r"}, headers=ops)
    ).status_code == 201


async def test_quote_of_given_metrics_adds_up_and_names_bad_fields(client: Client) -> None:
    owner = await merchant(client)
    body = {
        "account": {
            "platform": "tiktok",
            "followers": 50_000,
            "median_views": 12_000,
            "engagement_rate": 0.08,
            "authenticity": 0.95,
        },
        "deliverable": {"kind": "short_video", "count": 2},
        "product": {"average_order_value": 4_500, "commission_bp": 1500},
    }
    response = await client.post("/v1/quotes", json=body, headers=owner.headers)
    assert response.status_code == 200, response.text
    quote = response.json()
    assert quote["merchant_pays"] == quote["creator_fee"] + quote["platform_fee"]
    assert quote["commission_per_conversion"] == 675
    assert quote["rate_card_version"]
    wrong = await client.post("/v1/quotes", json={**body, "currency": "EUR"}, headers=owner.headers)
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "currency"
    negative = {**body, "account": {**body["account"], "followers": -1}}
    bad = await client.post("/v1/quotes", json=negative, headers=owner.headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "account.followers"
    neither = {"deliverable": body["deliverable"]}
    assert (await client.post("/v1/quotes", json=neither, headers=owner.headers)).status_code == 422
    unknown = {"account_id": str(uuid.uuid4()), "deliverable": body["deliverable"]}
    assert (await client.post("/v1/quotes", json=unknown, headers=owner.headers)).status_code == 404


async def test_quote_for_a_brief_uses_its_product_commission_and_currency(client: Client) -> None:
    from tests.negotiation.support import open_brief

    owner = await merchant(client)
    brief = await open_brief(client, owner)
    body = {
        "account": {
            "platform": "tiktok",
            "followers": 50_000,
            "median_views": 12_000,
            "engagement_rate": 0.08,
            "authenticity": 0.95,
        },
        "deliverable": {"kind": "short_video"},
        "brief_id": brief["id"],
    }
    response = await client.post("/v1/quotes", json=body, headers=owner.headers)
    assert response.status_code == 200, response.text
    expected = brief["product"]["average_order_value"] * brief["commission"]["commission_bp"]
    assert expected > 0
    assert response.json()["commission_per_conversion"] == round_half_even(expected, 10_000)
    other = await merchant(client)
    assert (await client.post("/v1/quotes", json=body, headers=other.headers)).status_code == 404
    creator = await kol(client)
    assert (await client.post("/v1/quotes", json=body, headers=creator.headers)).status_code == 200


async def test_allocation_is_saved_and_only_its_merchant_sees_it(client: Client) -> None:
    owner = await merchant(client)
    problem = {"segments": SEGMENTS, "budget": 1_500_000, "min_reach": 50_000}
    response = await client.post("/v1/plans/allocations", json=problem, headers=owner.headers)
    assert response.status_code == 201, response.text
    plan = response.json()
    assert plan["status"] == "solved"
    assert plan["stop_reason"] in ("optimal", "gap_reached")
    allocation = plan["allocation"]
    assert allocation["total_spend"] <= 1_500_000
    assert allocation["total_reach"] >= 50_000
    assert sum(s["spend"] for s in allocation["segments"]) == allocation["total_spend"]
    again = await client.get(plan["status_url"], headers=owner.headers)
    assert again.json() == plan
    other = await merchant(client)
    assert (await client.get(plan["status_url"], headers=other.headers)).status_code == 404
    creator = await kol(client)
    assert (
        await client.post("/v1/plans/allocations", json=problem, headers=creator.headers)
    ).status_code == 403


async def test_infeasible_allocation_answers_with_a_diagnosis(client: Client) -> None:
    owner = await merchant(client)
    problem = {"segments": SEGMENTS, "budget": 10_000, "min_reach": 100_000}
    response = await client.post("/v1/plans/allocations", json=problem, headers=owner.headers)
    assert response.status_code == 201
    plan = response.json()
    assert plan["status"] == "infeasible"
    diagnosis = plan["diagnosis"]
    assert "budget" in diagnosis["conflicts"] or "min_reach" in diagnosis["conflicts"]
    assert diagnosis["suggestions"]
    bad = await client.post(
        "/v1/plans/allocations", json={**problem, "budget": -5}, headers=owner.headers
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "budget"


@pytest.mark.slow
async def test_small_selection_is_solved_inline_and_large_one_is_queued(
    client: Client, database_url: str
) -> None:
    owner = await merchant(client)
    small = {"candidates": candidates(300), "budget": 500_000, "min_reach": 20_000}
    response = await client.post("/v1/plans/selections", json=small, headers=owner.headers)
    assert response.status_code == 201, response.text
    selection = response.json()["selection"]
    chosen = {c["id"]: c for c in small["candidates"] if c["id"] in set(selection["selected"])}
    assert sum(c["fee"] for c in chosen.values()) == selection["total_spend"] <= 500_000

    large = {"candidates": candidates(20_500), "budget": 2_000_000, "time_limit_seconds": 20,
             **ROOMY_CAPS}  # fmt: skip
    queued = await client.post("/v1/plans/selections", json=large, headers=owner.headers)
    assert queued.status_code == 202
    assert queued.headers["location"] == queued.json()["status_url"]
    assert queued.json()["status"] == "queued"
    await asyncio.wait_for(run_worker(database_url, concurrency=1, wait=False), timeout=120)
    done = (await client.get(queued.headers["location"], headers=owner.headers)).json()
    assert done["status"] == "solved"
    assert done["selection"]["total_spend"] <= 2_000_000
    selection = done["selection"]
    assert selection["bound"] >= selection["objective_value"]
    assert selection["gap"] == pytest.approx(
        (selection["bound"] - selection["objective_value"]) / selection["bound"], abs=1e-9
    )


async def test_selection_from_the_catalog_uses_matching_accounts(
    client: Client, database_url: str
) -> None:
    owner = await merchant(client)
    region = unique_region()
    for followers in (20_000, 40_000, 80_000):
        creator = await register(client, "kol", display_name="Catalog creator")
        profile = {"display_name": "Catalog creator", "region": region, "categories": ["beauty"]}
        assert (
            await client.put("/v1/kols/me", json=profile, headers=creator.headers)
        ).status_code == 200
        account = {
            "platform": "tiktok",
            "handle": f"h{uuid.uuid4().hex[:12]}",
            "profile_url": f"https://www.tiktok.com/@h{uuid.uuid4().hex[:8]}",
            "metrics": {
                "followers": followers,
                "median_views": followers // 4,
                "median_likes": followers // 40,
                "median_comments": followers // 400,
                "engagement_rate": 0.08,
                "posts_per_month": 12,
            },
        }
        created = await client.post("/v1/kols/me/accounts", json=account, headers=creator.headers)
        assert created.status_code == 201, created.text
    spec = {"budget": 10_000_000, "regions": [region], "platforms": ["tiktok"]}
    queued = await client.post(
        "/v1/plans/selections/from-catalog", json=spec, headers=owner.headers
    )
    assert queued.status_code == 202, queued.text
    await asyncio.wait_for(run_worker(database_url, concurrency=1, wait=False), timeout=60)
    done = (await client.get(queued.headers["location"], headers=owner.headers)).json()
    assert (done["status"], done["stop_reason"]) == ("solved", "optimal")
    assert len(done["selection"]["selected"]) == 3


# Two segments, but numbers no plan can meet and whose diagnosis takes the whole time limit:
# the request may not wait for it.
HARD_TO_DIAGNOSE = {
    "budget": 2107,
    "min_conversions": 1e-136,
    "min_reach": 35256960227.2,
    "segments": [
        {"platform": "taobao_live", "tier": "mega", "fee": 22194394, "available": 2890,
         "reach": 5e-324, "audience": 4e-147, "cvr": 0.28, "commission_per_conversion": 382982},
        {"platform": "wechat", "tier": "mega", "fee": 78538, "available": 140,
         "reach": 19896716689.9, "audience": 93326135069.4, "cvr": 0.83},
    ],
    "tier_shares": {"micro": {"min_share": 0.21, "max_share": 0.53},
                    "macro": {"min_share": 0.42, "max_share": 0.56}, "nano": {"min_share": 0.98}},
    "max_creators_per_tier": {"mega": 524288},
    "max_creators_per_platform": {"wechat": 549, "bilibili": 6075},
    "objective": "max_reach",
    "time_limit_seconds": 30,
}  # fmt: skip


async def test_a_small_plan_the_engine_has_not_finished_within_the_wait_is_queued(
    client: Client,
) -> None:
    owner = await merchant(client)
    answer = await client.post(
        "/v1/plans/allocations", json=HARD_TO_DIAGNOSE, headers=owner.headers
    )
    assert answer.status_code == 202, answer.text
    plan = answer.json()
    assert plan["status"] == "queued"
    assert answer.headers["location"] == f"/v1/plans/{plan['id']}"
