"""Search returns exactly the matching KOLs, in a stable order, page after page.

The module has a database of its own, loaded with a seeded synthetic catalog, so that counts
are exact. Every search is checked against a plain-Python reading of the same rows.
"""

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services import database
from services.api.app import create_app
from services.catalog.seed import seed_kols
from services.catalog.service import EXACT_COUNT_LIMIT
from services.settings import Settings
from tests.helpers import Account, Client, kol, merchant
from tests.support.database import scratch_database

CATALOG_SIZE = 1_500
TIER_BOUNDS = {"nano": (0, 9_999), "micro": (10_000, 99_999), "mid": (100_000, 499_999)}
TIER_BOUNDS |= {"macro": (500_000, 999_999), "mega": (1_000_000, 10**12)}
SORT_COLUMN = {"followers": "followers", "engagement": "engagement_rate"}
SORT_COLUMN |= {"authenticity": "authenticity", "price": "reference_price"}
AUDIENCE_COLUMN = {
    "female": "audience_female",
    "male": "audience_male",
    "18-24": "audience_age_18_24",
}
ACCOUNTS = """
    SELECT a.*, k.region, k.categories FROM kol_accounts a JOIN kols k ON k.id = a.kol_id
"""


@pytest.fixture(scope="module")
def catalog_url(server_url: str) -> Iterator[str]:
    with scratch_database(server_url, "kolmarket_catalog") as url:
        yield url


@pytest.fixture(scope="module")
async def shop(
    catalog_url: str, settings: Settings
) -> AsyncIterator[tuple[Client, Account, asyncpg.Connection]]:
    loaded = await seed_kols(catalog_url, CATALOG_SIZE, seed=11, batch_size=400, progress=False)
    assert (loaded.kols, loaded.accounts) == (CATALOG_SIZE, 2 * CATALOG_SIZE)
    app: Litestar = create_app(msgspec.structs.replace(settings, database_url=catalog_url))
    conn = await database.connect(catalog_url)
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        yield client, await merchant(client), conn
    await conn.close()


def _matches(row: asyncpg.Record, q: dict[str, Any]) -> bool:
    def listed(key: str) -> list[Any]:
        value = q.get(key, [])
        return value if isinstance(value, list) else [value]

    price = row["reference_price"]
    checks = [
        not listed("platform") or row["platform"] in listed("platform"),
        not listed("tier") or row["tier"] in listed("tier"),
        not listed("region") or row["region"] in listed("region"),
        not listed("category") or bool(set(row["categories"]) & set(listed("category"))),
        row["followers"] >= q.get("followers_min", 0),
        row["followers"] <= q.get("followers_max", 10**12),
        row["engagement_rate"] >= q.get("engagement_min", 0),
        row["authenticity"] >= q.get("authenticity_min", 0),
        "price_min" not in q or (price is not None and price >= q["price_min"]),
        "price_max" not in q or (price is not None and price <= q["price_max"]),
        q.get("sort") != "price" or price is not None,
        "verified" not in q or row["verified"] == (q["verified"] == "true"),
    ]
    for key in ("audience_gender", "audience_age"):
        if key in q:
            share = row[AUDIENCE_COLUMN[q[key]]]
            checks.append(share is not None and share >= q[f"{key}_min"])
    if "audience_region" in q:
        share = (row["audience_regions"] or {}).get(q["audience_region"])
        checks.append(share is not None and share >= q["audience_region_min"])
    return all(checks)


def expected(rows: list[asyncpg.Record], q: dict[str, Any]) -> list[tuple[str, str]]:
    """(KOL id, account id) of each match, each KOL at its first account in the order."""
    sort = q.get("sort", "relevance")
    descending = q.get("order", "asc" if sort == "price" else "desc") == "desc"
    wanted = set(q["category"]) if isinstance(q.get("category"), list) else {q.get("category")}

    def key(row: asyncpg.Record) -> tuple[Any, ...]:
        if sort == "relevance":
            hits = len(wanted & set(row["categories"])) if "category" in q else 0
            return (hits, row["followers"], row["id"])
        return (row[SORT_COLUMN[sort]], row["id"])

    ordered = sorted((r for r in rows if _matches(r, q)), key=key, reverse=descending)
    first: dict[str, str] = {}
    for row in ordered:
        first.setdefault(str(row["kol_id"]), str(row["id"]))
    return list(first.items())


