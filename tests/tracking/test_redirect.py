"""Tracking links: every deal gets one when it is made; following it sends the buyer on to the
product page with a click id, records the click (not a robot's, never the raw address), and a
flood from one address is slowed down."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services import limits
from services.api.app import create_app
from services.settings import Settings
from services.tracking import rules_clicks
from tests.helpers import Account, Client, kol, merchant
from tests.negotiation.support import answer, invite, open_brief

PROBLEM = "application/problem+json"
PRODUCT_URL = "https://shop.example.com/glow?color=rose&size=30ml#reviews"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


async def _deal(
    client: Client, product_url: str = PRODUCT_URL
) -> tuple[dict[str, Any], Account, Account]:
    """A deal on an invitation the KOL accepted; with its merchant and KOL."""
    owner, creator = await merchant(client), await kol(client)
    product = {
        "name": "Glow serum",
        "url": product_url,
        "category": "skincare",
        "average_order_value": 4_999,
    }
    brief = await open_brief(client, owner, product=product)
    offer = await invite(client, owner, brief["id"], creator)
    accepted = await answer(client, creator, offer, "accept", 1)
    assert accepted.status_code == 200, accepted.text
    return accepted.json(), owner, creator


@pytest.fixture(scope="module")
async def deal(client: Client) -> dict[str, Any]:
    made, _, _ = await _deal(client)
    return made


async def _follow(client: Client, code: str, **headers: str) -> Any:
    return await client.get(f"/t/{code}", headers=headers, follow_redirects=False)


def _flush(client: Client, app: Litestar) -> int:
    """Write the clicks waiting in the app (which runs on the test client's own loop)."""
    written: int = client.blocking_portal.call(app.state.clicks.flush)
    return written


def _click_id(location: str) -> uuid.UUID:
    return uuid.UUID(parse_qs(urlsplit(location).query)["kmk_click"][0])


async def test_an_accepted_deal_has_a_tracking_link_to_the_product(
    client: Client, db, deal: dict[str, Any]
) -> None:
    code = deal["tracking_code"]
    assert rules_clicks.is_code(code) and len(code) == 12
    assert deal["tracking_url"] == f"http://127.0.0.1:8000/t/{code}"
    row = await db.fetchrow(
        "SELECT deal_id, merchant_id, destination FROM tracking_links WHERE code = $1", code
    )
    assert (str(row["deal_id"]), str(row["merchant_id"]), row["destination"]) == (
        deal["id"],
        deal["merchant_id"],
        PRODUCT_URL,
    )


async def test_both_sides_read_the_same_tracking_link_back(client: Client) -> None:
    made, owner, creator = await _deal(client)
    link = (made["tracking_code"], made["tracking_url"])
    for who in (owner, creator):
        one = await client.get(f"/v1/deals/{made['id']}", headers=who.headers)
        assert (one.json()["tracking_code"], one.json()["tracking_url"]) == link
        listed = (await client.get("/v1/deals", headers=who.headers)).json()["items"]
        assert [(d["id"], d["tracking_code"], d["tracking_url"]) for d in listed] == [
            (made["id"], *link)
        ]


async def test_following_a_link_redirects_to_the_product_with_a_click_id(
    app: Litestar, client: Client, db, deal: dict[str, Any]
) -> None:
    response = await _follow(
        client, deal["tracking_code"], **{"User-Agent": CHROME, "Referer": "https://t.co/x"}
    )
    assert response.status_code == 302
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-request-id"]
    location = response.headers["location"]
    click_id = _click_id(location)
    assert location == (
        f"https://shop.example.com/glow?color=rose&size=30ml&kmk_click={click_id}#reviews"
    )
    _flush(client, app)  # whatever the background task has not written yet
    row = await db.fetchrow("SELECT * FROM clicks WHERE id = $1", click_id)
    assert (str(row["deal_id"]), row["user_agent"], row["referrer"]) == (
        deal["id"],
        CHROME,
        "https://t.co/x",
    )
    assert row["clicked_at"] is not None


async def test_the_stored_visitor_is_a_keyed_hash_not_the_address(
    app: Litestar, client: Client, db, deal: dict[str, Any]
) -> None:
    first = await _follow(client, deal["tracking_code"], **{"User-Agent": CHROME})
    second = await _follow(client, deal["tracking_code"], **{"User-Agent": CHROME})
    _flush(client, app)
    ids = [_click_id(r.headers["location"]) for r in (first, second)]
    rows = await db.fetch("SELECT id, visitor FROM clicks WHERE id = any($1::uuid[])", ids)
    visitors = {r["visitor"] for r in rows}
    assert len(rows) == 2 and len(visitors) == 1
    address = "testclient"  # the address the test client connects from
    visitor = visitors.pop()
    assert visitor == rules_clicks.visitor(app.state.visitor_key, address)
    assert len(visitor) == 16 and address not in visitor
    assert await db.fetchval("SELECT count(*) FROM clicks WHERE visitor = $1", address) == 0


async def test_long_headers_are_cut_to_500_characters(
    app: Litestar, client: Client, db, deal: dict[str, Any]
) -> None:
    agent = CHROME + " Extra/" + "x" * 600
    referrer = "https://news.example.com/" + "p" * 600
    response = await _follow(
        client, deal["tracking_code"], **{"User-Agent": agent, "Referer": referrer}
    )
    _flush(client, app)
    row = await db.fetchrow(
        "SELECT user_agent, referrer FROM clicks WHERE id = $1",
        _click_id(response.headers["location"]),
    )
    assert (row["user_agent"], row["referrer"]) == (agent[:500], referrer[:500])


async def test_clicks_are_written_in_the_background_without_an_explicit_flush(
    client: Client, db, deal: dict[str, Any]
) -> None:
    response = await _follow(client, deal["tracking_code"], **{"User-Agent": CHROME})
    click_id = _click_id(response.headers["location"])
    for _ in range(50):
        if await db.fetchval("SELECT count(*) FROM clicks WHERE id = $1", click_id):
            break
        await asyncio.sleep(0.05)
    assert await db.fetchval("SELECT deal_id FROM clicks WHERE id = $1", click_id) == uuid.UUID(
        deal["id"]
    )


@pytest.mark.parametrize("agent", [GOOGLEBOT, "curl/8.5.0", "WhatsApp/2.23.20.0 A", ""])
async def test_a_robot_is_redirected_but_not_counted(
    app: Litestar, client: Client, db, deal: dict[str, Any], agent: str
) -> None:
    deal_id = uuid.UUID(deal["id"])
    before = await db.fetchval("SELECT count(*) FROM clicks WHERE deal_id = $1", deal_id)
    response = await _follow(client, deal["tracking_code"], **{"User-Agent": agent})
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith("https://") and "kmk_click" not in location
    _flush(client, app)
    assert await db.fetchval("SELECT count(*) FROM clicks WHERE deal_id = $1", deal_id) == before


@pytest.mark.parametrize("code", ["Zz9_unknown1", "x", "a" * 40, "bad%20code!"])
async def test_an_unknown_code_is_a_problem_404(client: Client, code: str) -> None:
    response = await _follow(client, code, **{"User-Agent": CHROME})
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert (body["status"], body["title"], body["type"]) == (
        404,
        "Not found",
        "/problems/not-found",
    )
    assert "location" not in response.headers


@pytest.fixture
async def strict_client(settings: Settings, db: asyncpg.Connection) -> AsyncIterator[Client]:
    # The limit is shared by every app on this database: once the session's app has sent its
    # pending hits, this address's count starts afresh.
    await asyncio.sleep(3 * limits.SYNC_SECONDS)
    await db.execute("DELETE FROM limit_counters WHERE key = 'click:testclient'")
    app = create_app(msgspec.structs.replace(settings, click_limit_per_minute=3))
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as strict:
        yield strict


async def test_too_many_clicks_from_one_address_are_refused_with_retry_after(
    strict_client: Client, deal: dict[str, Any]
) -> None:
    # Seven requests cannot all fit in two fixed windows of three.
    responses = [
        await _follow(strict_client, deal["tracking_code"], **{"User-Agent": CHROME})
        for _ in range(7)
    ]
    statuses = [r.status_code for r in responses]
    assert statuses[:3] == [302, 302, 302]
    assert 429 in statuses
    refused = responses[statuses.index(429)]
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["status"] == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "location" not in refused.headers


async def test_a_product_url_with_a_click_id_of_its_own_gets_a_fresh_one(
    client: Client,
) -> None:
    deal, _, _ = await _deal(client, "https://shop.example.com/p/1?kmk_click=stale&ref=kol")
    response = await _follow(client, deal["tracking_code"], **{"User-Agent": CHROME})
    location = response.headers["location"]
    assert location == f"https://shop.example.com/p/1?ref=kol&kmk_click={_click_id(location)}"


# Pure rules


BOTS = [
    GOOGLEBOT,
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
    "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)",
    "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "WhatsApp/2.23.20.0 A",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "TelegramBot (like TwitterBot)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "Twitterbot/1.0",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "curl/8.5.0",
    "Wget/1.21.4",
    "python-requests/2.32.3",
    "Python-urllib/3.11",
    "Go-http-client/1.1",
    "okhttp/4.12.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0) Chrome",
    "Mozilla/5.0",
    "",
    "   ",
]
PEOPLE = [
    CHROME,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/470.0.0.35.109]",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 Instagram 340.0.2.21.109",
    "Mozilla/5.0 (Linux; Android 13; V2219A) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 "
    "MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 Weixin NetType/WIFI",
    "Mozilla/5.0 (Linux; Android 12; CUBOT NOTE 20) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0",
]


