"""Who is calling: a bearer access token (merchant member, KOL, operator) or a partner API key.

The middleware turns credentials into a `Caller` on `request.user` (and how they were proven,
`services.web.Authentication`, on `request.auth`) and spends one request of the caller's
budget, shared by every process (`services.limits`); guards on each route say which kinds of
caller (and which API key scopes) may use it.

A token only names the account. What the caller may do is its standing now: the account and
its merchant enabled, its membership and role, read through the per-process cache that
PostgreSQL empties on every change (`services.accounts.standing`). An API key is read from
the database on every request, with its expiry, its merchant and the member answering for it.
"""

from typing import Any
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from services.accounts import credentials, keys
from services.actors import Caller
from services.web import Authentication


class CallerAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        state = connection.app.state
        caller, auth = await self._caller(connection, state)
        await state.request_limiter.hit(caller.key)
        return AuthenticationResult(user=caller, auth=auth)

    async def _caller(
        self, connection: ASGIConnection[Any, Any, Any, Any], state: Any
    ) -> tuple[Caller, Authentication]:
        header = connection.headers.get("authorization", "")
        api_key = connection.headers.get("x-api-key")
        if header and api_key is not None:
            # Which one would act? Neither: a request names one caller.
            raise NotAuthorizedException("send either a bearer token or an X-API-Key, not both")
        if header[:7].lower() == "bearer ":
            claims = credentials.read_access_token(header[7:].strip(), state.settings.jwt_secret)
            if claims is None or claims.get("typ") != "access":
                raise NotAuthorizedException("the access token is invalid or expired")
            standing = await state.standing.get(state.pool, UUID(claims["sub"]))
            auth_time = claims.get("auth_time")
            return standing.admit(), Authentication(
                "token", auth_time if isinstance(auth_time, int) else None
            )
        if api_key:
            timeout = state.settings.db_acquire_timeout_seconds
            async with state.pool.acquire(timeout=timeout) as conn:
                return await keys.partner(conn, api_key), Authentication("api_key")
        raise NotAuthorizedException("authentication required: a bearer token or an X-API-Key")
