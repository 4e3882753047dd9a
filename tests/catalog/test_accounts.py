"""A KOL keeps its profile and platform accounts; metrics are history; operators review."""

import uuid
from typing import Any

import pytest

from contracts.common import Deliverable, Platform
from contracts.pricing import AccountMetrics, DeliverableOrder, ProductTerms, QuoteRequest
from pricing import default_rate_card, quote
from services.accounts.service import ensure_operator
from tests.helpers import Account, Client, api_key, kol, login, merchant, unique_email

PROBLEM = "application/problem+json"
CARD = default_rate_card()


def card_fee(platform: Platform, m: dict[str, Any], authenticity: float) -> int:
    """The rate card's creator fee for one post of an account with these metrics."""
    metrics = AccountMetrics(
        platform=platform,
        followers=m["followers"],
        median_views=m["median_views"],
        engagement_rate=m["engagement_rate"],
        authenticity=authenticity,
    )
    request = QuoteRequest(
        account=metrics,
        deliverable=DeliverableOrder(kind=Deliverable.POST),
        product=ProductTerms(average_order_value=0),
        currency=CARD.currency,
    )
    return quote(request, CARD).creator_fee


def metrics(**changes: Any) -> dict[str, Any]:
    body = {
        "followers": 52_000,
        "median_views": 9_000,
        "median_likes": 1_150,
        "median_comments": 40,
        "engagement_rate": 0.023,
        "posts_per_month": 12,
        "audience": {
            "gender": {"female": 0.71, "male": 0.28, "other": 0.01},
            "age": {"18-24": 0.42, "25-34": 0.38, "35-44": 0.2},
            "regions": {"CN": 0.8, "HK": 0.05, "other": 0.15},
        },
    }
    body.update(changes)
    return body


def new_account(platform: str = "xiaohongshu", **changes: Any) -> dict[str, Any]:
    handle = f"mia_{uuid.uuid4().hex[:10]}"
    urls = {
        "xiaohongshu": f"https://www.xiaohongshu.com/user/profile/{handle}",
        "douyin": f"https://www.douyin.com/user/{handle}",
        "instagram": f"https://www.instagram.com/{handle}",
    }
    body = {
        "platform": platform,
        "handle": handle,
        "profile_url": urls[platform],
        "metrics": metrics(),
    }
    body.update(changes)
    return body


async def add(client: Client, owner: Account, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/v1/kols/me/accounts", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def problem_fields(response: Any) -> list[str]:
    assert response.headers["content-type"].startswith(PROBLEM), response.text
    return [e["field"] for e in response.json()["errors"]]


def names(response: Any, field: str) -> bool:
    """The problem names `field`: as the error's field, or (unknown fields) in its message."""
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.text
    errors = response.json()["errors"]
    return any(
        e["field"].removeprefix("$.") == field or f"`{field}`" in e["message"] for e in errors
    )


async def test_kol_replaces_its_profile_and_reads_it_back(client: Client) -> None:
    creator = await kol(client)
    profile = {
        "display_name": "Mia Chen",
        "bio": "Skincare for humid cities",
        "region": "HK",
        "languages": ["zh-Hant", "en"],
        "categories": ["skincare", "beauty"],
        "contact_preferences": {"channels": ["in_app", "wechat"], "note": "weekdays"},
    }
    saved = await client.put("/v1/kols/me", json=profile, headers=creator.headers)
    assert saved.status_code == 200, saved.text
    mine = (await client.get("/v1/kols/me", headers=creator.headers)).json()
    assert mine["region"] == "HK" and mine["categories"] == ["skincare", "beauty"]
    assert mine["contact_preferences"] == {
        "channels": ["in_app", "wechat"],
        "open_to_offers": True,
        "note": "weekdays",
    }
    assert mine["id"] == creator.me["kol_id"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"display_name": ""}, "display_name"),
        ({"display_name": "   "}, "display_name"),
        ({"region": "Hong Kong"}, "region"),
        ({"languages": ["english"]}, "languages[0]"),
        ({"languages": ["en", "en"]}, "languages"),
        ({"categories": ["knitting"]}, "categories[0]"),
        ({"categories": ["beauty", "food", "tech", "pets", "art", "home"]}, "categories"),
        ({"bio": "x" * 2001}, "bio"),
        ({"contact_preferences": {"channels": []}}, "contact_preferences.channels"),
        ({"contact_preferences": {"channels": ["pigeon"]}}, "contact_preferences.channels[0]"),
        ({"website": "https://mia.example"}, "website"),
    ],
)
async def test_every_profile_field_is_validated(
    client: Client, change: dict[str, Any], field: str
) -> None:
    creator = await kol(client)
    body = {"display_name": "Mia", **change}
    response = await client.put("/v1/kols/me", json=body, headers=creator.headers)
    assert names(response, field), response.text


