"""The click limit per address and the request limit per caller hold across app processes:
two `kolmarket serve` processes on one database (or one Redis) let through the limit in total,
not each."""

import asyncio
import socket
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.helpers import kol
from tests.tracking.support import CHROME, make_deal, serve_all

pytestmark = pytest.mark.slow

CLICKS, REQUESTS = 6, 9
REDIS_URL = "redis://127.0.0.1:6379/15"


def _same_window() -> None:
    """The limits count in windows of a clock minute: start well inside one (a loaded machine
    takes seconds to make the deal and the caller)."""
    left = 60 - time.time() % 60
    if left < 30:
        time.sleep(left + 0.5)


async def _setup(url: str) -> tuple[str, dict[str, str]]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        deal = await make_deal(client)
        caller = await kol(client)  # its login's GET /v1/me spends one request
        return deal["tracking_code"], caller.headers


def _redis_or_skip() -> str:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            pass
    except OSError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    return REDIS_URL


@pytest.mark.parametrize("store", ["postgres", "redis"])
def test_two_processes_share_the_click_limit_and_the_request_limit(
    database_url: str, tmp_path: Path, store: str
) -> None:
    limits = {"CLICK_LIMIT_PER_MINUTE": str(CLICKS), "REQUEST_LIMIT_PER_MINUTE": str(REQUESTS)}
    # The visitor is the X-Forwarded-For address (one of its own, so clicks of other tests on
    # the same database in the same minute do not count): the test client is the proxy.
    limits["TRUSTED_PROXIES"] = "127.0.0.1/32"
    if store == "redis":
        limits["REDIS_URL"] = _redis_or_skip()
    with serve_all(database_url, [tmp_path / "a", tmp_path / "b"], **limits) as (one, other):
        _same_window()
        code, headers = asyncio.run(_setup(one.url))
        visitor = {"User-Agent": CHROME, "X-Forwarded-For": f"2001:db8::{uuid.uuid4().hex[:4]}"}
        clicks: dict[str, list[int]] = {one.url: [], other.url: []}
        requests: dict[str, list[int]] = {one.url: [], other.url: []}
        for turn in range(2 * max(CLICKS, REQUESTS)):
            app = (one, other)[turn % 2].url
            clicks[app].append(httpx.get(f"{app}/t/{code}", headers=visitor).status_code)
            requests[app].append(httpx.get(f"{app}/v1/me", headers=headers).status_code)
    for app in (one.url, other.url):
        assert set(clicks[app]) == {302, 429} and set(requests[app]) == {200, 429}
        assert clicks[app][-1] == 429 and requests[app][-1] == 429
    assert sum(s == 302 for s in clicks[one.url] + clicks[other.url]) == CLICKS
    spent = sum(s == 200 for s in requests[one.url] + requests[other.url])
    assert spent + 1 == REQUESTS
