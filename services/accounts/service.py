"""Use cases of sessions: register, log in, refresh, log out, and who the caller is."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import anyio
import asyncpg
import msgspec
import structlog

from contracts.accounts import Me, RegisterIn, TokenPair
from services import audit
from services.accounts import credentials, login_limits, queries
from services.accounts.rules import check_password, normalise_email
from services.actors import Caller
from services.catalog import service as catalog
from services.errors import Conflict, Invalid, NotFound, TooManyRequests, Unauthorized
from services.settings import Settings

log = structlog.get_logger(__name__)
BAD_LOGIN = "email or password is incorrect"


async def register(
    conn: asyncpg.Connection, data: RegisterIn, address_hash: str, settings: Settings
) -> Me:
    email = normalise_email(data.email)
    check_password(data.password, email)
    await _limit(conn, f"register:ip:{address_hash}", settings.register_limit_per_ip, 3600)
    password_hash = await anyio.to_thread.run_sync(credentials.hash_password, data.password)
    async with conn.transaction():
        user_id = await conn.fetchval(queries.INSERT_USER, email, data.role.value, password_hash)
        if user_id is None:
            raise Conflict("an account with this email already exists")
        if data.role == "kol":
            await catalog.create_profile(conn, user_id, data.display_name or email.split("@")[0])
        else:
            await _join_merchant(conn, user_id, email, data)
        await audit.record(
            conn,
            "account_registered",
            user_id=user_id,
            address_hash=address_hash,
            role=data.role,
        )
    log.info("account_registered", user_id=str(user_id), role=data.role)
    return await me(conn, Caller(kind=data.role.value, user_id=user_id))


async def _join_merchant(
    conn: asyncpg.Connection, user_id: UUID, email: str, data: RegisterIn
) -> None:
    if data.invitation:
        row = await conn.fetchrow(
            queries.CLAIM_INVITATION, credentials.digest(data.invitation), email
        )
        if row is None:
            raise Invalid("invitation", "invitation is unknown, used, expired or for another email")
        await conn.execute(queries.INSERT_MEMBER, row["merchant_id"], user_id, row["role"])
        return
    if not data.merchant_name:
        raise Invalid("merchant_name", "merchant_name is required to register a merchant")
    merchant_id = await conn.fetchval(queries.INSERT_MERCHANT, data.merchant_name)
    await conn.execute(queries.INSERT_MEMBER, merchant_id, user_id, "owner")


async def ensure_operator(conn: asyncpg.Connection, email: str, password: str) -> UUID:
    """Create an operator account, or reset its password; operators never register via the API."""
    email = normalise_email(email)
    check_password(password, email)
    password_hash = await anyio.to_thread.run_sync(credentials.hash_password, password)
    async with conn.transaction():
        user_id: UUID | None = await conn.fetchval(queries.UPSERT_OPERATOR, email, password_hash)
        if user_id is None:
            raise Conflict(f"{email} already belongs to a merchant or KOL account")
        await audit.record(conn, "operator_ensured", user_id=user_id, subject=email)
    return user_id


async def login(
    conn: asyncpg.Connection, email: str, password: str, address_hash: str, settings: Settings
) -> TokenPair:
    """Check the password within the login limits (`login_limits`); a disabled account or
    merchant is refused even with the right password."""
    email = normalise_email(email)
    row = await conn.fetchrow(queries.FIND_LOGIN, email)
    user_id = row["id"] if row else None
    attempt = await login_limits.admit(conn, email, user_id, address_hash, settings)
    ok = await anyio.to_thread.run_sync(
        credentials.verify_password, row["password_hash"] if row else None, password
    )
    if not ok or row is None:
        await login_limits.failed(conn, attempt, settings)
        log.info("login_failed")
        raise Unauthorized(BAD_LOGIN)
    refusal = _refusal(row)
    if refusal is not None:
        await audit.record(conn, "login_refused", user_id=user_id, address_hash=address_hash)
        log.info("login_refused", user_id=str(user_id))
        raise Unauthorized(refusal)
    async with conn.transaction():
        await login_limits.succeeded(conn, attempt)
        pair = await _issue_pair(conn, row, uuid4(), datetime.now(UTC), settings)
        await audit.record(conn, "login_succeeded", user_id=user_id, address_hash=address_hash)
    log.info("login_succeeded", user_id=str(user_id))
    return pair


def _refusal(row: asyncpg.Record) -> str | None:
    """Why an account may not have tokens now, if it may not."""
    if row["disabled_at"] is not None:
        return "the account is disabled"
    if row["merchant_disabled_at"] is not None:
        return "the account's merchant is disabled"
    return None


async def refresh(conn: asyncpg.Connection, token: str, settings: Settings) -> TokenPair:
    """A new pair for a refresh token, once; the access token keeps the login's `auth_time`."""
    token_hash = credentials.digest(token)
    async with conn.transaction():
        claimed = await conn.fetchrow(queries.CLAIM_REFRESH, token_hash)
        if claimed is None:
            known = await conn.fetchrow(queries.FIND_REFRESH_FAMILY, token_hash)
            if known is not None:
                await conn.execute(queries.REVOKE_FAMILY, known["family_id"])
                await audit.record(conn, "refresh_reuse_detected", user_id=known["user_id"])
        else:
            row = await conn.fetchrow(queries.FIND_USER, claimed["user_id"])
            if row is not None and _refusal(row) is None:
                return await _issue_pair(
                    conn, row, claimed["family_id"], claimed["authenticated_at"], settings
                )
    raise Unauthorized("the refresh token is invalid, expired or revoked")