async def test_new_account_gets_tier_score_price_and_a_first_snapshot(client: Client) -> None:
    creator = await kol(client)
    account = await add(client, creator, new_account())
    assert account["tier"] == "micro" and account["verified"] is False
    assert account["authenticity"] == {
        "score": 1.0,
        "computed_score": 1.0,
        "reasons": [],
        "override": None,
    }
    # Priced by the current card: the default's figures (other tests may publish them again
    # under another version, never other figures).
    current = await client.get("/v1/rate-cards/current", headers=creator.headers)
    assert account["currency"] == "USD"
    assert account["rate_card_version"] == current.json()["version"]
    assert account["reference_price"] == card_fee(Platform.XIAOHONGSHU, metrics(), 1.0)
    assert account["audience"]["gender"]["female"] == 0.71
    assert account["audience"]["age"]["13-17"] == 0.0
    history = await client.get(
        f"/v1/kols/{creator.me['kol_id']}/accounts/{account['id']}/snapshots",
        headers=creator.headers,
    )
    assert [s["followers"] for s in history.json()["items"]] == [52_000]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"platform": "myspace"}, "platform"),
        ({"handle": "has space"}, "handle"),
        ({"handle": ""}, "handle"),
        ({"profile_url": "http://www.xiaohongshu.com/user/x"}, "profile_url"),
        ({"profile_url": "https://www.douyin.com/user/x"}, "profile_url"),
        ({"metrics": metrics(followers=-1)}, "metrics.followers"),
        ({"metrics": metrics(median_views=-5)}, "metrics.median_views"),
        ({"metrics": metrics(median_likes=-5)}, "metrics.median_likes"),
        ({"metrics": metrics(median_comments=-5)}, "metrics.median_comments"),
        ({"metrics": metrics(engagement_rate=1.5)}, "metrics.engagement_rate"),
        ({"metrics": metrics(engagement_rate=-0.1)}, "metrics.engagement_rate"),
        ({"metrics": metrics(posts_per_month=-1)}, "metrics.posts_per_month"),
        ({"metrics": metrics(posts_per_month=5000)}, "metrics.posts_per_month"),
        ({"metrics": metrics(followers="many")}, "metrics.followers"),
        ({"metrics": metrics(fake=True)}, "fake"),
    ],
)
async def test_every_account_field_is_validated(
    client: Client, change: dict[str, Any], field: str
) -> None:
    creator = await kol(client)
    body = {**new_account(), **change}
    response = await client.post("/v1/kols/me/accounts", json=body, headers=creator.headers)
    assert names(response, field), response.text


@pytest.mark.parametrize(
    ("audience", "field"),
    [
        ({"gender": {"female": 0.6, "male": 0.3}}, "metrics.audience.gender"),
        ({"age": {"18-24": 0.5, "25-34": 0.6}}, "metrics.audience.age"),
        ({"regions": {"CN": 0.7}}, "metrics.audience.regions"),
        ({"regions": {"China": 1.0}}, "metrics.audience.regions"),
        ({"age": {"18-25": 1.0}}, "metrics.audience.age"),
        ({"gender": {"female": 1.2}}, "metrics.audience.gender"),
    ],
)
async def test_audience_shares_are_checked_and_named(
    client: Client, audience: dict[str, Any], field: str
) -> None:
    creator = await kol(client)
    body = metrics()
    body["audience"] = {**body["audience"], **audience}
    response = await client.post(
        "/v1/kols/me/accounts", json=new_account(metrics=body), headers=creator.headers
    )
    assert response.status_code == 422, response.text
    fields = [f.removeprefix("$.") for f in problem_fields(response)]
    assert any(f.startswith(field) for f in fields), fields


async def test_a_handle_is_listed_once_per_platform(client: Client) -> None:
    first, second = await kol(client), await kol(client)
    body = new_account()
    await add(client, first, body)
    again = await client.post(
        "/v1/kols/me/accounts",
        json={**body, "handle": body["handle"].upper()},
        headers=second.headers,
    )
    assert again.status_code == 409


