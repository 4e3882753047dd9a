"""Fixtures of the planning tests: a marketplace of its own with a seeded catalog, reached
through the real app over HTTP, and a connection to read it back for recounts."""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from services import database
from services.api.app import create_app
from services.catalog.seed import seed_kols
from services.settings import Settings
from tests.helpers import Client
from tests.support.database import scratch_database

MARKET_SIZE = 600


@dataclass
class Market:
    client: Client
    db: asyncpg.Connection
    url: str


@pytest.fixture(scope="session")
def market_url(server_url: str) -> Iterator[str]:
    with scratch_database(server_url, "kolmarket_plans") as url:
        yield url


@pytest.fixture(scope="session")
async def market(market_url: str, settings: Settings) -> AsyncIterator[Market]:
    """600 seeded KOLs (about 1,200 accounts) and the app serving them."""
    loaded = await seed_kols(market_url, MARKET_SIZE, seed=21, batch_size=300, progress=False)
    assert loaded.kols == MARKET_SIZE
    app = create_app(msgspec.structs.replace(settings, database_url=market_url))
    conn = await database.connect(market_url)
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        yield Market(client, conn, market_url)
    await conn.close()