async def logout(conn: asyncpg.Connection, token: str) -> None:
    async with conn.transaction():
        known = await conn.fetchrow(queries.FIND_REFRESH_FAMILY, credentials.digest(token))
        if known is not None:
            await conn.execute(queries.REVOKE_FAMILY, known["family_id"])
            await audit.record(conn, "logged_out", user_id=known["user_id"])


async def _issue_pair(
    conn: asyncpg.Connection,
    row: asyncpg.Record,
    family_id: UUID,
    authenticated_at: datetime,
    settings: Settings,
) -> TokenPair:
    """An access token and a refresh token of the login's family. The access token names the
    account and when its password was checked (`auth_time`), nothing more: its merchant,
    membership and role are read anew on every request (`standing`)."""
    claims = {
        "typ": "access",
        "sub": str(row["id"]),
        "role": row["role"],
        "auth_time": int(authenticated_at.timestamp()),
    }
    access = credentials.issue_access_token(
        claims, settings.jwt_secret, settings.access_token_ttl_seconds
    )
    refresh_token, refresh_hash = credentials.new_opaque_token()
    await conn.execute(
        queries.INSERT_REFRESH,
        row["id"],
        family_id,
        refresh_hash,
        settings.refresh_token_ttl_seconds,
        authenticated_at,
    )
    return TokenPair(
        access_token=access,
        refresh_token=refresh_token,
        expires_in=settings.access_token_ttl_seconds,
    )


async def me(conn: asyncpg.Connection, caller: Caller) -> Me:
    if caller.kind == "partner":
        return Me(
            kind="partner",
            merchant_id=caller.merchant_id,
            api_key_id=caller.api_key_id,
            scopes=sorted(caller.scopes),  # type: ignore[arg-type]
        )
    row = await conn.fetchrow(queries.FIND_USER, caller.user_id)
    if row is None:
        raise NotFound("account")
    return msgspec.convert(dict(row) | {"kind": row["role"], "user_id": row["id"]}, Me)


async def _limit(conn: asyncpg.Connection, key: str, limit: int, window_seconds: int) -> None:
    hits, retry_after = await queries.hit_rate_limit(conn, key, window_seconds)
    if hits > limit:
        raise TooManyRequests(retry_after)


async def record_change(
    conn: asyncpg.Connection, caller: Caller, action: str, subject: str, **detail: Any
) -> None:
    """Audit a change to accounts made by `caller` (an owner or an operator)."""
    await audit.record(
        conn,
        action,
        user_id=caller.user_id,
        merchant_id=caller.merchant_id,
        subject=subject,
        **detail,
    )
