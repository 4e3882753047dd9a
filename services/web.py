"""The HTTP kit of the contexts' controllers: guards (who may call, and which operations need
a recent login), the names dependencies are declared by, the client's address as kept,
shared query and header parameters, and the documented problem answers.

Controllers (`routes.py` of each context) import from here; use cases never do. The app
factory (`services.api.app`) registers the providers defined here.
"""

import hashlib
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import HeaderParameter, QueryParameter, SkipValidation

from contracts.errors import Problem
from services import addresses, pagination
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
    QueryParameter(
        pattern=pagination.PATTERN,
        description="`next_cursor` of the previous page",
        examples=[Example(value="1764633600000000.0193d0a4c7e07f3a9b2c4d5e6f708192")],
    ),
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
            "first answer; the same key with a different body answers 409."
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


def client_address(request: Request[Any, Any, Any]) -> str:
    """The keyed hash of the client's address, the only form in which it is kept or counted.

    The address is the peer's, or the one a peer listed in `TRUSTED_PROXIES` names in
    `X-Forwarded-For` (the app resolves that before any handler runs)."""
    host = request.client.host if request.client else "unknown"
    return addresses.keyed_hash(request.app.state.address_key, host)


@dataclass(frozen=True, slots=True)
class Authentication:
    """How the caller proved who it is, beside the `Caller` (on `request.auth`)."""

    method: str  # token | api_key
    auth_time: int | None = None  # when the password behind a token was checked (epoch s)


class StepUpRequired(Unauthorized):
    """The operation needs a login more recent than the token's (RFC 9470's step-up)."""

    title = "Re-authentication required"
    type_slug = "reauthentication-required"

    def __init__(self, max_age: int) -> None:
        within = f"{max_age // 60} minutes" if max_age % 60 == 0 else f"{max_age} seconds"
        super().__init__(
            f"this operation needs a login within the last {within}: log in again with "
            "POST /v1/auth/token and repeat it with the new access token",
            headers={
                "WWW-Authenticate": (
                    'Bearer error="insufficient_user_authentication", '
                    f'error_description="a more recent login is required", max_age="{max_age}"'
                )
            },
        )


def require_recent_login(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Refuse with 401 `reauthentication-required` unless the caller's password was checked
    within `STEP_UP_MAX_AGE_SECONDS`. An API key has no login to be recent: where an operation
    admits keys (by scope), its scope is the check."""
    auth = connection.scope.get("auth")
    if isinstance(auth, Authentication) and auth.method == "api_key":
        return
    max_age: int = connection.app.state.settings.step_up_max_age_seconds
    auth_time = auth.auth_time if isinstance(auth, Authentication) else None
    if auth_time is None or time.time() - auth_time > max_age:
        raise StepUpRequired(max_age)


def recent_login(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard for dangerous operations (after the route's `allow` guard)."""
    require_recent_login(connection)


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
        if caller.kind == "merchant" and caller.merchant_id is None:
            raise Forbidden("this account no longer belongs to a merchant")
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
    """Document the problem+json answers a route can give, besides those any route can: 400
    (a request it cannot read), 500 and 503 (the database unavailable, with Retry-After)."""
    codes = sorted({*statuses, 400, 500, 503})
    return {
        code: ResponseSpec(
            data_container=Problem,
            description=_DESCRIPTIONS.get(code, "Error"),
            media_type="application/problem+json",
            generate_examples=False,
        )
        for code in codes
    }
