"""The `kolmarket` command: serve, migrate, seed, worker, plan, openapi."""

import os
import sys
from pathlib import Path

import click

from services import database
from services.logs import configure_logging
from services.settings import Settings


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
@click.option("--workers", default=1, show_default=True, help="Worker processes.")
@click.option("--demo", is_flag=True, help="Load the demo marketplace (idempotent).")
@click.option("--no-migrate", is_flag=True, help="Do not migrate before serving.")
def serve(host: str | None, port: int | None, workers: int, demo: bool, no_migrate: bool) -> None:
    """Serve the API. Without DATABASE_URL, an embedded PostgreSQL is started first."""
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
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


@main.command()
@click.argument("output", type=click.Path(path_type=Path), default=Path("openapi/openapi.json"))
def openapi(output: Path) -> None:
    """Write the OpenAPI document generated from the app."""
    from services.api.schema import write_schema

    write_schema(output)
    click.echo(f"wrote {output}", err=True)


if __name__ == "__main__":
    sys.exit(main())
