"""Fixtures of the payments tests: one Stripe peer per session, the app pointed at it, and an
inbox that receives the peer's signed webhook deliveries for the tests to hand to the app.

For the tests of Stripe's failures, a fault proxy stands in front of the peer, and a second
app and gateways are pointed at it: one try per call (so one fault leaves one outcome unknown)
and a short read timeout (so a hang ends soon)."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import msgspec
import pytest
import stripe
from aiohttp import web
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.api.app import create_app
from services.payments.gateway import StripeLibraryGateway
from services.settings import Settings
from tests.helpers import Account, Client, kol, merchant
from tests.stripe_peer import TEST_API_KEY, WEBHOOK_SECRET, register_webhook, stripe_client
from tests.stripe_peer import stripe_peer as run_stripe_peer
from tests.stripe_peer.faults import FaultProxy

DELIVERY_TIMEOUT = 10.0  # seconds
FAULTY_READ_TIMEOUT = 3.0  # seconds an app behind the fault proxy waits for Stripe's answer
EVENTS = ["payment_intent.succeeded", "payment_intent.payment_failed", "account.updated"]


@pytest.fixture(scope="session")
def peer_url() -> Iterator[str]:
    with run_stripe_peer() as base_url:
        yield base_url


@pytest.fixture(scope="session")
def payments_settings(settings: Settings, peer_url: str) -> Settings:
    return msgspec.structs.replace(
        settings,
        stripe_api_key=TEST_API_KEY,
        stripe_api_base=peer_url,
        stripe_webhook_secret=WEBHOOK_SECRET,
    )


@pytest.fixture(scope="session")
async def pay_client(payments_settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    app = create_app(payments_settings)
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
async def gateway(payments_settings: Settings) -> AsyncIterator[StripeLibraryGateway]:
    """The product's gateway straight to the peer: Stripe when it works."""
    real = StripeLibraryGateway(payments_settings)
    yield real
    await real.close()


@pytest.fixture(scope="session")
def stripe_faults(peer_url: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(peer_url)
    proxy.start()
    yield proxy
    proxy.close()


@pytest.fixture
def faults(stripe_faults: FaultProxy) -> Iterator[FaultProxy]:
    """The fault proxy with no rule; whatever a test injects ends with it."""
    stripe_faults.reset()
    yield stripe_faults
    stripe_faults.reset()


@pytest.fixture(scope="session")
def faulty_settings(payments_settings: Settings, stripe_faults: FaultProxy) -> Settings:
    return msgspec.structs.replace(
        payments_settings,
        stripe_api_base=stripe_faults.url,
        stripe_max_retries=0,
        stripe_timeout_seconds=FAULTY_READ_TIMEOUT,
    )


@pytest.fixture(scope="session")
async def fault_client(faulty_settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app, with Stripe behind the fault proxy."""
    app = create_app(faulty_settings)
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
async def faulty_gateway(faulty_settings: Settings) -> AsyncIterator[StripeLibraryGateway]:
    """The product's gateway, as the worker builds it, with Stripe behind the fault proxy."""
    real = StripeLibraryGateway(faulty_settings)
    yield real
    await real.close()


@pytest.fixture(scope="session")
async def stripe_api(peer_url: str) -> AsyncIterator[stripe.StripeClient]:
    """The merchant's browser and Stripe's dashboard, as far as the tests need them."""
    async with stripe_client(peer_url) as client:
        yield client


@dataclass
class Inbox:
    """The peer's deliveries: raw body and Stripe-Signature, by event type and object id."""

    received: list[tuple[bytes, str, stripe.Event]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_for(self, kind: str, object_id: str) -> tuple[bytes, str]:
        async with asyncio.timeout(DELIVERY_TIMEOUT):
            while True:
                for body, signature, event in self.received:
                    if event.type == kind and event.data.object.id == object_id:
                        return body, signature
                self.arrived.clear()
                await self.arrived.wait()


@pytest.fixture(scope="session")
async def inbox(peer_url: str) -> AsyncIterator[Inbox]:
    box = Inbox()

    async def receive(request: web.Request) -> web.Response:
        body, signature = await request.read(), request.headers.get("Stripe-Signature", "")
        box.received.append(
            (body, signature, stripe.Webhook.construct_event(body, signature, WEBHOOK_SECRET))
        )
        box.arrived.set()
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/stripe", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    await register_webhook(
        peer_url, f"http://127.0.0.1:{runner.addresses[0][1]}/stripe", events=EVENTS,
        endpoint_id="payments-tests",
    )  # fmt: skip
    yield box
    await runner.cleanup()


@dataclass
class Sides:
    merchant: Account
    kol: Account
    other_merchant: Account


@pytest.fixture(scope="module")
async def sides(pay_client: Client) -> Sides:
    return Sides(
        merchant=await merchant(pay_client),
        kol=await kol(pay_client),
        other_merchant=await merchant(pay_client),
    )
