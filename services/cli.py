"""The `kolmarket` command: serve, migrate, seed, worker, plan, openapi."""

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import click

from services import database
from services.catalog.cli import seed
from services.logs import configure_logging
from services.planning.cli import plan
from services.settings import Settings

T = TypeVar("T")


@click.group()
def main() -> None:
    """kolmarket: the influencer marketplace backend."""


def _settings_with_database() -> tuple[Settings, str]:
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    return settings, database.resolve_url(settings.database_url, settings.data_dir)


@main.command()
def migrate() -> None:
    """Upgrade the database schema to the latest revision."""
    _, url = _settings_with_database()
    database.upgrade(url)
    click.echo(f"database at revision {database.head_revision()}", err=True)


@main.command()
@click.option("--host", default=None, help="Interface to bind (default: HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default: PORT or 8000).")
@click.option("--workers", default=1, show_default=True, help="Worker processes (each one an app).")
@click.option("--demo", is_flag=True, help="Load the demo marketplace (idempotent).")
@click.option("--no-migrate", is_flag=True, help="Do not migrate before serving.")
def serve(host: str | None, port: int | None, workers: int, demo: bool, no_migrate: bool) -> None:
    """Serve the API (uvicorn with httptools and uvloop). Without DATABASE_URL, an embedded
    PostgreSQL is started first."""
    import uvicorn

    settings, url = _settings_with_database()
    if not no_migrate:
        database.upgrade(url)
    if demo:
        from services.demo import load_demo

        load_demo(url)
    os.environ["DATABASE_URL"] = url
    uvicorn.run(
        "services.api.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        http="httptools",
        loop="uvloop",
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


@main.command()
@click.option("--concurrency", default=4, show_default=True, help="Jobs run at once.")
def worker(concurrency: int) -> None:
    """Run background jobs (offer expiry, plan solving, payouts, purges) until stopped."""
    from services.worker.app import run_worker

    settings, url = _settings_with_database()
    asyncio.run(run_worker(url, settings=settings, concurrency=concurrency))


@main.command()
def reconcile() -> None:
    """Settle unconfirmed Stripe calls, then compare the ledger with every Stripe object it
    references; prints each difference and exits 1 if there is any."""
    from services.payments.reconcile import Mismatch

    settings, url = _settings_with_database()
    found: list[Mismatch] = asyncio.run(_reconcile(url, settings))
    for mismatch in found:
        click.echo(str(mismatch))
    click.echo(f"{len(found)} difference(s) between the ledger and Stripe", err=True)
    sys.exit(1 if found else 0)


async def _reconcile(url: str, settings: Settings) -> list[Any]:
    from services.payments import reconcile as money
    from services.payments.gateway import StripeLibraryGateway

    gateway = StripeLibraryGateway(settings)
    pool = await database.create_pool(url, min_size=1, max_size=2)
    try:
        await money.settle_due(pool, gateway)
        return await money.audit(pool, gateway)
    finally:
        await pool.close()
        await gateway.close()


@main.command()
@click.argument("email")
@click.password_option(envvar="OPERATOR_PASSWORD", help="Password (or OPERATOR_PASSWORD).")
def operator(email: str, password: str) -> None:
    """Create an operator account (or reset its password). Operators cannot register via the API."""
    from services.accounts.service import ensure_operator

    _, url = _settings_with_database()
    user_id = asyncio.run(
        _with_connection(url, lambda conn: ensure_operator(conn, email, password))
    )
    click.echo(f"operator {email} ready ({user_id})", err=True)


async def _with_connection(url: str, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    pool = await database.create_pool(url, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            return await work(conn)
    finally:
        await pool.close()


@main.command()
@click.argument("output", type=click.Path(path_type=Path), default=Path("openapi/openapi.json"))
def openapi(output: Path) -> None:
    """Write the OpenAPI document generated from the app."""
    from services.api.schema import write_schema

    write_schema(output)
    click.echo(f"wrote {output}", err=True)


main.add_command(seed)
main.add_command(plan)


if __name__ == "__main__":
    sys.exit(main())
