"""The inbox: each user reads only their own notifications, in their language, newest first
with the unread count; reading one or all is theirs alone; new ones flow on the event
stream only to the recipient's side."""

import asyncio
import uuid
from typing import Any

from services.settings import Settings
from tests.helpers import Account, Client, api_key, kol, merchant, register, unique_email
from tests.negotiation.support import counter, invite, open_brief
from tests.notifications.support import WAIT, kinds, notify, read_inbox, speaking


async def _member(client: Client, owner: Account) -> Account:
    invited = await client.post(
        "/v1/merchant/members/invitations",
        json={"email": unique_email("member"), "role": "member"},
        headers=owner.headers,
    )
    assert invited.status_code == 201, invited.text
    body = invited.json()
    return await register(client, "merchant", email=body["email"], invitation=body["invitation"])


async def test_a_counter_reaches_every_member_of_its_merchant_and_no_one_else(
    client: Client, pool: Any, settings: Settings
) -> None:
    owner, other_shop = await merchant(client), await merchant(client)
    member, creator = await _member(client, owner), await speaking(client, "en", name="Mia")
    brief = await open_brief(client, owner, title="Spring serum")
    offer = await invite(client, owner, brief["id"], creator)
    countered = await counter(client, creator, offer, 65_000)
    assert countered.status_code == 200, countered.text
    await notify(pool, settings)

    for who in (owner, member):
        page = await read_inbox(client, who)
        (item,) = page["items"]
        assert (item["kind"], item["object"], page["unread"]) == (
            "offer_countered", {"type": "offer", "id": offer["id"]}, 1,
        )  # fmt: skip
        assert item["title"] == "Mia proposed new terms for “Spring serum”"
        assert "650.00 USD" in item["body"]
        assert item["link"] == f"/offers/{offer['id']}"
    assert await kinds(client, creator) == ["offer_invitation"]
    assert await read_inbox(client, other_shop) == {"items": [], "next_cursor": None, "unread": 0}
    # Another merchant's member cannot read or mark it either: it does not exist for them.
    notification_id = (await read_inbox(client, owner))["items"][0]["id"]
    foreign = await client.post(
        f"/v1/notifications/{notification_id}/read", headers=other_shop.headers
    )
    assert foreign.status_code == 404
    assert foreign.headers["content-type"].startswith("application/problem+json")
    assert (await read_inbox(client, owner))["unread"] == 1


async def test_reading_one_then_all_and_the_unread_filter(
    client: Client, pool: Any, settings: Settings
) -> None:
    owner, creator = await merchant(client), await speaking(client, "en")
    for _ in range(3):
        brief = await open_brief(client, owner)
        await invite(client, owner, brief["id"], creator)
    await notify(pool, settings)
    first = await read_inbox(client, creator, limit=2)
    assert (len(first["items"]), first["unread"]) == (2, 3)
    rest = await read_inbox(client, creator, limit=2, cursor=first["next_cursor"])
    assert (len(rest["items"]), rest["next_cursor"]) == (1, None)
    newest = first["items"][0]

    read = await client.post(f"/v1/notifications/{newest['id']}/read", headers=creator.headers)
    assert read.status_code == 200, read.text
    assert read.json()["read_at"] is not None
    again = await client.post(f"/v1/notifications/{newest['id']}/read", headers=creator.headers)
    assert again.json()["read_at"] == read.json()["read_at"]
    unread = await read_inbox(client, creator, unread="true")
    assert unread["unread"] == 2
    assert newest["id"] not in [i["id"] for i in unread["items"]]

    done = await client.post("/v1/notifications/read-all", headers=creator.headers)
    assert done.status_code == 200, done.text
    assert done.json() == {"read": 2, "unread": 0}
    assert (await read_inbox(client, creator, unread="true"))["items"] == []
    assert len((await read_inbox(client, creator))["items"]) == 3


