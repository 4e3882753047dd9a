"""Dependency providers and the names handlers declare them by: `db`, `caller`, `settings`."""

from collections.abc import AsyncGenerator
from typing import Any

import asyncpg
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency

from services.api.auth import Caller
from services.errors import Unauthorized
from services.settings import Settings

DB = NamedDependency[asyncpg.Connection]
CurrentCaller = NamedDependency[Caller]
AppSettings = NamedDependency[Settings]


async def provide_db(state: State) -> AsyncGenerator[asyncpg.Connection, None]:
    async with state.pool.acquire() as conn:
        yield conn


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def provide_caller(request: Request[Any, Any, Any]) -> Caller:
    caller = request.scope.get("user")
    if not isinstance(caller, Caller):
        raise Unauthorized("authentication required")
    return caller


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"
