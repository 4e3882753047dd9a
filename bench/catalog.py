"""Catalog benchmark: seed 100,000 KOLs (200,000 accounts), then time `GET /v1/kols`.

Runs against a database of its own: on DATABASE_URL's server when set (dropped at the end),
else on a private embedded PostgreSQL in a temporary folder. The API runs in a real uvicorn
process on 127.0.0.1; requests go one at a time over a kept-alive connection. Prints the seed
time, p50/p95/p99 per filter mix and the EXPLAIN ANALYZE plans of the slowest mix.
Targets: seed under 60 s, p95 under 30 ms for every mix. Exits 1 when a target is missed.

    .venv/bin/python bench/catalog.py [--kols 100000] [--requests 150]
"""

import argparse
import asyncio
import contextlib
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import scratch_database  # noqa: E402
from contracts.kols import KolSearch  # noqa: E402
from services import database  # noqa: E402
from services.catalog import queries, service  # noqa: E402
from services.catalog.seed import seed_kols  # noqa: E402

SEED_TARGET_S = 60.0
P95_TARGET_MS = 30.0
PLATFORMS = ["douyin", "xiaohongshu", "weibo", "kuaishou", "bilibili", "instagram", "tiktok"]
CATEGORIES = ["beauty", "fashion", "food", "lifestyle", "tech", "travel", "fitness", "gaming"]
REGIONS = ["CN", "SG", "MY", "ID", "US", "TW"]
Mix = Callable[[random.Random], dict[str, Any]]

MIXES: dict[str, Mix] = {
    "browse (default order)": lambda r: {},
    "platform + tier, by followers": lambda r: {
        "platform": r.choice(PLATFORMS),
        "tier": r.choice(["nano", "micro", "mid"]),
        "sort": "followers",
    },
    "category + region + engagement min": lambda r: {
        "category": r.choice(CATEGORIES),
        "region": r.choice(REGIONS),
        "engagement_min": round(r.uniform(0.01, 0.05), 3),
        "sort": "engagement",
    },
    "platform + followers range + authenticity min": lambda r: {
        "platform": r.choice(PLATFORMS),
        "followers_min": r.choice([5_000, 20_000, 50_000]),
        "followers_max": r.choice([200_000, 800_000]),
        "authenticity_min": 0.8,
        "sort": "authenticity",
    },
    "audience shares (gender, age, region)": lambda r: {
        "audience_gender": "female",
        "audience_gender_min": r.choice([0.5, 0.6, 0.7]),
        **r.choice(
            [
                {"platform": "xiaohongshu", "audience_region": "CN", "audience_region_min": 0.6},
                {"platform": "douyin", "audience_age": "18-24", "audience_age_min": 0.3},
                {"platform": "instagram", "audience_region": "SG", "audience_region_min": 0.5},
                {"platform": "tiktok", "audience_age": "25-34", "audience_age_min": 0.3},
            ]
        ),
    },
    "price range, cheapest first": lambda r: {
        "price_min": r.choice([2_000, 10_000, 50_000]),
        "price_max": r.choice([100_000, 500_000]),
        "sort": "price",
    },
    "relevance over 2-3 categories + tiers": lambda r: {
        "category": r.sample(CATEGORIES, r.choice([2, 3])),
        "tier": ["nano", "micro"],
        "sort": "relevance",
    },
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def api_server(url: str) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "json",
        "REQUEST_LIMIT_PER_MINUTE": "1000000",
        "REGISTER_LIMIT_PER_IP": "1000",
        "JWT_SECRET": uuid.uuid4().hex * 2,
    }
    command = [sys.executable, "-m", "uvicorn", "services.api.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    command += ["--no-access-log"]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError("the API did not become ready")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def merchant_token(http: httpx.Client) -> str:
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    password = "bench password 42"
    body = {"email": email, "password": password, "role": "merchant", "merchant_name": "Bench"}
    http.post("/v1/auth/register", json=body).raise_for_status()
    tokens = http.post("/v1/auth/token", json={"email": email, "password": password})
    tokens.raise_for_status()
    token: str = tokens.json()["access_token"]
    return token


def timed(http: httpx.Client, params: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = http.get("/v1/kols", params=params)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{params} answered {response.status_code}: {response.text}")
    page: dict[str, Any] = response.json()
    return elapsed, page


def measure(http: httpx.Client, mix: Mix, requests: int, seed: int) -> tuple[list[float], Any]:
    """Latencies of first pages, then of following pages; the slowest request's params."""
    rng = random.Random(seed)
    for _ in range(10):
        timed(http, mix(rng))
    times: list[float] = []
    slowest: tuple[float, dict[str, Any]] = (0.0, {})
    for _ in range(requests):
        params = mix(rng)
        elapsed, page = timed(http, params)
        times.append(elapsed)
        slowest = max(slowest, (elapsed, params), key=lambda t: t[0])
        if page["next_cursor"] and rng.random() < 0.3:
            elapsed, _ = timed(http, {**params, "cursor": page["next_cursor"]})
            times.append(elapsed)
    return times, slowest[1]


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


async def explain(url: str, params: dict[str, Any]) -> str:
    search = msgspec.convert(
        {
            k: v
            if isinstance(v, list) or k not in ("platform", "tier", "category", "region")
            else [v]
            for k, v in params.items()
        },
        KolSearch,
    )
    conn = await asyncpg.connect(database.asyncpg_dsn(url))
    await database.init_connection(conn)
    lines = []
    try:
        async with conn.transaction():
            await conn.execute(queries.SEARCH_SETTINGS)
            for title, st in (
                ("page", queries.search_page(search, None, search.limit + 1)),
                ("count estimate", queries.matching_kols(search, cap=None)),
                ("capped count", queries.matching_kols(search, cap=service.EXACT_COUNT_LIMIT + 1)),
            ):
                text = st.text.replace("EXPLAIN (FORMAT JSON)", "")
                plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {text}", *st.args)
                lines.append(f"--- {title} ---")
                lines.extend(r[0] for r in plan)
    finally:
        await conn.close()
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kols", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=150)
    args = parser.parse_args()
    with scratch_database() as url:
        seeded = asyncio.run(seed_kols(url, args.kols, seed=2026))
        print(
            f"seed: {seeded.kols} KOLs, {seeded.accounts} accounts, {seeded.snapshots} "
            f"snapshots in {seeded.seconds:.1f} s (target < {SEED_TARGET_S:.0f} s)"
        )
        with api_server(url) as base, httpx.Client(base_url=base, timeout=10) as http:
            http.headers["Authorization"] = f"Bearer {merchant_token(http)}"
            results = {}
            for i, (name, mix) in enumerate(MIXES.items()):
                results[name] = measure(http, mix, args.requests, seed=i)
        print(f"\n{'filter mix':48} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
        for name, (times, _) in results.items():
            p50, p95, p99 = (percentile(times, p) for p in (50, 95, 99))
            print(f"{name:48} {len(times):5d} {p50:8.1f} {p95:8.1f} {p99:8.1f}")
        worst = max(results, key=lambda n: percentile(results[n][0], 95))
        print(f"\nslowest mix by p95: {worst}; its slowest request: {results[worst][1]}")
        print(asyncio.run(explain(url, results[worst][1])))
        p95_ok = all(percentile(t, 95) < P95_TARGET_MS for t, _ in results.values())
        seed_ok = seeded.seconds < SEED_TARGET_S
        verdict = {True: "met", False: "MISSED"}
        print(f"\nseed target {verdict[seed_ok]}; p95 target {verdict[p95_ok]}")
    return 0 if p95_ok and seed_ok else 1


if __name__ == "__main__":
    sys.exit(main())
