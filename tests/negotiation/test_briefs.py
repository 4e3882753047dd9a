"""Briefs: a merchant's drafts, their life from draft to open to closed or cancelled, and the
open briefs a KOL is shown."""

import uuid
from typing import Any

import pytest

from tests.helpers import Account, Client, api_key, kol, merchant
from tests.negotiation.conftest import Parties
from tests.negotiation.support import (
    PROBLEM,
    answer,
    brief_body,
    events_of,
    invite,
    later,
    open_brief,
    terms,
)


async def _draft(client: Client, owner: Account, **changes: Any) -> dict[str, Any]:
    response = await client.post("/v1/briefs", json=brief_body(**changes), headers=owner.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _verb(client: Client, owner: Account, brief_id: str, verb: str) -> Any:
    return await client.post(f"/v1/briefs/{brief_id}/{verb}", headers=owner.headers)


async def test_a_merchant_creates_a_draft_with_every_field(
    client: Client, parties: Parties
) -> None:
    body = brief_body(visibility="invite_only", max_counter_rounds=3)
    response = await client.post("/v1/briefs", json=body, headers=parties.merchant.headers)
    assert response.status_code == 201
    brief = response.json()
    assert brief["status"] == "draft"
    assert brief["merchant_id"] == parties.merchant.me["merchant_id"]
    for field in ("product", "goals", "budget", "currency", "platforms", "tiers", "commission"):
        assert brief[field] == body[field]
    assert brief["visibility"] == "invite_only"
    assert brief["max_counter_rounds"] == 3
    assert (brief["committed"], brief["reserved"], brief["remaining"]) == (0, 0, body["budget"])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"currency": "XYZ"}, "currency"),
        ({"platforms": ["tiktok", "tiktok"]}, "platforms"),
        (
            {
                "timeline": {
                    "apply_by": later(days=1),
                    "posting_from": "2030-02-01",
                    "posting_until": "2030-01-01",
                }
            },
            "timeline.posting_until",
        ),
        ({"budget": -1}, "budget"),
        ({"commission": {"commission_bp": 10_001}}, "commission.commission_bp"),
        ({"surprise": True}, "surprise"),
    ],
)
async def test_a_brief_that_breaks_a_rule_is_refused_naming_the_field(
    client: Client, parties: Parties, change: dict[str, Any], field: str
) -> None:
    response = await client.post(
        "/v1/briefs", json=brief_body(**change), headers=parties.merchant.headers
    )
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert field in response.text


# (from, verb) -> allowed; every other pair of the table is refused with 409.
TRANSITIONS = {
    ("draft", "publish"): "open",
    ("draft", "cancel"): "cancelled",
    ("open", "close"): "closed",
    ("open", "cancel"): "cancelled",
    ("closed", "cancel"): "cancelled",
}
EVENT_OF = {"open": "brief.published", "closed": "brief.closed", "cancelled": "brief.cancelled"}
PATHS = {"draft": [], "open": ["publish"], "closed": ["publish", "close"]}
PATHS["cancelled"] = ["cancel"]


@pytest.mark.parametrize("verb", ["publish", "close", "cancel"])
@pytest.mark.parametrize("state", ["draft", "open", "closed", "cancelled"])
async def test_brief_transitions_follow_the_state_table(
    client: Client, db, parties: Parties, state: str, verb: str
) -> None:
    brief = await _draft(client, parties.merchant)
    for step in PATHS[state]:
        assert (await _verb(client, parties.merchant, brief["id"], step)).status_code == 200
    before = await events_of(db, brief["id"])
    response = await _verb(client, parties.merchant, brief["id"], verb)
    target = TRANSITIONS.get((state, verb))
    if target is None:
        assert response.status_code == 409, response.text
        assert await events_of(db, brief["id"]) == before
    else:
        assert response.status_code == 200, response.text
        assert response.json()["status"] == target
        assert (await events_of(db, brief["id"]))[len(before) :] == [EVENT_OF[target]]


async def test_only_the_owning_merchant_may_change_a_brief(
    client: Client, parties: Parties
) -> None:
    brief = await _draft(client, parties.merchant)
    for verb in ("publish", "close", "cancel"):
        stranger = await _verb(client, parties.other_merchant, brief["id"], verb)
        assert stranger.status_code == 404
        assert (await _verb(client, parties.kol, brief["id"], verb)).status_code == 403
    patch = await client.patch(
        f"/v1/briefs/{brief['id']}", json={"budget": 1}, headers=parties.other_merchant.headers
    )
    assert patch.status_code == 404
    created = await client.post("/v1/briefs", json=brief_body(), headers=parties.kol.headers)
    assert created.status_code == 403
    secret = await api_key(client, parties.merchant, "deals:read")
    listed = await client.get("/v1/briefs", headers={"X-API-Key": secret})
    assert listed.status_code == 403


async def test_a_draft_may_change_anything_an_open_brief_only_a_higher_budget(
    client: Client, parties: Parties
) -> None:
    brief = await _draft(client, parties.merchant)
    url, headers = f"/v1/briefs/{brief['id']}", parties.merchant.headers
    edited = await client.patch(url, json={"title": "Autumn", "budget": 500}, headers=headers)
    assert edited.status_code == 200
    assert (edited.json()["title"], edited.json()["budget"]) == ("Autumn", 500)
    assert edited.json()["product"] == brief["product"]
    await _verb(client, parties.merchant, brief["id"], "publish")
    assert (await client.patch(url, json={"title": "x"}, headers=headers)).status_code == 409
    lower = await client.patch(url, json={"budget": 400}, headers=headers)
    assert lower.status_code == 422
    assert lower.json()["errors"][0]["field"] == "budget"
    raised = await client.patch(url, json={"budget": 2_000}, headers=headers)
    assert raised.status_code == 200 and raised.json()["budget"] == 2_000
    await _verb(client, parties.merchant, brief["id"], "close")
    assert (await client.patch(url, json={"budget": 3_000}, headers=headers)).status_code == 409


