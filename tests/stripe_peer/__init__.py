"""The local Stripe peer for tests: a running server, clients pointed at it, webhook endpoints.

    with stripe_peer() as base_url:                      # e.g. in a session-scoped fixture
        async with stripe_client(base_url) as client:
            intent = await client.v1.payment_intents.create_async({...})
        secret = await register_webhook(base_url, "http://127.0.0.1:8001/webhooks/stripe")

The peer is `tests.stripe_peer.server` (localstripe plus Connect, with `cards` for card
confirmations) in its own process, so its state and its webhook deliveries never share the
tests' event loop.
"""

import contextlib
import select
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import stripe

ROOT = Path(__file__).resolve().parents[2]
TEST_API_KEY = "sk_test_kolmarket_local"
WEBHOOK_SECRET = "whsec_kolmarket_local_peer"
START_TIMEOUT = 20.0  # seconds


@contextlib.contextmanager
def stripe_peer(timeout: float = START_TIMEOUT) -> Iterator[str]:
    """Run the peer on a free 127.0.0.1 port; yield its base URL once it answers."""
    command = [sys.executable, "-m", "tests.stripe_peer.server"]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = _wait_until_listening(process, time.monotonic() + timeout)
        _wait_until_answering(base_url, time.monotonic() + timeout)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _wait_until_listening(process: subprocess.Popen[str], deadline: float) -> str:
    assert process.stdout is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if ready:
            line = process.stdout.readline()
            if line.startswith("listening on "):
                return line.removeprefix("listening on ").strip()
        if process.poll() is not None:
            raise RuntimeError(f"Stripe peer exited with {process.returncode} before listening")
    raise TimeoutError("Stripe peer did not start listening in time")


def _wait_until_answering(base_url: str, deadline: float) -> None:
    headers = {"Authorization": f"Bearer {TEST_API_KEY}"}
    while True:
        try:
            if httpx.get(f"{base_url}/v1/accounts", headers=headers).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"Stripe peer at {base_url} does not answer")
        time.sleep(0.05)


def make_stripe_client(base_url: str, http_client: stripe.HTTPClient) -> stripe.StripeClient:
    """The client the product builds for production, with its base addresses moved to the peer."""
    return stripe.StripeClient(
        TEST_API_KEY,
        base_addresses={"api": base_url, "connect": base_url, "files": base_url},
        http_client=http_client,
    )


@contextlib.asynccontextmanager
async def stripe_client(base_url: str) -> AsyncIterator[stripe.StripeClient]:
    """A StripeClient for the `*_async` methods; its HTTP connections close on exit."""
    http_client = stripe.HTTPXClient()
    try:
        yield make_stripe_client(base_url, http_client)
    finally:
        await http_client.close_async()


async def register_webhook(
    base_url: str,
    url: str,
    *,
    events: list[str] | None = None,
    endpoint_id: str = "kolmarket",
    secret: str = WEBHOOK_SECRET,
) -> str:
    """Have the peer deliver events (all, or `events`) to `url`; returns the signing secret."""
    body = {"url": url, "secret": secret, "events": events}
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{base_url}/_config/webhooks/{endpoint_id}", json=body)
        answer.raise_for_status()
    return secret


async def unregister_webhook(base_url: str, endpoint_id: str = "kolmarket") -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.delete(f"{base_url}/_config/webhooks/{endpoint_id}")
        answer.raise_for_status()


async def onboard_account(base_url: str, account_id: str) -> None:
    """Complete a connected account's onboarding, as its owner would through the account link."""
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{base_url}/_config/accounts/{account_id}/onboard")
        answer.raise_for_status()
