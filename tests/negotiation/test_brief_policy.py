"""A brief's delivery policy: set by the merchant on a draft, stored with the brief, shown to
KOLs before they apply, and fixed once the brief is open."""

import uuid
from typing import Any

import pytest

from tests.helpers import Account, Client
from tests.negotiation.conftest import Parties
from tests.negotiation.support import PROBLEM, brief_body, open_brief

DEFAULTS = {
    "review_days": 3,
    "min_live_days": 30,
    "payout_hold_days": 7,
    "return_days": 14,
    "click_required": False,
}
STRICT = {
    "review_days": 5,
    "min_live_days": 90,
    "payout_hold_days": 21,
    "return_days": 30,
    "click_required": True,
}
COLUMNS = """
    SELECT review_days, min_live_days, payout_hold_days, return_days, click_required
    FROM briefs WHERE id = $1
"""


async def _draft(client: Client, owner: Account, **changes: Any) -> dict[str, Any]:
    response = await client.post("/v1/briefs", json=brief_body(**changes), headers=owner.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _stored(db: Any, brief_id: str) -> dict[str, Any]:
    return dict(await db.fetchrow(COLUMNS, uuid.UUID(brief_id)))


def _fields(response: Any) -> list[str]:
    assert response.headers["content-type"].startswith(PROBLEM), response.text
    return [e["field"].removeprefix("$.") for e in response.json()["errors"]]


async def test_a_brief_without_a_policy_gets_the_default_one(
    client: Client, db: Any, parties: Parties
) -> None:
    brief = await _draft(client, parties.merchant)
    assert brief["delivery"] == DEFAULTS
    assert await _stored(db, brief["id"]) == DEFAULTS
    read = await client.get(f"/v1/briefs/{brief['id']}", headers=parties.merchant.headers)
    assert read.json()["delivery"] == DEFAULTS


async def test_a_policy_round_trips_and_kols_see_it_before_applying(
    client: Client, db: Any, parties: Parties
) -> None:
    brief = await open_brief(client, parties.merchant, delivery=STRICT)
    assert brief["delivery"] == STRICT
    assert await _stored(db, brief["id"]) == STRICT
    mine = await client.get("/v1/briefs", params={"limit": 100}, headers=parties.merchant.headers)
    assert [b["delivery"] for b in mine.json()["items"] if b["id"] == brief["id"]] == [STRICT]
    seen = await client.get(f"/v1/briefs/{brief['id']}", headers=parties.kol.headers)
    assert seen.status_code == 200, seen.text
    assert seen.json()["delivery"] == STRICT


async def test_a_partial_policy_keeps_the_defaults_of_the_fields_left_out(
    client: Client, parties: Parties
) -> None:
    brief = await _draft(client, parties.merchant, delivery={"click_required": True})
    assert brief["delivery"] == {**DEFAULTS, "click_required": True}


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        ({"review_days": 0}, "delivery.review_days"),
        ({"review_days": 31}, "delivery.review_days"),
        ({"min_live_days": -1}, "delivery.min_live_days"),
        ({"min_live_days": 366}, "delivery.min_live_days"),
        ({"payout_hold_days": -1}, "delivery.payout_hold_days"),
        ({"payout_hold_days": 61}, "delivery.payout_hold_days"),
        ({"return_days": -1}, "delivery.return_days"),
        ({"return_days": 91}, "delivery.return_days"),
        ({"click_required": "yes"}, "delivery.click_required"),
    ],
)
async def test_a_policy_out_of_range_is_refused_naming_the_field(
    client: Client, db: Any, parties: Parties, policy: dict[str, Any], field: str
) -> None:
    title = f"Policy {uuid.uuid4().hex}"
    created = await client.post(
        "/v1/briefs",
        json=brief_body(title=title, delivery=policy),
        headers=parties.merchant.headers,
    )
    assert created.status_code == 422, created.text
    assert _fields(created) == [field]
    assert await db.fetchval("SELECT count(*) FROM briefs WHERE title = $1", title) == 0
    draft = await _draft(client, parties.merchant)
    patched = await client.patch(
        f"/v1/briefs/{draft['id']}", json={"delivery": policy}, headers=parties.merchant.headers
    )
    assert patched.status_code == 422, patched.text
    assert _fields(patched) == [field]
    assert await _stored(db, draft["id"]) == DEFAULTS


async def test_an_unknown_policy_field_is_refused(client: Client, parties: Parties) -> None:
    response = await client.post(
        "/v1/briefs",
        json=brief_body(delivery={"review_hours": 12}),
        headers=parties.merchant.headers,
    )
    assert response.status_code in (400, 422), response.text
    assert "review_hours" in response.text


async def test_a_draft_may_change_its_policy(client: Client, db: Any, parties: Parties) -> None:
    draft = await _draft(client, parties.merchant)
    url, headers = f"/v1/briefs/{draft['id']}", parties.merchant.headers
    patched = await client.patch(url, json={"delivery": STRICT}, headers=headers)
    assert patched.status_code == 200, patched.text
    assert patched.json()["delivery"] == STRICT
    assert patched.json()["title"] == draft["title"]
    assert await _stored(db, draft["id"]) == STRICT
    untouched = await client.patch(url, json={"title": "Renamed"}, headers=headers)
    assert untouched.json()["delivery"] == STRICT
    published = await client.post(f"{url}/publish", headers=headers)
    assert published.status_code == 200, published.text
    assert published.json()["delivery"] == STRICT


async def test_an_open_brief_cannot_change_its_policy(
    client: Client, db: Any, parties: Parties
) -> None:
    brief = await open_brief(client, parties.merchant)
    url, headers = f"/v1/briefs/{brief['id']}", parties.merchant.headers
    refused = await client.patch(url, json={"delivery": STRICT}, headers=headers)
    assert refused.status_code == 409, refused.text
    assert "delivery" in refused.json()["detail"]
    with_budget = await client.patch(
        url, json={"budget": brief["budget"] + 1, "delivery": STRICT}, headers=headers
    )
    assert with_budget.status_code == 409, with_budget.text
    assert await _stored(db, brief["id"]) == DEFAULTS
    read = await client.get(url, headers=headers)
    assert (read.json()["delivery"], read.json()["budget"]) == (DEFAULTS, brief["budget"])
