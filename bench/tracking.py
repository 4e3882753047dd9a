"""Tracking throughput: buyers following a deal's tracking link (`GET /t/{code}`), and
partners reporting orders in batches of 1,000 (`POST /v1/conversions/batch`), measured twice.

.venv/bin/python -m bench.tracking [--clients 32] [--seconds 5] [--batches 40] [--partners 2]
    [--workers 2] [--connections 16] [--socket-seconds 10] [--in-process-only]

In process: the app runs in this process and is driven through its ASGI interface on the same
event loop (the whole HTTP app: middleware, routing, handler, click recording), by a small
client that only builds the request and collects the answer, so the figures are the app's
and not an HTTP client's. Over a real socket (`tracking_socket.py`): `kolmarket serve
--workers N` in processes of its own, driven by wrk from outside. Both print requests a
second, p50/p99 latency, and rows stored against answers acknowledged; the run fails if any
acknowledged click, order or event is missing. The database is a scratch one on
DATABASE_URL's server (or an embedded one).
"""

import argparse
import asyncio
import itertools
import json
import os
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
from litestar import Litestar

from bench import tracking_socket as sockets
from bench.support import percentiles, scratch_database
from services.api.app import create_app
from services.settings import Settings

PASSWORD = "bench password 42"
JWT_SECRET = "bench-" + "s" * 40
DEALS = 20  # one merchant's deals the orders are spread over
BATCH = 1_000
PATH = "/v1/conversions/batch"
BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 Instagram 340.0.2.21.109",
    "Mozilla/5.0 (Linux; Android 13; V2219A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
    "Chrome/116.0.0.0 Mobile Safari/537.36 MicroMessenger/8.0.47.2560 WeChat/arm64 Weixin",
)
REFERRERS = ("https://www.instagram.com/", "https://t.co/", "https://www.douyin.com/", "")


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body)


class AsgiClient:
    """Calls the app's ASGI interface directly; one client address per request if asked."""

    def __init__(self, app: Litestar) -> None:
        self.app = app

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        body: Any = None,
        raw: bytes | None = None,
        address: str = "127.0.0.1",
    ) -> Answer:
        """`body` is sent as JSON; `raw` is sent as it is (already encoded JSON)."""
        raw = raw if raw is not None else b"" if body is None else json.dumps(body).encode()
        pairs = [(b"host", b"bench.local")]
        pairs += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        if raw:
            pairs += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(raw))]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": pairs,
            "client": (address, 50_000),
            "server": ("bench.local", 80),
            "state": {},
        }
        answer = Answer(status=0)

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": raw, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer.status = message["status"]
                answer.headers = {k.decode(): v.decode() for k, v in message["headers"]}
            elif message["type"] == "http.response.body":
                answer.body += message.get("body", b"")

        await self.app(scope, receive, send)  # type: ignore[arg-type]
        return answer


async def _account(client: AsgiClient, role: str, **extra: str) -> dict[str, str]:
    email = f"bench-{role}-{time.time_ns()}@example.com"
    body = {"email": email, "password": PASSWORD, "role": role, **extra}
    registered = await client.request("POST", "/v1/auth/register", body=body)
    assert registered.status == 201, registered.body
    login = {"email": email, "password": PASSWORD}
    token = (await client.request("POST", "/v1/auth/token", body=login)).json()
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    me = (await client.request("GET", "/v1/me", headers=bearer)).json()
    return {**bearer, "kol_id": me.get("kol_id") or ""}


def _brief() -> dict[str, Any]:
    soon = datetime.now(UTC) + timedelta(days=7)
    return {
        "title": "Bench serum launch",
        "description": "Short videos of the morning routine.",
        "product": {
            "name": "Glow serum",
            "url": "https://shop.example.com/glow?utm_source=kol",
            "category": "skincare",
            "average_order_value": 4_999,
        },
        "goals": {"reach": 200_000, "conversions": 500},
        "budget": 10_000_000,
        "currency": "USD",
        "platforms": ["tiktok"],
        "tiers": ["micro"],
        "deliverables": ["short_video"],
        "timeline": {
            "apply_by": soon.isoformat(),
            "posting_from": (date.today() + timedelta(days=10)).isoformat(),
            "posting_until": (date.today() + timedelta(days=40)).isoformat(),
        },
        "commission": {"commission_bp": 1_500, "attribution_days": 30},
        "visibility": "open",
    }


