"""`kolmarket seed`: load a synthetic KOL catalog into the configured (or embedded) database."""

import asyncio

import click

from services import database
from services.catalog.seed import seed_kols
from services.logs import configure_logging
from services.settings import Settings


@click.command()
@click.option("--kols", "count", default=1_000, show_default=True, type=click.IntRange(0))
@click.option("--seed", default=7, show_default=True, help="Same seed, same catalog.")
@click.option("--no-migrate", is_flag=True, help="Do not migrate before seeding.")
def seed(count: int, seed: int, no_migrate: bool) -> None:
    """Load COUNT synthetic KOLs with about two platform accounts each and their history."""
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    url = database.resolve_url(settings.database_url, settings.data_dir)
    if not no_migrate:
        database.upgrade(url)
    result = asyncio.run(seed_kols(url, count, seed=seed))
    if result.already_loaded:
        click.echo(f"the catalog of seed {seed} is already loaded", err=True)
        return
    click.echo(
        f"seeded {result.kols} KOLs, {result.accounts} accounts, {result.snapshots} snapshots "
        f"in {result.seconds:.1f} s",
        err=True,
    )
