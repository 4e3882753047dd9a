"""Who is calling: a bearer access token (merchant member, KOL, operator) or a partner API key.

The middleware turns credentials into a `Caller` on `request.user` and spends one request of
the caller's budget, shared by every process (`services.limits`); guards on each route say
which kinds of caller (and which API key scopes) may use it.
"""

from typing import Any
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from services.accounts import credentials, queries
from services.actors import Caller


def caller_from_claims(claims: dict[str, Any]) -> Caller:
    return Caller(
        kind=claims["role"],
        user_id=UUID(claims["sub"]),
        merchant_id=UUID(claims["mid"]) if claims.get("mid") else None,
        member_role=claims.get("mrole"),
        kol_id=UUID(claims["kid"]) if claims.get("kid") else None,
    )


class CallerAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        state = connection.app.state
        caller = await self._caller(connection, state)
        await state.request_limiter.hit(caller.key)
        return AuthenticationResult(user=caller, auth=caller.kind)

    async def _caller(self, connection: ASGIConnection[Any, Any, Any, Any], state: Any) -> Caller:
        header = connection.headers.get("authorization", "")
        api_key = connection.headers.get("x-api-key")
        if header[:7].lower() == "bearer ":
            claims = credentials.read_access_token(header[7:].strip(), state.settings.jwt_secret)
            if claims is None or claims.get("typ") != "access":
                raise NotAuthorizedException("the access token is invalid or expired")
            return caller_from_claims(claims)
        if api_key:
            async with state.pool.acquire() as conn:
                row = await queries.find_api_key(conn, api_key)
            if row is None:
                raise NotAuthorizedException("the API key is invalid or revoked")
            return Caller(
                kind="partner",
                merchant_id=row["merchant_id"],
                api_key_id=row["id"],
                scopes=frozenset(row["scopes"]),
            )
        raise NotAuthorizedException("authentication required: a bearer token or an X-API-Key")
