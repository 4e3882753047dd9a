"""Inputs that once answered 500, or stored what later reads could not return: each is now
refused with a problem naming what was wrong, or served, and the reads that follow still work.
"""

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.catalog.test_accounts import new_account
from tests.helpers import Client, kol, merchant
from tests.negotiation.support import brief_body
from tests.tracking.test_conversions import make_deal, order

ROOT = Path(__file__).resolve().parents[2]
OUT_OF_RANGE_TIMES = [
    "9999-12-31T23:59:59-05:00",  # stored, then unreadable (year 10000 in UTC)
    "0001-01-01T00:00:00+01:00",  # year 0 in UTC
    "2026-06-01T12:00:00+21:00",  # an offset no place has
    "2200-01-01T00:00:00Z",  # beyond what the contract allows
    "1969-12-31T23:59:59Z",
]


@pytest.mark.parametrize("occurred_at", OUT_OF_RANGE_TIMES)
async def test_an_order_time_out_of_range_is_refused_and_lists_still_read(
    client: Client, db: Any, occurred_at: str
) -> None:
    deal = await make_deal(client, db)
    one = await client.post(
        "/v1/conversions", json=order(deal, occurred_at=occurred_at), headers=deal.partner
    )
    assert one.status_code == 422, one.text
    assert [e["field"] for e in one.json()["errors"]] == ["occurred_at"]
    batch = await client.post(
        "/v1/conversions/batch",
        json={"items": [order(deal), order(deal, occurred_at=occurred_at)]},
        headers=deal.partner,
    )
    assert batch.status_code == 422, batch.text
    assert batch.json()["errors"][0]["field"] == "items[1].occurred_at"
    listed = await client.get("/v1/conversions", headers=deal.owner.headers)
    assert listed.status_code == 200, listed.text


@pytest.mark.parametrize("apply_by", OUT_OF_RANGE_TIMES)
async def test_a_brief_deadline_out_of_range_is_refused(client: Client, apply_by: str) -> None:
    owner = await merchant(client)
    body = brief_body()
    body["timeline"]["apply_by"] = apply_by
    created = await client.post("/v1/briefs", json=body, headers=owner.headers)
    assert created.status_code == 422, created.text
    assert created.json()["errors"][0]["field"] == "timeline.apply_by"
    draft = (await client.post("/v1/briefs", json=brief_body(), headers=owner.headers)).json()
    changed = await client.patch(
        f"/v1/briefs/{draft['id']}",
        json={"timeline": {**draft["timeline"], "apply_by": apply_by}},
        headers=owner.headers,
    )
    assert changed.status_code == 422, changed.text
    assert changed.json()["errors"][0]["field"] == "timeline.apply_by"
    assert (await client.get("/v1/briefs", headers=owner.headers)).status_code == 200


@pytest.mark.parametrize(
    "path", ["/v1/briefs", "/v1/deals", "/v1/offers", "/v1/conversions", "/v1/notifications"]
)
@pytest.mark.parametrize(
    "cursor",
    [
        "0." + "0" * 32,  # the first instant the cursor can name
        "9999999999999999." + "f" * 32,  # the last (year 2286)
        "1." + "0" * 32,
    ],
)
async def test_cursors_at_the_ends_of_time_read_a_page(
    client: Client, path: str, cursor: str
) -> None:
    owner = await merchant(client)
    page = await client.get(path, params={"cursor": cursor}, headers=owner.headers)
    assert page.status_code == 200, page.text
    assert isinstance(page.json()["items"], list)


@pytest.mark.parametrize("path", ["/v1/auth/token", "/v1/briefs"])
async def test_json_nested_thousands_deep_is_a_malformed_request(client: Client, path: str) -> None:
    owner = await merchant(client)
    body = "[" * 2_000 + "]" * 2_000
    headers = {**owner.headers, "Content-Type": "application/json"}
    answer = await client.post(path, content=body, headers=headers)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_a_body_that_is_not_utf8_is_a_malformed_request(client: Client) -> None:
    answer = await client.post(
        "/v1/auth/token",
        content=b'{"email": "\xff\xfe@example.com", "password": "x"}',
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["type"] == "/problems/malformed-request"


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/v1/deals", {"GET", "OPTIONS"}),
        ("/v1/briefs", {"GET", "POST", "OPTIONS"}),
        (f"/v1/briefs/{uuid.uuid4()}", {"GET", "PATCH", "OPTIONS"}),
        ("/v1/auth/token", {"POST", "OPTIONS"}),
    ],
)
async def test_options_answers_every_method_of_the_path(
    client: Client, path: str, methods: set[str]
) -> None:
    answer = await client.options(path)
    assert answer.status_code in (200, 204), answer.text
    assert {m.strip() for m in answer.headers["allow"].split(",")} == methods


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount", "100"), ("occurred_at", 0), ("amount", 100.5), ("amount", True)],
)
async def test_a_value_of_the_wrong_json_type_is_refused(
    client: Client, db: Any, field: str, value: Any
) -> None:
    deal = await make_deal(client, db)
    answer = await client.post(
        "/v1/conversions", content=json.dumps(order(deal, **{field: value})),
        headers={**deal.partner, "Content-Type": "application/json"},
    )  # fmt: skip
    assert answer.status_code in (400, 422), answer.text
    assert field in answer.text


@pytest.mark.parametrize(
    "url", ["https://[www.xiaohongshu.com/user", "https://www.xiaohongshu.com:99999/user"]
)
async def test_a_profile_link_urllib_cannot_split_is_refused(client: Client, url: str) -> None:
    creator = await kol(client)
    added = await client.post(
        "/v1/kols/me/accounts", json=new_account(profile_url=url), headers=creator.headers
    )
    assert added.status_code == 422, added.text
    assert [e["field"] for e in added.json()["errors"]] == ["profile_url"]


@pytest.mark.parametrize("url", ["https://[shop.example.com/serum", "https://a@shop.example.com/"])
async def test_a_product_link_with_brackets_or_credentials_is_refused(
    client: Client, url: str
) -> None:
    owner = await merchant(client)
    body = brief_body()
    body["product"]["url"] = url
    created = await client.post("/v1/briefs", json=body, headers=owner.headers)
    assert created.status_code == 422, created.text
    assert [e["field"] for e in created.json()["errors"]] == ["product.url"]


def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from _patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from _patterns(item)


def test_document_patterns_mean_the_same_to_clients_and_to_the_service() -> None:
    """`\\s`, `\\d`, `\\w` and `\\b` match other characters in Python's `re` (which checks
    requests) than in ECMA-262 (which clients check), e.g. U+001F is a space to Python only:
    no pattern of the document uses them."""
    document = json.loads((ROOT / "openapi" / "openapi.json").read_text())
    ambiguous = [p for p in _patterns(document) if re.search(r"\\[sSdDwWbB]", p)]
    assert ambiguous == []


@pytest.mark.parametrize("space", ["\x1f", "\x85", "\ufeff", "\u00a0", "\u3000"])
async def test_an_email_with_a_space_of_either_kind_is_refused(client: Client, space: str) -> None:
    owner = await merchant(client)
    invited = await client.post(
        "/v1/merchant/members/invitations",
        json={"email": f"new{space}member@example.com", "role": "member"},
        headers=owner.headers,
    )
    assert invited.status_code == 422, invited.text
    assert [e["field"] for e in invited.json()["errors"]] == ["email"]
