"""Plans derived from the catalog: every derived number equals a plain recount of the seeded
catalog with the current rate card, and targets default to the brief."""

import statistics
import uuid
from collections import defaultdict
from typing import Any

import pytest

from tests.helpers import merchant
from tests.planning.conftest import Market
from tests.planning.support import (
    catalog_brief,
    creators_of,
    current_card,
    offer_price,
    plan,
)

ACCOUNTS = """
    SELECT a.id, a.kol_id, a.platform, a.tier, a.followers, a.median_views, a.engagement_rate,
           a.authenticity, k.region, k.categories, k.contact_preferences
    FROM kol_accounts a JOIN kols k ON k.id = a.kol_id
"""


async def _matching(market: Market, brief: dict[str, Any], floor: float) -> list[dict]:
    """The brief's accounts, filtered in Python: platform, tier, category, region, authenticity
    and open to offers (the brief engages nobody yet)."""
    targeting = brief["targeting"]
    wanted_floor = max(floor, targeting["min_authenticity"] or 0.0)
    return [
        dict(r)
        for r in await market.db.fetch(ACCOUNTS)
        if r["platform"] in brief["platforms"]
        and r["tier"] in brief["tiers"]
        and brief["product"]["category"] in r["categories"]
        and (not targeting["regions"] or r["region"] in targeting["regions"])
        and r["authenticity"] >= wanted_floor
        and r["contact_preferences"].get("open_to_offers", True)
    ]


