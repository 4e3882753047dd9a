"""Use cases of accounts: register, log in, refresh, log out, members, partner API keys."""

from typing import Any
from uuid import UUID, uuid4

import anyio
import asyncpg
import msgspec
import structlog

from contracts.accounts import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    InvitationOut,
    Me,
    MemberInviteIn,
    MemberOut,
    RegisterIn,
    TokenPair,
)
from services import audit
from services.accounts import credentials, queries
from services.accounts.rules import check_password, normalise_email
from services.actors import Caller
from services.catalog import service as catalog
from services.errors import Conflict, Invalid, NotFound, TooManyRequests, Unauthorized
from services.settings import Settings

log = structlog.get_logger(__name__)
BAD_LOGIN = "email or password is incorrect"
FAILURE_WINDOW = 900  # seconds in which an account's failed logins are counted


async def register(conn: asyncpg.Connection, data: RegisterIn, ip: str, settings: Settings) -> Me:
    email = normalise_email(data.email)
    check_password(data.password, email)
    await _limit(conn, f"register:ip:{ip}", settings.register_limit_per_ip, 3600)
    password_hash = await anyio.to_thread.run_sync(credentials.hash_password, data.password)
    async with conn.transaction():
        user_id = await conn.fetchval(queries.INSERT_USER, email, data.role.value, password_hash)
        if user_id is None:
            raise Conflict("an account with this email already exists")
        if data.role == "kol":
            await catalog.create_profile(conn, user_id, data.display_name or email.split("@")[0])
        else:
            await _join_merchant(conn, user_id, email, data)
        await audit.record(conn, "account_registered", user_id=user_id, ip=ip, role=data.role)
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
    conn: asyncpg.Connection, email: str, password: str, ip: str, settings: Settings
) -> TokenPair:
    email = normalise_email(email)
    await _limit(conn, f"login:ip:{ip}", settings.login_limit_per_ip, 60)
    account_key = f"login:failed:{email}"
    failures, retry_after = await queries.peek_rate_limit(conn, account_key, FAILURE_WINDOW)
    if failures >= settings.login_limit_per_account:
        raise TooManyRequests(retry_after)
    row = await conn.fetchrow(queries.FIND_LOGIN, email)
    ok = await anyio.to_thread.run_sync(
        credentials.verify_password, row["password_hash"] if row else None, password
    )
    if not ok or row is None or row["disabled_at"] is not None:
        await queries.hit_rate_limit(conn, account_key, FAILURE_WINDOW)
        await audit.record(conn, "login_failed", user_id=row["id"] if row else None, ip=ip)
        log.info("login_failed")
        raise Unauthorized(BAD_LOGIN)
    async with conn.transaction():
        pair = await _issue_pair(conn, row, uuid4(), settings)
        await audit.record(conn, "login_succeeded", user_id=row["id"], ip=ip)
    log.info("login_succeeded", user_id=str(row["id"]))
    return pair


async def refresh(conn: asyncpg.Connection, token: str, settings: Settings) -> TokenPair:
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
            if row is not None and row["disabled_at"] is None:
                return await _issue_pair(conn, row, claimed["family_id"], settings)
    raise Unauthorized("the refresh token is invalid, expired or revoked")


async def logout(conn: asyncpg.Connection, token: str) -> None:
    async with conn.transaction():
        known = await conn.fetchrow(queries.FIND_REFRESH_FAMILY, credentials.digest(token))
        if known is not None:
            await conn.execute(queries.REVOKE_FAMILY, known["family_id"])
            await audit.record(conn, "logged_out", user_id=known["user_id"])


