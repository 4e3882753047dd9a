"""Negotiation over HTTP: concurrent merchant/KOL pairs run invite → counter → accept.

A real API server (uvicorn, in a subprocess) serves a scratch database; each client is one
merchant and one KOL with their own published brief. Two phases with the same clients:

- paced: each client waits a think time between steps (exponential, mean `--think-ms`), as
  people clicking through a negotiation do; this is the latency a user sees with that many
  people negotiating at once;
- saturated: every client runs flows back to back with no think time; latency is then
  clients ÷ throughput, and the figure that matters is flows per second.

Prints flows per second and p50/p95/p99 latency of each step for both.

.venv/bin/python -m bench.negotiation [--clients 50] [--flows 20] [--think-ms 1000]
"""

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from bench.support import percentiles, row, scratch_database

PASSWORD = "bench password 42"
STEPS = ("invite", "counter", "accept")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _server(url: str, port: int, workers: int, pool: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "JWT_SECRET": "bench-" + "s" * 40,
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "json",
        "DB_POOL_MIN": str(pool),
        "DB_POOL_MAX": str(pool),
        "REQUEST_LIMIT_PER_MINUTE": str(10**9),
        "LOGIN_LIMIT_PER_IP": str(10**9),
        "REGISTER_LIMIT_PER_IP": str(10**9),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "services.api.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(command, env=env)  # the bench's own server, stopped at the end


async def _ready(base: str) -> None:
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=base) as http:
        while time.monotonic() < deadline:
            try:
                if (await http.get("/health/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the API server did not become ready")


def _terms(fee: int) -> dict[str, Any]:
    due = date.today() + timedelta(days=15)
    return {
        "fixed_fee": fee,
        "currency": "USD",
        "commission_bp": 1_200,
        "deliverables": [
            {"kind": "short_video", "platform": "tiktok", "count": 1, "due_by": due.isoformat()}
        ],
        "expires_at": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
    }


def _brief() -> dict[str, Any]:
    today = date.today()
    return {
        "title": "Bench campaign",
        "product": {
            "name": "Bench serum",
            "url": "https://shop.example.com/bench",
            "category": "skincare",
            "average_order_value": 3_000,
        },
        "budget": 10**12,
        "currency": "USD",
        "platforms": ["tiktok"],
        "tiers": ["nano", "micro"],
        "deliverables": ["short_video"],
        "timeline": {
            "apply_by": (datetime.now(UTC) + timedelta(days=5)).isoformat(),
            "posting_from": (today + timedelta(days=10)).isoformat(),
            "posting_until": (today + timedelta(days=40)).isoformat(),
        },
        "max_counter_rounds": 5,
    }


@dataclass
class Pair:
    """One client: a merchant with a published brief, and a KOL."""

    http: httpx.AsyncClient
    merchant: dict[str, str]
    kol: dict[str, str]
    kol_id: str
    brief_id: str
    samples: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})


async def _account(http: httpx.AsyncClient, email: str, role: str) -> tuple[dict[str, str], Any]:
    body: dict[str, Any] = {"email": email, "password": PASSWORD, "role": role}
    body.update({"merchant_name": "Bench shop"} if role == "merchant" else {})
    assert (await http.post("/v1/auth/register", json=body)).status_code == 201
    tokens = await http.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
    return headers, (await http.get("/v1/me", headers=headers)).json()


async def _pair(base: str, index: int, run: str) -> Pair:
    # Idle connections are dropped before the server's 5 s keep-alive can close them under us.
    limits = httpx.Limits(keepalive_expiry=2.0)
    http = httpx.AsyncClient(base_url=base, timeout=60, limits=limits)
    merchant, _ = await _account(http, f"m{index}-{run}@bench.test", "merchant")
    kol, me = await _account(http, f"k{index}-{run}@bench.test", "kol")
    created = await http.post("/v1/briefs", json=_brief(), headers=merchant)
    brief_id = created.json()["id"]
    assert (await http.post(f"/v1/briefs/{brief_id}/publish", headers=merchant)).status_code == 200
    return Pair(http, merchant, kol, me["kol_id"], brief_id)


async def _timed(pair: Pair, step: str, request: Any, expected: int) -> Any:
    started = time.perf_counter()
    response = await request
    pair.samples[step].append((time.perf_counter() - started) * 1000)
    assert response.status_code == expected, response.text
    return response.json()