async def every_page(client: Client, who: Account, q: dict[str, Any]) -> list[dict[str, Any]]:
    pages, cursor = [], None
    while True:
        params = {**q, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/v1/kols", params=params, headers=who.headers)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = pages[-1]["next_cursor"]
        if cursor is None:
            return pages


SEARCHES = [
    {},
    {"platform": "douyin", "tier": "micro", "sort": "followers"},
    {"platform": ["instagram", "tiktok"], "tier": ["nano", "mega"], "sort": "engagement"},
    {"category": "beauty", "region": "CN", "engagement_min": 0.05, "sort": "engagement"},
    {"region": ["SG", "MY"], "order": "asc", "sort": "followers"},
    {"followers_min": 20_000, "followers_max": 400_000, "authenticity_min": 0.9},
    {"price_min": 5_000, "price_max": 90_000, "sort": "price"},
    {"price_min": 5_000, "sort": "price", "order": "desc", "verified": "true"},
    {"sort": "price", "order": "desc", "tier": "nano"},
    {"sort": "price", "platform": "weibo"},
    {"sort": "authenticity", "tier": ["mid", "macro", "mega"]},
    {"audience_gender": "female", "audience_gender_min": 0.6, "platform": "xiaohongshu"},
    {"audience_age": "18-24", "audience_age_min": 0.35, "sort": "engagement"},
    {"audience_region": "CN", "audience_region_min": 0.8, "tier": "nano"},
    {"category": ["beauty", "fashion", "food"], "sort": "relevance"},
    {"category": ["beauty", "lifestyle"], "platform": "xiaohongshu", "order": "asc"},
    {"category": "travel", "tier": ["nano", "micro"]},
]


@pytest.mark.parametrize("q", SEARCHES, ids=lambda q: "&".join(sorted(q)) or "browse")
async def test_filters_sort_and_pages_match_the_catalog(shop, q: dict[str, Any]) -> None:
    client, who, conn = shop
    want = expected(await conn.fetch(ACCOUNTS), q)
    pages = await every_page(client, who, {**q, "limit": 40})
    got = [(i["id"], i["account"]["id"]) for p in pages for i in p["items"]]
    assert got == want
    assert all(len(p["items"]) <= 40 for p in pages)
    first = pages[0]
    assert {p["total"] for p in pages} == {first["total"]}
    if not first["total_is_estimate"]:
        assert first["total"] == len(want)


async def test_a_small_result_is_counted_exactly_and_a_large_one_estimated(shop) -> None:
    client, who, conn = shop
    rows = await conn.fetch(ACCOUNTS)
    small = {"platform": "wechat", "limit": 5}
    response = (await client.get("/v1/kols", params=small, headers=who.headers)).json()
    assert response["total_is_estimate"] is False
    assert response["total"] == len(expected(rows, small)) > 5
    browse = (await client.get("/v1/kols", headers=who.headers)).json()
    actual = len(expected(rows, {}))
    assert actual > EXACT_COUNT_LIMIT and browse["total_is_estimate"] is True
    assert actual / 2 < browse["total"] < actual * 2
    assert len(browse["items"]) == 20


async def test_pages_have_no_duplicates_or_gaps_while_kols_are_added(shop, catalog_url) -> None:
    client, who, conn = shop
    q = {"sort": "followers", "limit": 25}
    before = expected(await conn.fetch(ACCOUNTS), q)
    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = dict(q)
    for round_ in range(12):
        page = (await client.get("/v1/kols", params=params, headers=who.headers)).json()
        seen.extend(page["items"])
        if round_ % 4 == 0:  # new KOLs land before and after the reader's position
            await seed_kols(catalog_url, 40, seed=1000 + round_, progress=False)
        params = {**q, "cursor": page["next_cursor"]}
    seen.extend(item for p in await every_page(client, who, params) for item in p["items"])
    ids = [i["id"] for i in seen]
    assert len(ids) == len(set(ids))
    assert {k for k, _ in before} <= set(ids)
    followers = [i["account"]["followers"] for i in seen]
    assert followers == sorted(followers, reverse=True)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"followers_min": -1}, "followers_min"),
        ({"platform": "myspace"}, "platform"),
        ({"tier": "giga"}, "tier"),
        ({"category": "knitting"}, "category"),
        ({"engagement_min": 2}, "engagement_min"),
        ({"authenticity_min": -0.5}, "authenticity_min"),
        ({"price_max": -3}, "price_max"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"sort": "vibes"}, "sort"),
        ({"followers_min": 10, "followers_max": 5}, "followers_min"),
        ({"price_min": 10, "price_max": 5}, "price_min"),
        ({"audience_gender": "female"}, "audience_gender_min"),
        ({"audience_age_min": 0.2}, "audience_age_min"),
        ({"audience_region": "china", "audience_region_min": 0.2}, "audience_region"),
        ({"region": "cn"}, "region"),
        ({"cursor": "%%%"}, "cursor"),
    ],
)
async def test_bad_search_parameters_are_named(shop, params: dict[str, Any], field: str) -> None:
    client, who, _ = shop
    response = await client.get("/v1/kols", params=params, headers=who.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_a_cursor_cannot_be_used_with_other_filters(shop) -> None:
    client, who, _ = shop
    first = await client.get("/v1/kols", params={"platform": "weibo"}, headers=who.headers)
    cursor = first.json()["next_cursor"]
    assert cursor is not None
    other = await client.get(
        "/v1/kols", params={"platform": "douyin", "cursor": cursor}, headers=who.headers
    )
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "cursor"


async def test_the_detail_shows_accounts_tiers_and_reasons(shop) -> None:
    client, who, conn = shop
    kol_id = await conn.fetchval(
        "SELECT kol_id FROM kol_accounts WHERE computed_authenticity < 0.8 ORDER BY id LIMIT 1"
    )
    detail = (await client.get(f"/v1/kols/{kol_id}", headers=who.headers)).json()
    flagged = [a for a in detail["accounts"] if a["authenticity"]["reasons"]]
    assert flagged and all(r["message"] for a in flagged for r in a["authenticity"]["reasons"])
    assert all(a["tier"] in TIER_BOUNDS for a in detail["accounts"])
    for account in detail["accounts"]:
        low, high = TIER_BOUNDS[account["tier"]]
        assert low <= account["followers"] <= high


async def test_the_seeded_catalog_looks_like_the_market(shop, catalog_url) -> None:
    _, _, conn = shop
    again = await seed_kols(catalog_url, CATALOG_SIZE, seed=11, batch_size=400, progress=False)
    assert again.already_loaded and again.kols == 0
    tiers = dict(await conn.fetch("SELECT tier, count(*) FROM kol_accounts GROUP BY tier"))
    total = sum(tiers.values())
    assert (tiers["nano"] + tiers["micro"]) / total > 0.7
    assert tiers.get("mega", 0) / total < 0.05
    platforms = await conn.fetchval("SELECT count(DISTINCT platform) FROM kol_accounts")
    assert platforms == 10
    medians = await conn.fetch(
        "SELECT tier, percentile_cont(0.5) WITHIN GROUP (ORDER BY engagement_rate) AS m "
        "FROM kol_accounts WHERE computed_authenticity = 1 GROUP BY tier"
    )
    by_tier = {r["tier"]: r["m"] for r in medians}
    assert by_tier["nano"] > by_tier["micro"] > by_tier["mid"] > by_tier["mega"]
    suspicious = await conn.fetchval(
        "SELECT avg((computed_authenticity < 0.8)::int) FROM kol_accounts"
    )
    assert 0.01 < suspicious < 0.1
    sums = await conn.fetchval(
        "SELECT max(abs(audience_female + audience_male + audience_other - 1)) FROM kol_accounts"
    )
    assert sums <= 0.001


async def test_tier_filters_follow_the_thresholds_at_their_edges(shop) -> None:
    client, who, _ = shop
    for followers in (9_999, 10_000, 99_999, 100_000, 999_999, 1_000_000):
        creator = await kol(client)
        await client.put(
            "/v1/kols/me", json={"display_name": "Edge", "region": "ZZ"}, headers=creator.headers
        )
        handle = f"edge_{uuid.uuid4().hex[:10]}"
        account = {
            "platform": "weibo",
            "handle": handle,
            "profile_url": f"https://weibo.com/{handle}",
            "metrics": {
                "followers": followers,
                "median_views": followers // 10,
                "median_likes": followers // 50,
                "median_comments": followers // 1000,
                "engagement_rate": 0.02,
                "posts_per_month": 8,
            },
        }
        added = await client.post("/v1/kols/me/accounts", json=account, headers=creator.headers)
        assert added.status_code == 201, added.text

    async def followers_of(tiers: list[str]) -> list[int]:
        params = {"region": "ZZ", "tier": tiers, "sort": "followers", "order": "asc"}
        page = (await client.get("/v1/kols", params=params, headers=who.headers)).json()
        return [i["account"]["followers"] for i in page["items"]]

    assert await followers_of(["nano"]) == [9_999]
    assert await followers_of(["micro"]) == [10_000, 99_999]
    assert await followers_of(["micro", "mid"]) == [10_000, 99_999, 100_000]
    assert await followers_of(["macro"]) == [999_999]
    assert await followers_of(["nano", "mega"]) == [9_999, 1_000_000]


async def test_search_follows_a_profile_change_at_once(shop) -> None:
    client, who, conn = shop
    creator = await kol(client)
    profile = {"display_name": "Moving", "region": "ZX", "categories": ["pets"]}
    await client.put("/v1/kols/me", json=profile, headers=creator.headers)
    handle = f"moving_{uuid.uuid4().hex[:10]}"
    account = {
        "platform": "bilibili",
        "handle": handle,
        "profile_url": f"https://space.bilibili.com/{handle}",
        "metrics": {
            "followers": 20_000,
            "median_views": 4_000,
            "median_likes": 400,
            "median_comments": 20,
            "engagement_rate": 0.021,
            "posts_per_month": 6,
        },
    }
    assert (
        await client.post("/v1/kols/me/accounts", json=account, headers=creator.headers)
    ).status_code == 201

    async def found(**params: str) -> list[str]:
        page = (await client.get("/v1/kols", params=params, headers=who.headers)).json()
        return [i["id"] for i in page["items"]]

    mine = creator.me["kol_id"]
    assert await found(region="ZX", category="pets") == [mine]
    moved = {"display_name": "Moving", "region": "ZW", "categories": ["books"]}
    await client.put("/v1/kols/me", json=moved, headers=creator.headers)
    assert await found(region="ZX") == []
    assert await found(region="ZW", category="books") == [mine]
    assert await found(region="ZW", category="pets") == []
    # A profile written by any other path is followed too.
    await conn.execute("UPDATE kols SET categories = '{art}' WHERE id = $1", uuid.UUID(mine))
    assert await found(region="ZW", category="art") == [mine]