async def test_a_derived_allocation_recounts_from_the_catalog(market: Market) -> None:
    client = market.client
    owner = await merchant(client)
    brief = await catalog_brief(client, owner)
    made = await plan(client, owner, brief["id"], kind="allocation")
    assert made["status"] == "solved", made
    card = await current_card(client, owner)
    derived = made["derivation"]
    assert derived["rate_card_version"] == card.version
    assert derived["targets"]["budget"]["value"] == brief["remaining"] == brief["budget"]
    assert derived["targets"]["min_reach"]["value"] == brief["goals"]["reach"]
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in await _matching(market, brief, card.authenticity_floor_bp / 10_000):
        groups[(row["platform"], row["tier"])].append(row)
    assert {(s["platform"], s["tier"]) for s in derived["segments"]} == set(groups)
    per_conversion = round(4_500 * 1_500 / 10_000)
    for segment in derived["segments"]:
        rows = groups[(segment["platform"], segment["tier"])]
        measured = ("followers", "median_views", "engagement_rate", "authenticity")
        median = {k: statistics.median_low(r[k] for r in rows) for k in measured}
        median["platform"] = segment["platform"]
        price = offer_price(card, median, brief["deliverables"], 4_500, 1_500)
        fee = price["merchant_pays"]
        ctr = card.click_through_bp[segment["platform"]]
        assert segment["fee"]["value"] == fee
        assert segment["available"]["value"] == min(len(rows), brief["budget"] // fee)
        assert segment["available"]["inputs"]["accounts"] == len(rows)
        assert segment["reach"]["value"] == median["median_views"]
        audience = sum(max(r["followers"], r["median_views"]) for r in rows)
        assert segment["audience"]["value"] == audience
        assert segment["cvr"]["value"] == pytest.approx(2 * ctr * card.conversion_rate_bp / 1e8)
        assert segment["commission_per_conversion"]["value"] == per_conversion
    planned = {(s["platform"], s["tier"]): s for s in made["allocation"]["segments"]}
    for segment in derived["segments"]:
        assert (
            planned[(segment["platform"], segment["tier"])]["creators"]
            <= (segment["available"]["value"])
        )
    assert made["allocation"]["total_spend"] <= brief["budget"]


async def test_a_derived_selection_prices_every_matching_account_as_an_offer(
    market: Market,
) -> None:
    client = market.client
    owner = await merchant(client)
    brief = await catalog_brief(client, owner, budget=600_000)
    made = await plan(client, owner, brief["id"], kind="selection")
    assert made["status"] == "solved", made
    card = await current_card(client, owner)
    matching = {
        str(r["id"]): r for r in await _matching(market, brief, card.authenticity_floor_bp / 10_000)
    }
    assert made["derivation"]["candidates"]["accounts"] == len(matching)
    chosen = await creators_of(client, owner, made)
    selection = made["selection"]
    assert [c["account_id"] for c in chosen] == selection["selected"]
    assert [c["position"] for c in chosen] == list(range(1, len(chosen) + 1))
    for creator in chosen:
        row = matching[creator["account_id"]]
        assert creator["kol_id"] == str(row["kol_id"])
        assert (creator["platform"], creator["tier"]) == (row["platform"], row["tier"])
        price = offer_price(card, row, brief["deliverables"], 4_500, 1_500)
        for name in ("fixed_fee", "merchant_pays", "expected_commission", "cost"):
            assert creator[name] == price[name], name
        assert creator["expected_conversions"] == pytest.approx(price["expected_conversions"])
        assert creator["expected_reach"] == row["median_views"]
        assert [q["lines"][0]["inputs"]["deliverable"] for q in creator["quotes"]] == (
            brief["deliverables"]
        )
        assert sum(q["creator_fee"] for q in creator["quotes"]) == creator["fixed_fee"]
    assert sum(c["cost"] for c in chosen) == selection["total_spend"] <= 600_000
    assert selection["total_reach"] >= brief["goals"]["reach"]


async def test_explicit_targets_and_numbers_still_plan_a_brief(market: Market) -> None:
    client = market.client
    owner = await merchant(client)
    brief = await catalog_brief(client, owner)
    cheaper = await plan(client, owner, brief["id"], kind="allocation", budget=300_000)
    assert cheaper["derivation"]["targets"]["budget"] == {
        "value": 300_000,
        "source": "as given in the request",
    }
    assert cheaper["allocation"]["total_spend"] <= 300_000
    segment = {"platform": "tiktok", "tier": "nano", "fee": 10_000, "reach": 3_000,
               "audience": 300_000, "cvr": 0.001, "available": 40}  # fmt: skip
    given = await plan(
        client, owner, brief["id"], kind="allocation", segments=[segment], min_reach=0,
        min_conversions=0,
    )  # fmt: skip
    assert "derivation" not in given
    assert given["allocation"]["segments"][0]["creators"] > 0
    candidates = [{"id": f"mine-{i}", "platform": "tiktok", "tier": "nano", "fee": 5_000,
                   "reach": 2_000.0, "conversions": 1.0} for i in range(80)]  # fmt: skip
    own = await plan(client, owner, brief["id"], kind="selection", candidates=candidates)
    assert own["status"] == "solved"
    assert len(own["selection"]["selected"]) == 80
    assert "creators_url" not in own


async def test_a_brief_nothing_matches_is_refused_naming_the_brief(market: Market) -> None:
    client = market.client
    owner = await merchant(client)
    brief = await catalog_brief(client, owner, targeting={"regions": ["AA"]})
    for kind in ("allocation", "selection"):
        refused = await client.post(
            f"/v1/briefs/{brief['id']}/plans", json={"kind": kind}, headers=owner.headers
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "brief"
    other = await merchant(client)
    hidden = await client.post(
        f"/v1/briefs/{brief['id']}/plans", json={"kind": "allocation"}, headers=other.headers
    )
    assert hidden.status_code == 404
    euros = await catalog_brief(client, owner, currency="EUR")
    wrong = await client.post(
        f"/v1/briefs/{euros['id']}/plans", json={"kind": "allocation"}, headers=owner.headers
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "currency"
    unknown = await client.post(
        f"/v1/briefs/{uuid.uuid4()}/plans", json={"kind": "bogus"}, headers=owner.headers
    )
    assert unknown.status_code == 422