async def _think(mean_ms: float, rng: random.Random) -> None:
    if mean_ms > 0:
        await asyncio.sleep(rng.expovariate(1000.0 / mean_ms))


async def _flow(pair: Pair, think_ms: float = 0.0, rng: random.Random | None = None) -> None:
    rng = rng or random.Random(0)
    invitation = {"kol_id": pair.kol_id, "terms": _terms(40_000)}
    url = f"/v1/briefs/{pair.brief_id}/offers"
    offer = await _timed(
        pair, "invite", pair.http.post(url, json=invitation, headers=pair.merchant), 201
    )
    await _think(think_ms, rng)
    body = {"revision": 1, "terms": _terms(48_000)}
    counter = pair.http.post(f"/v1/offers/{offer['id']}/counter", json=body, headers=pair.kol)
    countered = await _timed(pair, "counter", counter, 200)
    await _think(think_ms, rng)
    accept = pair.http.post(
        f"/v1/offers/{offer['id']}/accept",
        json={"revision": countered["latest_revision"]},
        headers=pair.merchant,
    )
    await _timed(pair, "accept", accept, 200)


async def _flows(pairs: list[Pair], flows: int, think_ms: float = 0.0) -> float:
    async def client(pair: Pair, index: int) -> None:
        rng = random.Random(index)
        for _ in range(flows):
            await _think(think_ms, rng)
            await _flow(pair, think_ms, rng)

    started = time.perf_counter()
    await asyncio.gather(*(client(p, i) for i, p in enumerate(pairs)))
    return time.perf_counter() - started


async def _baseline(pairs: list[Pair], requests: int) -> tuple[float, list[float]]:
    """The same clients calling the cheapest route (no authentication, no database), for
    scale: what the server and this machine give before any negotiation work."""
    samples: list[float] = []

    async def client(pair: Pair) -> None:
        for _ in range(requests):
            started = time.perf_counter()
            response = await pair.http.get("/health/live")
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200

    started = time.perf_counter()
    await asyncio.gather(*(client(p) for p in pairs))
    return len(samples) / (time.perf_counter() - started), samples


def _report(label: str, pairs: list[Pair], total: int, elapsed: float) -> None:
    rate = total / elapsed
    print(f"{label}: {total} flows, {rate:8.1f} flows/s, {3 * rate:8.1f} steps/s")
    for step in STEPS:
        samples = [s for p in pairs for s in p.samples[step]]
        print(row(f"  {step} ({len(samples)} requests)", percentiles(samples)))
    for pair in pairs:
        pair.samples = {s: [] for s in STEPS}


async def run(url: str, clients: int, flows: int, workers: int, think_ms: float) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    pool = max(4, min(40, clients // workers + 4))
    server = _server(url, port, workers, pool)
    try:
        await _ready(base)
        run_id = str(int(time.time()))
        pairs = await asyncio.gather(*(_pair(base, i, run_id) for i in range(clients)))
        await _flows(pairs, 2)  # warm-up: connections, prepared statements, caches
        for pair in pairs:
            pair.samples = {s: [] for s in STEPS}
        per_second, baseline = await _baseline(pairs, 3 * flows)
        print(f"{clients} concurrent clients, {workers} server worker(s), pool {pool} per worker")
        paced_flows = max(3, flows // 4)
        elapsed = await _flows(pairs, paced_flows, think_ms)
        _report(f"paced (think {think_ms:.0f} ms mean)", pairs, clients * paced_flows, elapsed)
        elapsed = await _flows(pairs, flows)
        _report("saturated (no think time)", pairs, clients * flows, elapsed)
        print(f"baseline, GET /health/live by the same clients: {per_second:8.1f} requests/s")
        print(row(f"health ({len(baseline)} requests)", percentiles(baseline)))
        await asyncio.gather(*(p.http.aclose() for p in pairs))
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    warnings.simplefilter("ignore")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--flows", type=int, default=20, help="flows per client")
    parser.add_argument("--server-workers", type=int, default=1)
    parser.add_argument("--think-ms", type=float, default=1000.0, help="mean think time")
    args = parser.parse_args()
    with scratch_database() as url:
        asyncio.run(run(url, args.clients, args.flows, args.server_workers, args.think_ms))


if __name__ == "__main__":
    main()
