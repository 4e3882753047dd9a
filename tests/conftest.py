"""Test fixtures: a real PostgreSQL database built from the migrations, and the real app over HTTP.

With DATABASE_URL set, tests create their own database on that server; otherwise they start an
embedded PostgreSQL in a temporary folder.
"""

import os
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services import database
from services.api.app import create_app
from services.settings import Settings
from tests.support.database import scratch_database, temporary_server


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield configured
        return
    with temporary_server() as url:
        yield url


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """A database of its own for this test session, migrated to head."""
    with scratch_database(server_url, "kolmarket_test") as url:
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        jwt_secret="test-secret-" + "x" * 40,
        log_format="json",
        log_level="INFO",
        db_pool_min=1,
        db_pool_max=10,
        cors_origins=("https://app.kolmarket.test",),
        login_limit_per_ip=100_000,
        register_limit_per_ip=100_000,
    )


@pytest.fixture(scope="session")
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture(scope="session")
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await database.connect(database_url)
    try:
        yield conn
    finally:
        await conn.close()