async def test_publishing_needs_a_future_apply_by_and_a_budget(
    client: Client, parties: Parties
) -> None:
    no_budget = await _draft(client, parties.merchant, budget=0)
    response = await _verb(client, parties.merchant, no_budget["id"], "publish")
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "budget"


async def test_cancelling_withdraws_open_offers_and_keeps_deals(
    client: Client, db, parties: Parties
) -> None:
    brief = await open_brief(client, parties.merchant)
    accepted = await invite(client, parties.merchant, brief["id"], parties.kol)
    assert (await answer(client, parties.kol, accepted, "accept", 1)).status_code == 200
    pending = await invite(client, parties.merchant, brief["id"], parties.other_kol)
    cancelled = await _verb(client, parties.merchant, brief["id"], "cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["reserved"] == 0
    assert cancelled.json()["committed"] == 55_000
    offer = await client.get(f"/v1/offers/{pending['id']}", headers=parties.other_kol.headers)
    assert offer.json()["status"] == "withdrawn"
    assert await events_of(db, pending["id"]) == ["offer.created", "offer.withdrawn"]
    assert (await events_of(db, brief["id"]))[-1] == "brief.cancelled"
    deal = await client.get(
        "/v1/deals", params={"brief_id": brief["id"]}, headers=parties.kol.headers
    )
    assert [d["status"] for d in deal.json()["items"]] == ["awaiting_funding"]


async def test_a_closed_brief_takes_no_new_offers_but_negotiations_continue(
    client: Client, parties: Parties
) -> None:
    brief = await open_brief(client, parties.merchant)
    offer = await invite(client, parties.merchant, brief["id"], parties.kol)
    assert (await _verb(client, parties.merchant, brief["id"], "close")).status_code == 200
    late_invite = await client.post(
        f"/v1/briefs/{brief['id']}/offers",
        json={"kol_id": parties.other_kol.me["kol_id"], "terms": terms()},
        headers=parties.merchant.headers,
    )
    assert late_invite.status_code == 409
    assert (await answer(client, parties.kol, offer, "accept", 1)).status_code == 200


async def test_applications_need_an_open_brief_before_apply_by(
    client: Client, db, parties: Parties
) -> None:
    invite_only = await open_brief(client, parties.merchant, visibility="invite_only")
    hidden = await client.post(
        f"/v1/briefs/{invite_only['id']}/applications",
        json={"terms": terms()},
        headers=parties.kol.headers,
    )
    assert hidden.status_code == 404
    brief = await open_brief(client, parties.merchant)
    await db.execute(
        "UPDATE briefs SET apply_by = now() - interval '1 minute' WHERE id = $1",
        uuid.UUID(brief["id"]),
    )
    late = await client.post(
        f"/v1/briefs/{brief['id']}/applications",
        json={"terms": terms()},
        headers=parties.kol.headers,
    )
    assert late.status_code == 409
    assert "applications closed" in late.json()["detail"]
    draft = await _draft(client, parties.merchant)
    unseen = await client.get(f"/v1/briefs/{draft['id']}", headers=parties.kol.headers)
    assert unseen.status_code == 404


async def test_a_kol_sees_the_open_briefs_that_fit_its_categories_platforms_and_tiers(
    client: Client, db
) -> None:
    owner = await merchant(client)
    creator = await kol(client)
    profile = {"display_name": "Glow", "categories": ["skincare", "beauty"]}
    assert (
        await client.put("/v1/kols/me", json=profile, headers=creator.headers)
    ).status_code == 200
    handle = f"glow{uuid.uuid4().hex[:8]}"
    account = {
        "platform": "tiktok",
        "handle": handle,
        "profile_url": f"https://www.tiktok.com/@{handle}",
        "metrics": {
            "followers": 25_000,
            "median_views": 6_000,
            "median_likes": 500,
            "median_comments": 40,
            "engagement_rate": 0.05,
            "posts_per_month": 8,
        },
    }
    added = await client.post("/v1/kols/me/accounts", json=account, headers=creator.headers)
    assert added.status_code == 201, added.text
    fits = await open_brief(client, owner)
    other_category = await open_brief(
        client, owner, product={**brief_body()["product"], "category": "gaming"}
    )
    other_platform = await open_brief(client, owner, platforms=["youtube"])
    other_tier = await open_brief(client, owner, tiers=["mega"])
    invite_only = await open_brief(client, owner, visibility="invite_only")
    draft = await _draft(client, owner)

    seen: set[str] = set()
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 50}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/briefs", params=params, headers=creator.headers)).json()
        seen |= {b["id"] for b in page["items"]}
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert fits["id"] in seen
    for hidden in (other_category, other_platform, other_tier, invite_only, draft):
        assert hidden["id"] not in seen


async def test_a_merchant_pages_through_its_own_briefs_by_status(client: Client) -> None:
    owner = await merchant(client)
    drafts = {(await _draft(client, owner))["id"] for _ in range(3)}
    opened = (await open_brief(client, owner))["id"]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "status": "draft"}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/briefs", params=params, headers=owner.headers)).json()
        assert len(page["items"]) <= 2
        seen += [b["id"] for b in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(drafts)
    everything = await client.get("/v1/briefs", params={"limit": 10}, headers=owner.headers)
    assert {b["id"] for b in everything.json()["items"]} == drafts | {opened}
    bad = await client.get("/v1/briefs", params={"cursor": "nonsense"}, headers=owner.headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "cursor"
