"""The HTTP kit of the contexts' controllers: guards, the names dependencies are declared by,
shared query and header parameters, and the documented problem answers.

Controllers (`routes.py` of each context) import from here; use cases never do. The app
factory (`services.api.app`) registers the providers defined here.
"""

import hashlib
from collections.abc import AsyncGenerator
from typing import Annotated, Any

import asyncpg
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi import ResponseSpec
from litestar.params import HeaderParameter, QueryParameter, SkipValidation

from contracts.errors import Problem
from services.actors import Caller
from services.errors import Forbidden, Unauthorized
from services.idempotency import HEADER, IdempotencyKey
from services.settings import Settings

PUBLIC = "exclude_from_auth"

DB = NamedDependency[asyncpg.Connection]
# The pool itself, for use cases that call Stripe and must hold no connection meanwhile.
Pool = NamedDependency[SkipValidation[asyncpg.Pool]]
CurrentCaller = NamedDependency[Caller]
AppSettings = NamedDependency[Settings]
Idempotency = NamedDependency[IdempotencyKey | None]

Limit = Annotated[int, QueryParameter(ge=1, le=100, description="page size")]
Cursor = Annotated[
    str | None,
    QueryParameter(max_length=200, description="`next_cursor` of the previous page"),
]
IdempotencyHeader = Annotated[
    str | None,
    HeaderParameter(
        name=HEADER,
        required=False,
        min_length=1,
        max_length=255,
        description=(
            "Makes the create safe to retry: a replay with the same key and body returns the "
            "first answer; the same key with a different body answers 422."
        ),
    ),
]


async def provide_db(state: State) -> AsyncGenerator[asyncpg.Connection, None]:
    """A pooled connection for the request; waiting longer than the configured time for one
    answers 503 rather than queueing forever."""
    timeout = state.settings.db_acquire_timeout_seconds
    async with state.pool.acquire(timeout=timeout) as conn:
        yield conn


def provide_pool(state: State) -> asyncpg.Pool:
    pool: asyncpg.Pool = state.pool
    return pool


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def provide_caller(request: Request[Any, Any, Any]) -> Caller:
    caller = request.scope.get("user")
    if not isinstance(caller, Caller):
        raise Unauthorized("authentication required")
    return caller


async def provide_idempotency(
    request: Request[Any, Any, Any],
    caller: CurrentCaller,
    idempotency_key: IdempotencyHeader = None,
) -> IdempotencyKey | None:
    """The request's idempotency key, scoped to the caller, method and path, and bound to the
    SHA-256 of its raw body; None when the client sent none."""
    if idempotency_key is None:
        return None
    body = await request.body()
    return IdempotencyKey(
        scope=f"{caller.key} {request.method} {request.url.path}",
        key=idempotency_key,
        request_hash=hashlib.sha256(body).digest(),
    )


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def allow(*kinds: str, scope: str | None = None, owner: bool = False) -> Any:
    """A guard admitting the given caller kinds; partners only with `scope`; owners if asked."""
    admitted = set(kinds)

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        caller: Caller = connection.user
        if caller.kind == "partner":
            if scope is None or scope not in caller.scopes:
                raise Forbidden(
                    f"this API key lacks the scope {scope}"
                    if scope
                    else "API keys cannot use this operation"
                )
            return
        if caller.kind not in admitted:
            raise Forbidden(f"a {caller.kind} account cannot use this operation")
        if owner and caller.member_role != "owner":
            raise Forbidden("only a merchant owner can use this operation")

    guard.__name__ = f"allow_{'_'.join(sorted(admitted))}"
    guard.admitted = frozenset(admitted)  # type: ignore[attr-defined]
    guard.scope = scope  # type: ignore[attr-defined]
    guard.owner_only = owner  # type: ignore[attr-defined]
    return guard


_DESCRIPTIONS = {
    400: "Malformed request",
    401: "Not authenticated",
    403: "Forbidden for this caller",
    404: "Not found, or not visible to this caller",
    409: "Conflict with the current state",
    422: "Validation failed; `errors` names each field",
    429: "Rate limited; see Retry-After",
    500: "Unexpected error; logged with the request id",
    503: "Unavailable for now (the database or the payment provider); see Retry-After",
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """Document the problem+json answers a route can give, besides the 500 and the 503 (the
    database unavailable, with Retry-After) any route can."""
    codes = sorted({*statuses, 500, 503})
    return {
        code: ResponseSpec(
            data_container=Problem,
            description=_DESCRIPTIONS.get(code, "Error"),
            media_type="application/problem+json",
            generate_examples=False,
        )
        for code in codes
    }
