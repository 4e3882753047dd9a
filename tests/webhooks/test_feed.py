"""The events API: each caller reads only the events of objects it may read, in cursor pages
with filters; the OpenAPI `webhooks` section documents every event type."""

import asyncio
import json
from pathlib import Path
from typing import get_args

from openapi_spec_validator import validate

from contracts.events import EventPayload
from services import events
from tests.helpers import Client, api_key, kol, merchant
from tests.negotiation.support import invite
from tests.webhooks.support import published_brief

ROOT = Path(__file__).resolve().parents[2]


async def _seen(client: Client, headers: dict[str, str], count: int, **params: str) -> list[dict]:
    """The caller's events once `count` of them are visible: an event is handed out once no
    older transaction anywhere on the server is still open, which a busy server can delay a
    moment (bounded at 10 s)."""
    for _ in range(200):
        found = await _all(client, headers, **params)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)
    return found


async def _all(client: Client, headers: dict[str, str], **params: str) -> list[dict]:
    items, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {}), "limit": "2"}
        page = await client.get("/v1/events", params=query, headers=headers)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if not page.json()["has_more"]:
            return items


async def test_each_side_reads_only_its_own_events(hook_client: Client) -> None:
    owner, other, creator = (
        await merchant(hook_client),
        await merchant(hook_client),
        await kol(hook_client),
    )
    brief_id = await published_brief(hook_client, owner)
    offer = await invite(hook_client, owner, brief_id, creator)
    partner = await api_key(hook_client, owner, "webhooks:manage")

    mine = await _seen(hook_client, owner.headers, 2)
    assert [e["type"] for e in mine] == ["brief.published", "offer.created"]
    assert await _all(hook_client, {"X-API-Key": partner}) == mine
    # The KOL sees its offer, not the merchant's brief; another merchant sees nothing.
    theirs = await _seen(hook_client, creator.headers, 1)
    assert [(e["type"], e["object"]["id"]) for e in theirs] == [("offer.created", offer["id"])]
    assert await _all(hook_client, other.headers) == []
    without_scope = await api_key(hook_client, owner, "deals:read")
    refused = await hook_client.get("/v1/events", headers={"X-API-Key": without_scope})
    assert refused.status_code == 403


async def test_filters_and_a_cursor_kept_for_polling(hook_client: Client) -> None:
    owner = await merchant(hook_client)
    first = await published_brief(hook_client, owner)
    await _seen(hook_client, owner.headers, 1)
    page = await hook_client.get("/v1/events", headers=owner.headers)
    cursor = page.json()["next_cursor"]
    second = await published_brief(hook_client, owner)

    newer = await _seen(hook_client, owner.headers, 1, cursor=cursor)
    assert [e["data"]["brief_id"] for e in newer] == [second]
    by_object = await _all(hook_client, owner.headers, object_id=first)
    assert [e["object"]["id"] for e in by_object] == [first]
    by_type = await _all(hook_client, owner.headers, type="offer.created")
    assert by_type == []


async def test_bad_filters_and_cursors_answer_422_naming_the_field(hook_client: Client) -> None:
    owner = await merchant(hook_client)
    for params, field in (
        ({"type": "deal.vanished"}, "type"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ):
        response = await hook_client.get("/v1/events", params=params, headers=owner.headers)
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == [field]


def test_the_webhooks_section_lists_every_event_type_with_its_payload() -> None:
    document = json.loads((ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    validate(document)
    types = {events.type_of(kind): kind.__name__ for kind in get_args(EventPayload)}
    assert set(document["webhooks"]) == {*types, "ping"}
    schemas = document["components"]["schemas"]
    for name, struct in types.items():
        body = document["webhooks"][name]["post"]["requestBody"]["content"]["application/json"]
        properties = body["schema"]["properties"]
        assert properties["type"]["const"] == name
        ref = properties["data"]["$ref"]
        assert ref == f"#/components/schemas/{struct}"
        tag = schemas[struct]["properties"]["type"]
        assert tag.get("const", (tag.get("enum") or [None])[0]) == name
        headers = {p["name"] for p in document["webhooks"][name]["post"]["parameters"]}
        assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