def _terms() -> dict[str, Any]:
    return {
        "fixed_fee": 50_000,
        "currency": "USD",
        "commission_bp": 1_500,
        "deliverables": [
            {
                "kind": "short_video",
                "platform": "tiktok",
                "count": 1,
                "due_by": (date.today() + timedelta(days=15)).isoformat(),
            }
        ],
        "usage_rights": {"scope": "organic", "days": 90},
        "exclusivity_days": 14,
        "expires_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
    }


async def make_deals(client: AsgiClient, n: int) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """A merchant's brief with `n` deals made through the API: invitations the KOLs accept.
    Returns the merchant's headers and the deals."""
    owner = await _account(client, "merchant", merchant_name="Bench shop")
    owner.pop("kol_id")
    brief = (await client.request("POST", "/v1/briefs", headers=owner, body=_brief())).json()
    await client.request("POST", f"/v1/briefs/{brief['id']}/publish", headers=owner)
    deals = []
    for _ in range(n):
        creator = await _account(client, "kol", display_name="Bench creator")
        invitation = {"kol_id": creator.pop("kol_id"), "terms": _terms()}
        offer = await client.request(
            "POST", f"/v1/briefs/{brief['id']}/offers", headers=owner, body=invitation
        )
        assert offer.status == 201, offer.body
        accepted = await client.request(
            "POST", f"/v1/offers/{offer.json()['id']}/accept", headers=creator, body={"revision": 1}
        )
        assert accepted.status == 200, accepted.body
        deals.append(accepted.json())
    return owner, deals


def _visitors() -> Iterator[tuple[str, str, str]]:
    """Browser user agents and referrers from a thousand addresses, round and round."""
    addresses = [f"198.51.{i // 250}.{i % 250 + 1}" for i in range(1_000)]
    return itertools.cycle(
        zip(addresses, itertools.cycle(BROWSERS), itertools.cycle(REFERRERS), strict=False)
    )


