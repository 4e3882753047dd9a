"""Helpers of the planning tests: briefs that match the seeded catalog, creators listed in a
region of their own, plans made through the API, and a plain recount of prices."""

import string
import uuid
from typing import Any

import msgspec

from contracts.common import Platform
from contracts.pricing import (
    AccountMetrics,
    DeliverableOrder,
    LineCode,
    ProductTerms,
    QuoteRequest,
    RateCard,
)
from pricing import quote, round_half_even
from tests.helpers import Account, Client, register, unique_email
from tests.negotiation.support import open_brief

BEAUTY = {
    "name": "Glow serum",
    "url": "https://shop.example.com/glow",
    "category": "beauty",
    "average_order_value": 4_500,
}


async def catalog_brief(client: Client, owner: Account, **changes: Any) -> dict[str, Any]:
    """An open brief for beauty creators on four platforms, three tiers, two deliverables."""
    body: dict[str, Any] = {
        "platforms": ["tiktok", "instagram", "douyin", "xiaohongshu"],
        "tiers": ["nano", "micro", "mid"],
        "deliverables": ["short_video", "story"],
        "product": BEAUTY,
        "goals": {"reach": 100_000, "conversions": 20},
        **changes,
    }
    return await open_brief(client, owner, **body)


# User-assigned ISO 3166 codes (QM..QZ, XA..XZ), which no seeded creator lives in: each test
# of the session lists its creators in a region of its own.
_REGIONS = iter([f"Q{c}" for c in "MNOPQRSTUVWXYZ"] + [f"X{c}" for c in string.ascii_uppercase])


def unique_region() -> str:
    return next(_REGIONS)


async def listed_creator(
    client: Client, region: str, followers: int, platform: str = "tiktok"
) -> Account:
    """A KOL of `region` covering beauty, with one account of `followers` followers."""
    creator = await register(client, "kol", display_name="Plan creator")
    profile = {"display_name": "Plan creator", "region": region, "categories": ["beauty"]}
    saved = await client.put("/v1/kols/me", json=profile, headers=creator.headers)
    assert saved.status_code == 200, saved.text
    handle = f"h{uuid.uuid4().hex[:12]}"
    account = {
        "platform": platform,
        "handle": handle,
        "profile_url": f"https://www.{platform}.com/@{handle}",
        "metrics": {
            "followers": followers,
            "median_views": followers // 4,
            "median_likes": followers // 14,
            "median_comments": followers // 300,
            "engagement_rate": 0.075,
            "posts_per_month": 12,
        },
    }
    created = await client.post("/v1/kols/me/accounts", json=account, headers=creator.headers)
    assert created.status_code == 201, created.text
    creator.me["account_id"] = created.json()["id"]
    return creator


async def operator(client: Client, db: Any) -> dict[str, str]:
    """The headers of a new operator (operators never register through the API)."""
    from services.accounts.service import ensure_operator

    email = unique_email("ops")
    await ensure_operator(db, email, "operator pass 123")
    response = await client.post(
        "/v1/auth/token", json={"email": email, "password": "operator pass 123"}
    )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def plan(client: Client, owner: Account, brief_id: str, **body: Any) -> dict[str, Any]:
    response = await client.post(f"/v1/briefs/{brief_id}/plans", json=body, headers=owner.headers)
    assert response.status_code in (201, 202), response.text
    assert response.headers["location"] == response.json()["status_url"]
    result: dict[str, Any] = response.json()
    return result


async def creators_of(client: Client, owner: Account, plan_: dict[str, Any]) -> list[dict]:
    """Every creator of a derived selection, page by page."""
    found: list[dict[str, Any]] = []
    url = plan_["creators_url"] + "?limit=7"
    while True:
        page = await client.get(url, headers=owner.headers)
        assert page.status_code == 200, page.text
        found += page.json()["items"]
        if page.json()["next_cursor"] is None:
            return found
        url = plan_["creators_url"] + f"?limit=7&cursor={page.json()['next_cursor']}"


async def current_card(client: Client, owner: Account) -> RateCard:
    card = await client.get("/v1/rate-cards/current", headers=owner.headers)
    return msgspec.convert(card.json(), RateCard)


def offer_price(
    card: RateCard, metrics: dict[str, Any], deliverables: list[str], aov: int, bp: int
) -> dict[str, Any]:
    """What an offer of one each of `deliverables` costs, recounted from single quotes."""
    account = AccountMetrics(
        platform=Platform(metrics["platform"]),
        followers=metrics["followers"],
        median_views=metrics["median_views"],
        engagement_rate=metrics["engagement_rate"],
        authenticity=metrics["authenticity"],
    )
    product = ProductTerms(average_order_value=aov, commission_bp=bp)
    quotes = [
        quote(
            QuoteRequest(
                account=account,
                deliverable=DeliverableOrder(kind=kind),
                product=product,
                currency=card.currency,
            ),
            card,
        )
        for kind in deliverables
    ]
    fixed = sum(q.creator_fee for q in quotes)
    pays = fixed + round_half_even(fixed * card.take_rate_bp, 10_000)
    commission = sum(
        line.amount for q in quotes for line in q.lines if line.code == LineCode.EXPECTED_COMMISSION
    )
    conversions = sum(q.expected_conversions for q in quotes)
    return {
        "fixed_fee": fixed,
        "merchant_pays": pays,
        "expected_commission": commission,
        "cost": pays + commission,
        "expected_conversions": conversions,
    }