async def _issue_pair(
    conn: asyncpg.Connection, row: asyncpg.Record, family_id: UUID, settings: Settings
) -> TokenPair:
    claims = {
        "typ": "access",
        "sub": str(row["id"]),
        "role": row["role"],
        "mid": str(row["merchant_id"]) if row["merchant_id"] else None,
        "mrole": row["member_role"],
        "kid": str(row["kol_id"]) if row["kol_id"] else None,
    }
    access = credentials.issue_access_token(
        {k: v for k, v in claims.items() if v is not None},
        settings.jwt_secret,
        settings.access_token_ttl_seconds,
    )
    refresh_token, refresh_hash = credentials.new_opaque_token()
    await conn.execute(
        queries.INSERT_REFRESH,
        row["id"],
        family_id,
        refresh_hash,
        settings.refresh_token_ttl_seconds,
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


async def invite_member(
    conn: asyncpg.Connection, caller: Caller, data: MemberInviteIn
) -> InvitationOut:
    token, token_hash = credentials.new_opaque_token()
    email = normalise_email(data.email)
    async with conn.transaction():
        row = await conn.fetchrow(
            queries.INSERT_INVITATION,
            caller.merchant_id,
            email,
            data.role.value,
            token_hash,
            caller.user_id,
        )
        await _record(conn, caller, "member_invited", email, role=data.role)
    assert row is not None
    return InvitationOut(
        id=row["id"], email=email, role=row["role"], token=token, expires_at=row["expires_at"]
    )


async def list_members(conn: asyncpg.Connection, caller: Caller) -> list[MemberOut]:
    rows = await conn.fetch(queries.LIST_MEMBERS, caller.merchant_id)
    return [msgspec.convert(dict(r), MemberOut) for r in rows]


async def change_member_role(
    conn: asyncpg.Connection, caller: Caller, user_id: UUID, role: str
) -> MemberOut:
    async with conn.transaction():
        row = await conn.fetchrow(queries.UPDATE_MEMBER_ROLE, caller.merchant_id, user_id, role)
        if row is None:
            raise NotFound("member", user_id)
        if await conn.fetchval(queries.COUNT_OWNERS, caller.merchant_id) == 0:
            raise Conflict("a merchant must keep at least one owner")
        await _record(conn, caller, "member_role_changed", str(user_id), role=role)
    return msgspec.convert(dict(row), MemberOut)


async def create_api_key(conn: asyncpg.Connection, caller: Caller, data: ApiKeyIn) -> ApiKeyCreated:
    prefix, secret, secret_hash = credentials.new_api_key()
    scopes = sorted({s.value for s in data.scopes})
    async with conn.transaction():
        row = await conn.fetchrow(
            queries.INSERT_API_KEY,
            caller.merchant_id,
            data.name,
            prefix,
            secret_hash,
            scopes,
            caller.user_id,
        )
        await _record(conn, caller, "api_key_created", prefix, scopes=scopes)
    assert row is not None
    log.info("api_key_created", prefix=prefix, merchant_id=str(caller.merchant_id))
    return ApiKeyCreated(key=msgspec.convert(dict(row), ApiKeyOut), secret=secret)


async def list_api_keys(conn: asyncpg.Connection, caller: Caller) -> list[ApiKeyOut]:
    rows = await conn.fetch(queries.LIST_API_KEYS, caller.merchant_id)
    return [msgspec.convert(dict(r), ApiKeyOut) for r in rows]


async def revoke_api_key(conn: asyncpg.Connection, caller: Caller, key_id: UUID) -> ApiKeyOut:
    async with conn.transaction():
        row = await conn.fetchrow(queries.REVOKE_API_KEY, key_id, caller.merchant_id)
        if row is None:
            raise NotFound("api key", key_id)
        await _record(conn, caller, "api_key_revoked", row["prefix"])
    log.info("api_key_revoked", prefix=row["prefix"])
    return msgspec.convert(dict(row), ApiKeyOut)


async def _record(
    conn: asyncpg.Connection, caller: Caller, action: str, subject: str, **detail: Any
) -> None:
    """Audit an owner's change to the merchant's members or API keys."""
    await audit.record(
        conn,
        action,
        user_id=caller.user_id,
        merchant_id=caller.merchant_id,
        subject=subject,
        **detail,
    )