async def redirects(
    app: Litestar, deal: dict[str, Any], clients: int, seconds: float
) -> dict[str, float]:
    """`clients` buyers follow the deal's link back to back for `seconds`."""
    client, path = AsgiClient(app), f"/t/{deal['tracking_code']}"
    visitors, samples = _visitors(), []
    deadline = time.perf_counter() + seconds

    async def buyer() -> None:
        while time.perf_counter() < deadline:
            address, agent, referrer = next(visitors)
            headers = {"user-agent": agent, **({"referer": referrer} if referrer else {})}
            started = time.perf_counter()
            answer = await client.request("GET", path, headers=headers, address=address)
            samples.append((time.perf_counter() - started) * 1000)
            assert answer.status == 302, answer.body

    started = time.perf_counter()
    await asyncio.gather(*(buyer() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    await app.state.clicks.flush()
    async with app.state.pool.acquire() as conn:
        clicks = await conn.fetchval(
            "SELECT count(*) FROM clicks WHERE deal_id = $1::uuid", deal["id"]
        )
    return {"redirects": len(samples), "per_second": len(samples) / elapsed, "clicks": clicks} | {
        f"{k}_ms": v for k, v in percentiles(samples).items()
    }


def _batches(deals: list[dict[str, Any]], batches: int, size: int) -> list[bytes]:
    """Encoded batches of new orders, spread over the deals' tracking codes."""
    now = datetime.now(UTC).isoformat()
    codes = [d["tracking_code"] for d in deals]
    return [
        msgspec.json.encode(
            {
                "items": [
                    {
                        "order_id": f"bench-{b}-{i}",
                        "amount": 2_000 + (b * size + i) % 9_000,
                        "currency": "USD",
                        "occurred_at": now,
                        "tracking_code": codes[(b * size + i) % len(codes)],
                    }
                    for i in range(size)
                ]
            }
        )
        for b in range(batches)
    ]


async def conversions(
    app: Litestar, owner: dict[str, str], deals: list[dict[str, Any]], batches: int, clients: int
) -> dict[str, float]:
    """A partner sends `batches` batches of 1,000 new orders, `clients` at a time."""
    client = AsgiClient(app)
    scopes = {"name": "bench partner", "scopes": ["conversions:write"]}
    key = (await client.request("POST", "/v1/api-keys", headers=owner, body=scopes)).json()
    headers = {"X-API-Key": key["secret"]}
    bodies, samples = _batches(deals, batches, BATCH), []

    async def partner() -> None:
        while bodies:
            body = bodies.pop()
            started = time.perf_counter()
            answer = await client.request(
                "POST", "/v1/conversions/batch", headers=headers, raw=body
            )
            samples.append((time.perf_counter() - started) * 1000)
            assert answer.status == 200, answer.body
            assert answer.json()["counts"] == {"pending": BATCH}, answer.body[:500]

    started = time.perf_counter()
    await asyncio.gather(*(partner() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    async with app.state.pool.acquire() as conn:
        stored = await conn.fetchval("SELECT count(*) FROM conversions WHERE status = 'pending'")
        recorded = await conn.fetchval(
            "SELECT count(*) FROM events WHERE type = 'conversion.recorded'"
        )
    sent = batches * BATCH
    return {"orders": sent, "per_second": sent / elapsed, "stored": stored, "events": recorded} | {
        f"{k}_ms": v for k, v in percentiles(samples).items()
    }


async def in_process(url: str, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """The app in this process, through its ASGI interface; prints its figures and returns
    what the real-socket phases need: the deals and a partner key."""
    app = create_app(_settings(url))
    async with app.lifespan():
        client = AsgiClient(app)
        owner, deals = await make_deals(client, DEALS)
        await redirects(app, deals[0], args.clients, 0.5)  # warm-up
        async with app.state.pool.acquire() as conn:
            await conn.execute("DELETE FROM clicks")
        clicked = await redirects(app, deals[0], args.clients, args.seconds)
        await conversions(app, owner, deals, 3, args.partners)  # warm-up
        async with app.state.pool.acquire() as conn:
            await conn.execute("DELETE FROM conversions")
            await conn.execute("UPDATE tracking_links SET commission_counted = 0")
            await conn.execute("DELETE FROM events WHERE type = 'conversion.recorded'")
        orders = await conversions(app, owner, deals, args.batches, args.partners)
        scopes = {"name": "wrk partner", "scopes": ["conversions:write"]}
        key = (await client.request("POST", "/v1/api-keys", headers=owner, body=scopes)).json()
    print(f"in process (ASGI, one process; {os.cpu_count()} cores shared with PostgreSQL)")
    sockets.report(
        f"redirects, {args.clients} clients, {args.seconds:g} s",
        clicked["per_second"], clicked, f"clicks stored {clicked['clicks']:.0f} of "
        f"{clicked['redirects']:.0f} acknowledged",
    )  # fmt: skip
    sockets.report(
        f"conversions, {args.batches} batches of {BATCH}, {args.partners} at once",
        orders["per_second"], orders, f"orders stored {orders['stored']:.0f} of "
        f"{orders['orders']:.0f} acknowledged, events {orders['events']:.0f}",
    )  # fmt: skip
    sockets.check(clicked["clicks"], clicked["redirects"], "clicks")
    sockets.check(orders["stored"], orders["orders"], "orders")
    sockets.check(orders["events"], orders["orders"], "events")
    return {"code": deals[0]["tracking_code"], "codes": [d["tracking_code"] for d in deals],
            "deal_id": deals[0]["id"]}, key["secret"]  # fmt: skip


def _settings(url: str) -> Settings:
    return Settings(
        database_url=url, jwt_secret=JWT_SECRET, log_level="INFO", log_format="json",
        register_limit_per_ip=10**9, login_limit_per_ip=10**9, click_limit_per_minute=10**9,
        request_limit_per_minute=10**9,
    )  # fmt: skip


def main() -> None:
    warnings.simplefilter("ignore")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=32, help="in-process buyers at once")
    parser.add_argument("--seconds", type=float, default=5.0, help="in-process redirect run")
    parser.add_argument("--batches", type=int, default=40, help="in-process batches of 1,000")
    parser.add_argument("--partners", type=int, default=2, help="batches sent at once")
    parser.add_argument("--workers", type=int, default=2, help="serve --workers")
    parser.add_argument("--connections", type=int, default=16, help="wrk's for redirects")
    parser.add_argument("--socket-seconds", type=float, default=10.0, help="each wrk run")
    parser.add_argument("--in-process-only", action="store_true")
    args = parser.parse_args()
    started = os.getloadavg()[0]
    with scratch_database() as url:
        made, key = asyncio.run(in_process(url, args))
        if not args.in_process_only:
            sockets.over_socket(url, made, key, args, JWT_SECRET, BATCH)
    print(f"load average (1 min) {started:.2f} at start, {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
