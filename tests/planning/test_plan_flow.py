"""From a brief to invitations in three calls, through HTTP: plan, adopt, invite. The KOLs see
their offers with the quoted terms; the budget holds item by item; the report compares with
the adopted plan."""

import uuid
from typing import Any

import asyncpg

from tests.helpers import Account, Client, merchant
from tests.negotiation.support import invite, terms
from tests.planning.support import (
    catalog_brief,
    creators_of,
    listed_creator,
    plan,
    unique_region,
)

SET_PAYOUT = """
    INSERT INTO payout_accounts (kol_id, stripe_account_id, payouts_enabled, details_submitted)
    VALUES ($1, $2, $3, $3)
    ON CONFLICT (kol_id) DO UPDATE SET payouts_enabled = excluded.payouts_enabled
"""


async def _market(client: Client, sizes: tuple[int, ...]) -> tuple[str, list[Account]]:
    region = unique_region()
    return region, [await listed_creator(client, region, followers) for followers in sizes]


async def _brief(client: Client, owner: Account, region: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "platforms": ["tiktok"],
        "goals": {"reach": 0, "conversions": 0},
        "targeting": {"regions": [region]},
    }
    return await catalog_brief(client, owner, **(body | changes))


async def _invite_all(client: Client, owner: Account, plan_id: str, **body: Any) -> Any:
    return await client.post(f"/v1/plans/{plan_id}/invitations", json=body, headers=owner.headers)


async def test_brief_to_invitations_in_three_calls(client: Client) -> None:
    region, creators = await _market(client, (12_000, 30_000, 60_000))
    owner = await merchant(client)
    brief = await _brief(client, owner, region)
    made = await plan(client, owner, brief["id"], kind="selection")
    assert (made["status"], made["stop_reason"]) == ("solved", "optimal")
    chosen = await creators_of(client, owner, made)
    assert {c["kol_id"] for c in chosen} == {c.me["kol_id"] for c in creators}
    adopted = await client.post(f"/v1/plans/{made['id']}/adopt", headers=owner.headers)
    assert adopted.status_code == 200, adopted.text
    assert adopted.json()["adopted_at"]
    sent = await client.post(f"/v1/plans/{made['id']}/invitations", headers=owner.headers)
    assert sent.status_code == 200, sent.text
    answer = sent.json()
    assert (answer["invited"], answer["refused"]) == (3, 0)
    for creator in creators:
        mine = next(c for c in chosen if c["kol_id"] == creator.me["kol_id"])
        offers = await client.get("/v1/offers", headers=creator.headers)
        [offer] = offers.json()["items"]
        assert offer["brief_id"] == brief["id"]
        assert offer["status"] == "open" and offer["awaiting"] == "kol"
        assert (offer["fixed_fee"], offer["merchant_pays"]) == (
            mine["fixed_fee"],
            mine["merchant_pays"],
        )
        full = (await client.get(f"/v1/offers/{offer['id']}", headers=creator.headers)).json()
        revision = full["revisions"][0]
        assert [(d["kind"], d["platform"]) for d in revision["terms"]["deliverables"]] == [
            ("short_video", "tiktok"),
            ("story", "tiktok"),
        ]
        assert revision["terms"]["commission_bp"] == brief["commission"]["commission_bp"]
        assert revision["breakdown"]["rate_card_version"] == mine["rate_card_version"]
    again = await client.post(f"/v1/plans/{made['id']}/invitations", headers=owner.headers)
    assert again.json()["invited"] == 0
    assert {i["reason"] for i in again.json()["items"]} == {"open_offer"}


async def test_invitations_hold_the_budget_and_refuse_item_by_item(client: Client) -> None:
    region, creators = await _market(client, (20_000, 22_000, 24_000, 26_000))
    owner = await merchant(client)
    brief = await _brief(client, owner, region, budget=2_000)
    # Plan for more than the brief holds, so that the invitations meet its budget rule.
    made = await plan(client, owner, brief["id"], kind="selection", budget=10_000_000)
    chosen = await creators_of(client, owner, made)
    assert len(chosen) == 4
    first = creators[0]
    await invite(client, owner, brief["id"], first, fee=1_000)  # holds 1,100 of the budget
    others = [c for c in chosen if c["kol_id"] != first.me["kol_id"]]
    budget = 1_100 + others[0]["merchant_pays"]
    raised = await client.patch(
        f"/v1/briefs/{brief['id']}", json={"budget": budget}, headers=owner.headers
    )
    assert raised.status_code == 200, raised.text
    key = {"Idempotency-Key": f"plan-{uuid.uuid4()}"}
    url = f"/v1/plans/{made['id']}/invitations"
    sent = await client.post(url, json={}, headers=owner.headers | key)
    assert sent.status_code == 200, sent.text
    items = {i["kol_id"]: i for i in sent.json()["items"]}
    assert items[first.me["kol_id"]]["reason"] == "open_offer"
    assert items[others[0]["kol_id"]]["status"] == "invited"
    for later in others[1:]:
        refused = items[later["kol_id"]]
        assert (refused["reason"], refused["merchant_pays"]) == ("over_budget", None)
        assert "remaining budget is 0" in refused["detail"]
    after = (await client.get(f"/v1/briefs/{brief['id']}", headers=owner.headers)).json()
    assert (after["reserved"], after["remaining"]) == (budget, 0)
    replay = await client.post(url, json={}, headers=owner.headers | key)
    assert replay.json() == sent.json()
    again = (await client.get(f"/v1/briefs/{brief['id']}", headers=owner.headers)).json()
    assert again["reserved"] == budget


