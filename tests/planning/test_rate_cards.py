"""One rate card: a newly published card reprices the catalog (a job) and the next plan's fees;
each reference price names the card that priced it."""

import asyncio
from collections.abc import Iterator

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from contracts.common import Platform
from contracts.pricing import RateCard
from services import database
from services.api.app import create_app
from services.catalog import rules as catalog_rules
from services.catalog.seed import seed_kols
from services.settings import Settings
from services.worker.app import run_worker
from tests.helpers import merchant
from tests.planning.support import catalog_brief, current_card, offer_price, operator, plan
from tests.support.database import scratch_database

PRICES = """
    SELECT platform, followers, median_views, engagement_rate, authenticity, reference_price,
           price_currency, rate_card_version
    FROM kol_accounts ORDER BY id
"""


@pytest.fixture(scope="module")
def cards_url(server_url: str) -> Iterator[str]:
    with scratch_database(server_url, "kolmarket_cards") as url:
        yield url


def _doubled(card: RateCard) -> RateCard:
    cpm = {p: {t: 2 * v for t, v in tiers.items()} for p, tiers in card.cpm.items()}
    return msgspec.structs.replace(card, version="test-doubled", cpm=cpm)


async def test_a_published_card_reprices_the_catalog_and_the_next_plan(
    cards_url: str, settings: Settings
) -> None:
    await seed_kols(cards_url, 200, seed=5, batch_size=200, progress=False)
    app = create_app(msgspec.structs.replace(settings, database_url=cards_url))
    db = await database.connect(cards_url)
    try:
        async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
            owner = await merchant(client)
            brief = await catalog_brief(client, owner)
            before = await plan(client, owner, brief["id"], kind="allocation")
            old = await current_card(client, owner)
            assert {r["rate_card_version"] for r in await db.fetch(PRICES)} == {old.version}
            new = _doubled(old)
            body = {"card": msgspec.to_builtins(new), "note": "CPM doubled"}
            published = await client.post(
                "/v1/rate-cards", json=body, headers=await operator(client, db)
            )
            assert published.status_code == 201, published.text
            # Plans use the new card at once; the catalog follows when its job has run.
            after = await plan(client, owner, brief["id"], kind="allocation")
            await asyncio.wait_for(run_worker(cards_url, concurrency=1, wait=False), timeout=60)
            search = await client.get("/v1/kols?limit=1&sort=price", headers=owner.headers)
    finally:
        rows = await db.fetch(PRICES)
        await db.close()
    assert after["derivation"]["rate_card_version"] == "test-doubled"
    fees = {(s["platform"], s["tier"]): s["fee"]["value"] for s in before["derivation"]["segments"]}
    for segment in after["derivation"]["segments"]:
        median = {k: segment["fee"]["inputs"][f"median_{k}"]
                  for k in ("followers", "views", "engagement", "authenticity")}  # fmt: skip
        metrics = {
            "platform": segment["platform"],
            "followers": median["followers"],
            "median_views": median["views"],
            "engagement_rate": median["engagement"],
            "authenticity": median["authenticity"],
        }
        price = offer_price(new, metrics, brief["deliverables"], 4_500, 1_500)
        assert segment["fee"]["value"] == price["merchant_pays"]
        assert segment["fee"]["value"] > fees[(segment["platform"], segment["tier"])]
    assert {r["rate_card_version"] for r in rows} == {"test-doubled"}
    for r in rows:
        expected = catalog_rules.reference_price(
            new, Platform(r["platform"]), r["followers"], r["median_views"],
            r["engagement_rate"], r["authenticity"],
        )  # fmt: skip
        assert (r["reference_price"], r["price_currency"]) == (expected, new.currency)
    assert search.json()["items"][0]["account"]["rate_card_version"] == "test-doubled"