async def test_an_idempotent_retry_returns_the_first_account(client: Client) -> None:
    creator = await kol(client)
    body = new_account()
    headers = {**creator.headers, "Idempotency-Key": uuid.uuid4().hex}
    first = await client.post("/v1/kols/me/accounts", json=body, headers=headers)
    again = await client.post("/v1/kols/me/accounts", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    other = await client.post("/v1/kols/me/accounts", json=new_account(), headers=headers)
    assert other.status_code == 409
    assert [e["field"] for e in other.json()["errors"]] == ["Idempotency-Key"]


async def test_new_metrics_are_kept_as_history_and_rescored(client: Client) -> None:
    creator = await kol(client)
    account = await add(client, creator, new_account())
    jump = metrics(followers=400_000, median_views=3_000, engagement_rate=0.003, audience=None)
    response = await client.patch(
        f"/v1/kols/me/accounts/{account['id']}", json={"metrics": jump}, headers=creator.headers
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["tier"] == "mid" and updated["followers"] == 400_000
    assert updated["audience"] == account["audience"]  # kept from the last snapshot
    reasons = {r["code"] for r in updated["authenticity"]["reasons"]}
    assert {"follower_spike", "engagement_low", "views_low"} <= reasons
    assert updated["authenticity"]["score"] < 0.5
    history = await client.get(
        f"/v1/kols/{creator.me['kol_id']}/accounts/{account['id']}/snapshots?limit=1",
        headers=creator.headers,
    )
    page = history.json()
    assert [s["followers"] for s in page["items"]] == [400_000]
    older = await client.get(
        f"/v1/kols/{creator.me['kol_id']}/accounts/{account['id']}/snapshots",
        params={"cursor": page["next_cursor"]},
        headers=creator.headers,
    )
    assert [s["followers"] for s in older.json()["items"]] == [52_000]
    assert older.json()["next_cursor"] is None


async def test_a_new_handle_clears_verification(client: Client, db) -> None:
    creator = await kol(client)
    account = await add(client, creator, new_account())
    await db.execute("UPDATE kol_accounts SET verified = true WHERE id = $1", account["id"])
    renamed = await client.patch(
        f"/v1/kols/me/accounts/{account['id']}",
        json={"handle": f"renamed_{uuid.uuid4().hex[:8]}"},
        headers=creator.headers,
    )
    assert renamed.status_code == 200 and renamed.json()["verified"] is False
    empty = await client.patch(
        f"/v1/kols/me/accounts/{account['id']}", json={}, headers=creator.headers
    )
    assert empty.status_code == 422


async def test_a_kol_cannot_touch_another_kols_account(client: Client) -> None:
    owner, intruder = await kol(client), await kol(client)
    account = await add(client, owner, new_account())
    response = await client.patch(
        f"/v1/kols/me/accounts/{account['id']}",
        json={"metrics": metrics(followers=1)},
        headers=intruder.headers,
    )
    assert response.status_code == 404
    kept = (await client.get(f"/v1/kols/{owner.me['kol_id']}", headers=owner.headers)).json()
    assert kept["accounts"][0]["followers"] == 52_000


async def test_who_may_read_and_write_the_catalog(client: Client) -> None:
    creator, shop = await kol(client), await merchant(client)
    await add(client, creator, new_account())
    page = f"/v1/kols/{creator.me['kol_id']}"
    assert (await client.get(page, headers=shop.headers)).status_code == 200
    assert (await client.get("/v1/kols?limit=1", headers=shop.headers)).status_code == 200
    assert (
        await client.put("/v1/kols/me", json={"display_name": "x"}, headers=shop.headers)
    ).status_code == 403
    key = await api_key(client, shop, "deals:read")
    assert (await client.get("/v1/kols", headers={"X-API-Key": key})).status_code == 403
    assert (await client.get(f"/v1/kols/{uuid.uuid4()}", headers=shop.headers)).status_code == 404
    assert (await client.get("/v1/kols")).status_code == 401


async def an_operator(client: Client, db) -> Account:
    email = unique_email("operator")
    await ensure_operator(db, email, "operator pass 123")
    return await login(client, email, "operator pass 123")


async def test_operator_overrides_authenticity_with_a_note_and_it_is_audited(
    client: Client, db
) -> None:
    creator = await kol(client)
    account = await add(client, creator, new_account())
    operator = await an_operator(client, db)
    path = f"/v1/kols/{creator.me['kol_id']}/accounts/{account['id']}/authenticity-override"
    body = {"score": 0.4, "verified": True, "note": "bought followers confirmed by platform"}
    assert (await client.post(path, json=body, headers=creator.headers)).status_code == 403
    no_note = await client.post(path, json={"score": 0.4}, headers=operator.headers)
    assert no_note.status_code == 422 and names(no_note, "note")
    reviewed = await client.post(path, json=body, headers=operator.headers)
    assert reviewed.status_code == 200, reviewed.text
    authenticity = reviewed.json()["authenticity"]
    assert (authenticity["score"], authenticity["computed_score"]) == (0.4, 1.0)
    assert reviewed.json()["reference_price"] is None  # below the rate card's floor
    assert authenticity["override"]["note"] == body["note"]
    assert reviewed.json()["verified"] is True
    audit = await db.fetchrow(
        "SELECT user_id, detail FROM audit_log WHERE action = 'authenticity_overridden' "
        "AND subject = $1",
        account["id"],
    )
    assert str(audit["user_id"]) == operator.me["user_id"] and audit["detail"]["score"] == 0.4
    cleared = await client.post(
        path, json={"score": None, "note": "appeal accepted"}, headers=operator.headers
    )
    assert cleared.json()["authenticity"]["score"] == 1.0
    assert cleared.json()["authenticity"]["override"] is None
    assert cleared.json()["reference_price"] == account["reference_price"]
    assert (
        await db.fetchval(
            "SELECT count(*) FROM authenticity_overrides WHERE account_id = $1", account["id"]
        )
        == 2
    )
    wrong_kol = f"/v1/kols/{uuid.uuid4()}/accounts/{account['id']}/authenticity-override"
    assert (await client.post(wrong_kol, json=body, headers=operator.headers)).status_code == 404