async def test_a_brief_that_requires_payouts_refuses_kols_not_ready(client: Client, db) -> None:
    region, creators = await _market(client, (15_000, 18_000))
    owner = await merchant(client)
    targeting = {"regions": [region], "payout_ready_required": True}
    brief = await _brief(client, owner, region, targeting=targeting)
    ready, later = creators
    await db.execute(SET_PAYOUT, uuid.UUID(ready.me["kol_id"]), f"acct_{uuid.uuid4().hex}", True)
    made = await plan(client, owner, brief["id"], kind="selection")
    assert [c["kol_id"] for c in await creators_of(client, owner, made)] == [ready.me["kol_id"]]
    await db.execute(SET_PAYOUT, uuid.UUID(ready.me["kol_id"]), "acct_gone", False)
    sent = await _invite_all(client, owner, made["id"])
    [item] = sent.json()["items"]
    assert (item["status"], item["reason"]) == ("refused", "payout_not_ready")
    direct = await client.post(
        f"/v1/briefs/{brief['id']}/offers",
        json={"kol_id": later.me["kol_id"], "terms": terms(5_000)},
        headers=owner.headers,
    )
    assert direct.status_code == 409
    asked = await _invite_all(client, owner, made["id"], kol_ids=[later.me["kol_id"]])
    assert [i["reason"] for i in asked.json()["items"]] == ["not_in_plan"]


async def test_an_allocation_becomes_a_selection_within_its_caps(client: Client) -> None:
    region, _ = await _market(client, (3_000, 4_000, 5_000, 6_000, 40_000, 50_000))
    owner = await merchant(client)
    brief = await _brief(client, owner, region, tiers=["nano", "micro"])
    allocation = await plan(client, owner, brief["id"], kind="allocation", budget=40_000)
    hired = {s["tier"]: s["creators"] for s in allocation["allocation"]["segments"]}
    response = await client.post(f"/v1/plans/{allocation['id']}/selection", headers=owner.headers)
    assert response.status_code == 201, response.text
    selection = response.json()
    assert selection["source_plan_id"] == allocation["id"]
    matching = selection["derivation"]["matching"]
    assert matching["segments"] == sorted(f"tiktok:{t}" for t, n in hired.items() if n)
    chosen = await creators_of(client, owner, selection)
    for tier, cap in hired.items():
        assert sum(c["tier"] == tier for c in chosen) <= cap
    assert selection["selection"]["total_spend"] <= 40_000
    assert selection["derivation"]["targets"]["budget"]["value"] == 40_000
    not_allocation = await client.post(
        f"/v1/plans/{selection['id']}/selection", headers=owner.headers
    )
    assert not_allocation.status_code == 409


async def test_the_report_compares_with_the_adopted_plan_per_segment(
    client: Client, db: asyncpg.Connection
) -> None:
    region, _ = await _market(client, (5_000, 50_000))
    owner = await merchant(client)
    brief = await _brief(client, owner, region, tiers=["nano", "micro"])
    report_url = f"/v1/briefs/{brief['id']}/report"
    first = await plan(client, owner, brief["id"], kind="selection")
    second = await plan(client, owner, brief["id"], kind="allocation")
    none = (await client.get(report_url, headers=owner.headers)).json()
    assert none["plan_id"] is None and none["against_plan_by_segment"] == []
    for made in (first, second):
        adopted = await client.post(f"/v1/plans/{made['id']}/adopt", headers=owner.headers)
        assert adopted.status_code == 200
        report = (await client.get(report_url, headers=owner.headers)).json()
        assert report["plan_id"] == made["id"]
        result = made["selection"] if made["kind"] == "selection" else made["allocation"]
        spend = next(c for c in report["against_plan"] if c["metric"] == "spend")
        assert spend["expected"] == result["total_spend"]
        lines = report["against_plan_by_segment"]
        assert sum(line["expected_spend"] for line in lines) == result["total_spend"]
        assert {(line["platform"], line["tier"]) for line in lines} <= {
            ("tiktok", "nano"),
            ("tiktok", "micro"),
        }
    adoptions = await db.fetch(
        "SELECT payload FROM events WHERE type = 'plan.adopted' AND aggregate_id = any($1) "
        "ORDER BY id",
        [uuid.UUID(first["id"]), uuid.UUID(second["id"])],
    )
    assert [(a["payload"]["plan_id"], a["payload"]["replaced"]) for a in adoptions] == [
        (first["id"], None),
        (second["id"], first["id"]),
    ]
    listed = await client.get(f"/v1/briefs/{brief['id']}/plans?limit=1", headers=owner.headers)
    page = listed.json()
    assert [p["id"] for p in page["items"]] == [second["id"]]
    assert page["items"][0]["adopted_at"]
    rest = await client.get(
        f"/v1/briefs/{brief['id']}/plans?cursor={page['next_cursor']}", headers=owner.headers
    )
    assert [(p["id"], p["adopted_at"]) for p in rest.json()["items"]] == [(first["id"], None)]
    other = await merchant(client)
    assert (
        await client.get(f"/v1/briefs/{brief['id']}/plans", headers=other.headers)
    ).status_code == 404
    assert (
        await client.post(f"/v1/plans/{first['id']}/adopt", headers=other.headers)
    ).status_code == 404
