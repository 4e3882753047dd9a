"""The schema is built only by migrations, and every migration can be undone."""

import asyncio
from importlib.metadata import version

import asyncpg
import pytest

from services import database
from tests.support.database import scratch_database

TABLES = """
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_name <> 'alembic_version' ORDER BY 1
"""


async def _tables(url: str) -> list[str]:
    conn = await asyncpg.connect(database.asyncpg_dsn(url))
    try:
        return [r["table_name"] for r in await conn.fetch(TABLES)]
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def scratch_url(server_url: str):
    with scratch_database(server_url, "kolmarket_migr", migrate=False) as url:
        yield url


def test_upgrade_from_empty_to_head_and_back_to_base(scratch_url: str) -> None:
    database.upgrade(scratch_url)
    tables = asyncio.run(_tables(scratch_url))
    assert {"users", "merchants", "kols", "events", "idempotency_keys"} <= set(tables)

    database.downgrade(scratch_url, "base")
    assert asyncio.run(_tables(scratch_url)) == []

    database.upgrade(scratch_url)
    assert asyncio.run(_tables(scratch_url)) == tables


def test_migration_files_form_one_line_of_history() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(database.alembic_config("postgresql://"))
    assert len(scripts.get_heads()) == 1
    assert [s.revision for s in scripts.walk_revisions()][-1] == "0001"


def test_job_queue_schema_is_frozen_as_the_installed_procrastinate_ships_it() -> None:
    """Migration 0004 runs a frozen copy of procrastinate's schema; a new procrastinate version
    makes this fail until its schema changes come in a migration of their own."""
    from alembic.script import ScriptDirectory
    from procrastinate.schema import SchemaManager

    scripts = ScriptDirectory.from_config(database.alembic_config("postgresql://"))
    frozen = scripts.get_revision("0004").module.SCHEMA
    installed = version("procrastinate")
    assert frozen.name == f"procrastinate_{installed}.sql", f"procrastinate {installed} installed"
    assert frozen.read_bytes() == SchemaManager.get_schema().encode("utf-8")