async def test_texts_follow_the_profile_or_the_chosen_language(
    client: Client, pool: Any, settings: Settings
) -> None:
    owner = await merchant(client)
    chinese, english = await speaking(client, "zh"), await kol(client)
    chosen = await speaking(client, "en")
    saved = await client.put(
        "/v1/me/notification-preferences", json={"language": "zh-Hans"}, headers=chosen.headers
    )
    assert saved.status_code == 200, saved.text
    brief = await open_brief(client, owner, title="Glow")
    for creator in (chinese, english, chosen):
        await invite(client, owner, brief["id"], creator)
    await notify(pool, settings)
    languages = {}
    for creator in (chinese, english, chosen):
        (item,) = (await read_inbox(client, creator))["items"]
        languages[creator.email] = (item["language"], "「Glow」" in item["title"])
    assert languages == {
        chinese.email: ("zh-Hans", True), english.email: ("en", False),
        chosen.email: ("zh-Hans", True),
    }  # fmt: skip


async def _events(client: Client, who: dict[str, str]) -> list[dict[str, Any]]:
    page = await client.get(
        "/v1/events", params={"type": "notification.created", "limit": "100"}, headers=who
    )
    assert page.status_code == 200, page.text
    items: list[dict[str, Any]] = page.json()["items"]
    return items


async def test_new_notifications_flow_on_the_event_stream_of_the_recipients_side_only(
    client: Client, pool: Any, settings: Settings
) -> None:
    owner, other_shop = await merchant(client), await merchant(client)
    creator, bystander = await speaking(client, "en"), await kol(client)
    partner = await api_key(client, other_shop, "webhooks:manage")
    brief = await open_brief(client, owner)
    offer = await invite(client, owner, brief["id"], creator)
    await notify(pool, settings)

    # The feed hands out an event once every older transaction on the server has ended.
    async with asyncio.timeout(WAIT):
        while True:
            if seen := await _events(client, creator.headers):
                break
            await asyncio.sleep(0.05)
    (event,) = seen
    (mine,) = (await read_inbox(client, creator))["items"]
    assert event["object"] == {"type": "notification", "id": mine["id"], "version": event["id"]}
    assert event["data"]["kind"] == "offer_invitation"
    assert event["data"]["object_id"] == offer["id"]
    assert event["data"]["user_id"] == creator.me["user_id"]
    for outsider in (owner.headers, other_shop.headers, bystander.headers, {"X-API-Key": partner}):
        assert await _events(client, outsider) == []


async def test_partners_have_no_inbox_and_bad_input_names_its_field(client: Client) -> None:
    owner = await merchant(client)
    partner = await api_key(client, owner, "webhooks:manage", "deals:read")
    for path in ("/v1/notifications", "/v1/me/notification-preferences"):
        refused = await client.get(path, headers={"X-API-Key": partner})
        assert refused.status_code == 403
    for params, field in (({"limit": "0"}, "limit"), ({"cursor": "nonsense"}, "cursor")):
        bad = await client.get("/v1/notifications", params=params, headers=owner.headers)
        assert bad.status_code == 422, bad.text
        assert field in [e["field"] for e in bad.json()["errors"]]
    for body in ({"email_off": ["weather"]}, {"language": "fr"}, {"daily_digest": "often"}):
        bad = await client.put("/v1/me/notification-preferences", json=body, headers=owner.headers)
        assert bad.status_code == 422, bad.text
        assert bad.json()["errors"]
    missing = await client.post(f"/v1/notifications/{uuid.uuid4()}/read", headers=owner.headers)
    assert missing.status_code == 404


async def test_preferences_read_back_as_saved(client: Client) -> None:
    creator = await kol(client)
    default = await client.get("/v1/me/notification-preferences", headers=creator.headers)
    assert default.status_code == 200, default.text
    assert all(k["email"] for k in default.json()["kinds"])
    assert (default.json()["daily_digest"], default.json()["language"]) == (False, None)
    body = {"email_off": ["payout_sent", "offer_declined"], "daily_digest": True, "language": "en"}
    saved = await client.put("/v1/me/notification-preferences", json=body, headers=creator.headers)
    assert saved.status_code == 200, saved.text
    again = await client.get("/v1/me/notification-preferences", headers=creator.headers)
    assert again.json() == saved.json()
    off = {k["kind"] for k in again.json()["kinds"] if not k["email"]}
    assert off == {"payout_sent", "offer_declined"}
    assert again.json()["daily_digest"] is True
    digestible = {k["kind"] for k in again.json()["kinds"] if k["digestible"]}
    assert "offer_invitation" not in digestible and "payout_sent" in digestible
