"""Login throughput and the per-request cost of checking a token or an API key.

.venv/bin/python bench/auth.py [--logins 200] [--requests 3000]
"""

import argparse
import asyncio
import time
import warnings

from litestar import get
from litestar.testing import AsyncTestClient

from bench.support import percentiles, row, scratch_database
from services.accounts.credentials import HASHER
from services.api.app import create_app
from services.settings import Settings
from services.web import PUBLIC, CurrentCaller, allow

PASSWORD = "bench password 42"


@get("/bench/open", opt={PUBLIC: True}, sync_to_thread=False)
def open_route() -> dict[str, str]:
    return {"ok": "yes"}


@get("/bench/guarded", guards=[allow("merchant", scope="deals:read")], sync_to_thread=False)
def guarded_route(caller: CurrentCaller) -> dict[str, str]:
    return {"kind": caller.kind}


async def _timed(
    client: AsyncTestClient, n: int, path: str, headers: dict[str, str]
) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = await client.get(path, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return samples


async def _logins(client: AsyncTestClient, emails: list[str], concurrency: int) -> float:
    queue = list(emails)

    async def worker() -> None:
        while queue:
            email = queue.pop()
            response = await client.post(
                "/v1/auth/token", json={"email": email, "password": PASSWORD}
            )
            assert response.status_code == 200, response.text

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(emails) / (time.perf_counter() - started)


async def run(url: str, logins: int, requests: int) -> None:
    settings = Settings(
        database_url=url,
        jwt_secret="bench-" + "s" * 40,
        log_level="WARNING",
        log_format="json",
        login_limit_per_ip=10**9,
        register_limit_per_ip=10**9,
        request_limit_per_minute=10**9,
        db_pool_max=10,
    )
    app = create_app(settings)
    app.register(open_route)
    app.register(guarded_route)
    async with AsyncTestClient(app=app) as client:
        emails = [f"bench{i}@example.com" for i in range(min(logins, 50))]
        for email in emails:
            body = {"email": email, "password": PASSWORD, "role": "merchant", "merchant_name": "B"}
            assert (await client.post("/v1/auth/register", json=body)).status_code == 201
        token = (
            await client.post("/v1/auth/token", json={"email": emails[0], "password": PASSWORD})
        ).json()
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        key = await client.post(
            "/v1/api-keys", json={"name": "b", "scopes": ["deals:read"]}, headers=bearer
        )
        api_key = {"X-API-Key": key.json()["secret"]}

        print(f"argon2id: m={HASHER.memory_cost} KiB, t={HASHER.time_cost}, p={HASHER.parallelism}")
        per_second = await _logins(client, (emails * (logins // len(emails) + 1))[:logins], 8)
        print(
            f"login throughput (8 concurrent clients, {logins} logins): {per_second:8.1f} logins/s"
        )

        await _timed(client, 200, "/bench/open", {})  # warm-up
        open_ms = percentiles(await _timed(client, requests, "/bench/open", {}))
        jwt_ms = percentiles(await _timed(client, requests, "/bench/guarded", bearer))
        key_ms = percentiles(await _timed(client, requests, "/bench/guarded", api_key))
        print(row("no authentication", open_ms))
        print(row("bearer token (JWT HS256) + guard", jwt_ms))
        print(row("partner API key (one SQL lookup) + guard", key_ms))
        print(f"token-check overhead per request (p50): {jwt_ms['p50'] - open_ms['p50']:.3f} ms")
        print(f"API-key-check overhead per request (p50): {key_ms['p50'] - open_ms['p50']:.3f} ms")


def main() -> None:
    warnings.simplefilter("ignore")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    with scratch_database() as url:
        asyncio.run(run(url, args.logins, args.requests))


if __name__ == "__main__":
    main()
