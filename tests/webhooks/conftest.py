"""Fixtures of the webhook tests: a real HTTP receiver on loopback, the app allowing local
endpoints (as development does), and the worker's delivery pump on the test database."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest
from aiohttp import web
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services import database
from services.api.app import create_app
from services.settings import Settings
from services.webhooks.pump import Pump

WAIT = 30.0  # seconds: a guard against hanging, not a measurement


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def message(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.body)
        return document


@dataclass
class Receiver:
    """Answers each path with the statuses queued for it (then 200) and keeps every request."""

    base_url: str = ""
    received: list[Received] = field(default_factory=list)
    answers: dict[str, list[int]] = field(default_factory=dict)
    hold: dict[str, asyncio.Event] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def wait_for(self, path: str, count: int) -> list[Received]:
        async with asyncio.timeout(WAIT):
            while len(self.at(path)) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.at(path)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append(Received(request.path, dict(request.headers), body))
        self.arrived.set()
        held = self.hold.get(request.path)
        if held is not None:
            await asyncio.wait_for(held.wait(), timeout=WAIT)
        queued = self.answers.get(request.path) or []
        return web.Response(status=queued.pop(0) if queued else 200)


@pytest.fixture(scope="session")
async def receiver() -> AsyncIterator[Receiver]:
    box = Receiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", box.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    box.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield box
    for held in box.hold.values():
        held.set()
    await runner.cleanup()


@pytest.fixture(scope="session")
def hook_settings(settings: Settings) -> Settings:
    """Local endpoints allowed; failed attempts retried at once, three times."""
    return msgspec.structs.replace(
        settings,
        webhook_allow_local=True,
        webhook_timeout_seconds=3.0,
        webhook_retry_schedule=(0.0, 0.0, 0.0),
        event_stream_heartbeat_seconds=1.0,
    )


@pytest.fixture(scope="session")
def hook_app(hook_settings: Settings) -> Litestar:
    return create_app(hook_settings)


@pytest.fixture(scope="session")
async def hook_client(hook_app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=hook_app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[Any]:
    created = await database.create_pool(database_url, min_size=1, max_size=6)
    yield created
    await created.close()


@pytest.fixture
async def pump(pool: Any, hook_settings: Settings) -> AsyncIterator[Pump]:
    running = Pump(pool, hook_settings)
    yield running
    await running.close()
