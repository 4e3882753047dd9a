"""The `kolmarket` command: serve, migrate, seed, worker, plan, openapi.

Each verb imports what it needs when it runs: `kolmarket plan` starts without the web app,
the database driver or the settings (only click, msgspec, numpy and the pricing engine).
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    import asyncpg

    from services.settings import Settings

T = TypeVar("T")
APP = "services.api.app:create_app"


class _Deferred(click.Command):
    """A verb whose module is imported on first use; `load` returns the real command."""

    def __init__(self, name: str, target: str, help_text: str) -> None:
        super().__init__(name, help=help_text, short_help=help_text)
        self.target = target

    def load(self) -> click.Command:
        module, _, attribute = self.target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command


class _Main(click.Group):
    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        if isinstance(command, _Deferred):
            command = self.commands[cmd_name] = command.load()
        return command


@click.group(cls=_Main)
def main() -> None:
    """kolmarket: the influencer marketplace backend."""


def _settings_with_database() -> tuple[Settings, str]:
    from services import database
    from services.logs import configure_logging
    from services.settings import Settings

    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    return settings, database.resolve_url(settings.database_url, settings.data_dir)


@main.command()
def migrate() -> None:
    """Upgrade the database schema to the latest revision."""
    from services import database

    _, url = _settings_with_database()
    database.upgrade(url)
    click.echo(f"database at revision {database.head_revision()}", err=True)


@main.command()
@click.option("--host", default=None, help="Interface to bind (default: HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default: PORT or 8000).")
@click.option("--workers", default=1, show_default=True, help="Worker processes (each one an app).")
@click.option("--demo", is_flag=True, help="Load the demo marketplace (idempotent).")
@click.option("--no-migrate", is_flag=True, help="Do not migrate before serving.")
@click.option(
    "--with-worker",
    is_flag=True,
    help="Run background jobs in the same process, beside the API (one API process only).",
)
def serve(
    host: str | None, port: int | None, workers: int, demo: bool, no_migrate: bool,
    with_worker: bool,
) -> None:  # fmt: skip
    """Serve the API (uvicorn with httptools and uvloop). Without DATABASE_URL, an embedded
    PostgreSQL is started first."""
    import uvicorn

    from services import database

    if with_worker and workers != 1:
        raise click.UsageError("--with-worker runs beside one API process; use --workers 1")
    settings, url = _settings_with_database()
    if not no_migrate:
        database.upgrade(url)
    if demo:
        from services.demo import load_demo

        load_demo(url)
    os.environ["DATABASE_URL"] = url
    options: dict[str, Any] = {
        "factory": True,
        "host": host or settings.host,
        "port": port or settings.port,
        "log_config": None,
        "access_log": False,
        "http": "httptools",
        "loop": "uvloop",
        # The app itself honours X-Forwarded-For and X-Forwarded-Proto from TRUSTED_PROXIES
        # only (services/api/app.py); uvicorn's own default would trust any local peer.
        "proxy_headers": False,
        "server_header": False,
    }
    if with_worker:
        from services.worker.embedded import serve_with_worker

        asyncio.run(serve_with_worker(uvicorn.Config(APP, **options), url, settings))
    else:
        uvicorn.run(APP, workers=workers, **options)


@main.command()
@click.option("--concurrency", default=4, show_default=True, help="Jobs run at once.")
def worker(concurrency: int) -> None:
    """Run background jobs (offer expiry, plan solving, payouts, purges) until stopped."""
    import asyncio

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
    from services import database
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
    import asyncio

    from services.accounts.service import ensure_operator

    _, url = _settings_with_database()
    user_id = asyncio.run(
        _with_connection(url, lambda conn: ensure_operator(conn, email, password))
    )
    click.echo(f"operator {email} ready ({user_id})", err=True)


async def _with_connection(url: str, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    from services import database

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


_DEFERRED: dict[str, tuple[str, str]] = {
    "seed": ("services.catalog.cli:seed", "Load a synthetic KOL catalog into the database."),
    "plan": (
        "services.planning.cli:plan",
        "Plan a campaign: allocate a budget or choose creators.",
    ),
}
for _name, (_target, _help) in _DEFERRED.items():
    main.add_command(_Deferred(_name, _target, _help))


if __name__ == "__main__":
    sys.exit(main())