@pytest.mark.parametrize("agent", BOTS)
def test_crawlers_previews_and_http_libraries_are_bots(agent: str) -> None:
    assert rules_clicks.is_bot(agent) is True


@pytest.mark.parametrize("agent", PEOPLE)
def test_browsers_and_in_app_browsers_are_people(agent: str) -> None:
    assert rules_clicks.is_bot(agent) is False


def test_the_destination_keeps_its_query_and_fragment_around_the_click_id() -> None:
    deal_id, click = uuid.uuid4(), uuid.UUID("00000000-0000-4000-8000-000000000001")
    cases = {
        "https://shop.example.com/glow": "https://shop.example.com/glow?kmk_click=",
        "https://shop.example.com": "https://shop.example.com/?kmk_click=",
        "https://s.example.com/a?x=1&y=%20z": "https://s.example.com/a?x=1&y=%20z&kmk_click=",
        "https://s.example.com/a?kmk_click=old&x=1": "https://s.example.com/a?x=1&kmk_click=",
        "https://店.example.com/商品": "https://xn--hxt.example.com/%E5%95%86%E5%93%81?kmk_click=",
    }
    for destination, head in cases.items():
        assert rules_clicks.link(deal_id, destination).location(click) == f"{head}{click}"
    with_fragment = rules_clicks.link(deal_id, "https://s.example.com/a#top").location(click)
    assert with_fragment == f"https://s.example.com/a?kmk_click={click}#top"


def test_visitor_hash_is_short_stable_and_keyed() -> None:
    key, other = rules_clicks.visitor_key("one secret"), rules_clicks.visitor_key("another")
    assert rules_clicks.visitor(key, "203.0.113.7") == rules_clicks.visitor(key, "203.0.113.7")
    assert rules_clicks.visitor(key, "203.0.113.7") != rules_clicks.visitor(key, "203.0.113.8")
    assert rules_clicks.visitor(key, "203.0.113.7") != rules_clicks.visitor(other, "203.0.113.7")
    assert len(rules_clicks.visitor(key, "203.0.113.7")) == 16


def test_stored_text_is_cut_and_free_of_nul() -> None:
    assert rules_clicks.clip("a\x00b" + "c" * 600) == "ab" + "c" * 498
    assert rules_clicks.clip("") is None
    assert rules_clicks.clip(None) is None
