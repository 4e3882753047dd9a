"""Dependency providers: a pooled connection per request, and the settings."""

from collections.abc import AsyncGenerator

import asyncpg
from litestar.datastructures import State

from services.settings import Settings


async def provide_db(state: State) -> AsyncGenerator[asyncpg.Connection, None]:
    async with state.pool.acquire() as conn:
        yield conn


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings
