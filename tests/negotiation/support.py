"""Helpers of the negotiation tests: brief and terms bodies, and the steps of a negotiation."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.helpers import Account, Client

PROBLEM = "application/problem+json"
POSTING_FROM = date.today() + timedelta(days=10)
POSTING_UNTIL = date.today() + timedelta(days=40)


def later(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def brief_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Spring serum launch",
        "description": "Short videos showing the morning routine.",
        "product": {
            "name": "Glow serum",
            "url": "https://shop.example.com/glow",
            "category": "skincare",
            "average_order_value": 4_999,
        },
        "goals": {"reach": 200_000, "conversions": 500},
        "budget": 1_000_000,
        "currency": "USD",
        "platforms": ["tiktok", "instagram"],
        "tiers": ["nano", "micro"],
        "deliverables": ["short_video", "story"],
        "timeline": {
            "apply_by": later(days=7),
            "posting_from": POSTING_FROM.isoformat(),
            "posting_until": POSTING_UNTIL.isoformat(),
        },
        "commission": {"commission_bp": 1_500, "attribution_days": 30},
        "visibility": "open",
    }
    body.update(changes)
    return body


def terms(fixed_fee: int = 50_000, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "fixed_fee": fixed_fee,
        "currency": "USD",
        "commission_bp": 1_500,
        "deliverables": [
            {
                "kind": "short_video",
                "platform": "tiktok",
                "count": 2,
                "due_by": (POSTING_FROM + timedelta(days=5)).isoformat(),
            }
        ],
        "usage_rights": {"scope": "organic", "days": 90},
        "exclusivity_days": 14,
        "expires_at": later(days=3),
    }
    body.update(changes)
    return body


async def open_brief(client: Client, owner: Account, **changes: Any) -> dict[str, Any]:
    """A published brief of `owner`."""
    created = await client.post("/v1/briefs", json=brief_body(**changes), headers=owner.headers)
    assert created.status_code == 201, created.text
    brief_id = created.json()["id"]
    published = await client.post(f"/v1/briefs/{brief_id}/publish", headers=owner.headers)
    assert published.status_code == 200, published.text
    return published.json()


async def invite(
    client: Client, owner: Account, brief_id: str, creator: Account, fee: int = 50_000
) -> dict[str, Any]:
    body = {"kol_id": creator.me["kol_id"], "terms": terms(fee)}
    response = await client.post(f"/v1/briefs/{brief_id}/offers", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def counter(
    client: Client, who: Account, offer: dict[str, Any], fee: int, revision: int | None = None
) -> Any:
    body = {"revision": revision or offer["latest_revision"], "terms": terms(fee)}
    return await client.post(f"/v1/offers/{offer['id']}/counter", json=body, headers=who.headers)


async def answer(
    client: Client, who: Account, offer: dict[str, Any], verb: str, revision: int
) -> Any:
    return await client.post(
        f"/v1/offers/{offer['id']}/{verb}", json={"revision": revision}, headers=who.headers
    )


async def events_of(db: Any, aggregate_id: str) -> list[str]:
    rows = await db.fetch(
        "SELECT type FROM events WHERE aggregate_id = $1 ORDER BY id", uuid.UUID(aggregate_id)
    )
    return [r["type"] for r in rows]
