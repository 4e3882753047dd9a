"""Use cases of partner API keys: create, list, revoke, confirm, and the partner a key is.

A key acts for its merchant within its scopes while it is not revoked or expired, its merchant
is enabled, and a member answers for it: its creator, or the owner who confirmed it after the
creator left. When the member who answers for a key leaves the merchant (or is disabled), the
key is suspended, listed with `creator_removed`, until an owner confirms or revokes it: the
one who left knows the secret, so the key must not outlive their access silently, yet a
partner's integration is not cut off for good by someone else's departure.
"""

from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import msgspec
import structlog

from contracts.accounts import ApiKeyCreated, ApiKeyIn, ApiKeyOut, ApiKeyStatus
from services.accounts import credentials, queries, rules
from services.accounts.service import record_change
from services.actors import Caller
from services.errors import Conflict, NotFound, Unauthorized

log = structlog.get_logger(__name__)


def key_out(row: asyncpg.Record) -> ApiKeyOut:
    status = rules.key_status(
        revoked=row["revoked_at"] is not None, expired=row["expired"], unvouched=row["unvouched"]
    )
    return msgspec.convert(dict(row) | {"status": status}, ApiKeyOut)


async def create_api_key(conn: asyncpg.Connection, caller: Caller, data: ApiKeyIn) -> ApiKeyCreated:
    expires = rules.key_expiry(data.expires_in_days, datetime.now(UTC))
    prefix, secret, secret_hash = credentials.new_api_key()
    scopes = sorted({s.value for s in data.scopes})
    async with conn.transaction():
        key_id = await conn.fetchval(
            queries.INSERT_API_KEY,
            caller.merchant_id,
            data.name,
            prefix,
            secret_hash,
            scopes,
            caller.user_id,
            expires,
        )
        expires_at = expires.isoformat() if expires else None
        await record_change(
            conn, caller, "api_key_created", prefix, scopes=scopes, expires_at=expires_at
        )
        key = await get_api_key(conn, caller, key_id)
    log.info("api_key_created", prefix=prefix, merchant_id=str(caller.merchant_id))
    return ApiKeyCreated(key=key, secret=secret)


async def list_api_keys(conn: asyncpg.Connection, caller: Caller) -> list[ApiKeyOut]:
    rows = await conn.fetch(queries.FIND_API_KEYS, caller.merchant_id, None)
    return [key_out(r) for r in rows]


async def get_api_key(conn: asyncpg.Connection, caller: Caller, key_id: UUID) -> ApiKeyOut:
    row = await conn.fetchrow(queries.FIND_API_KEYS, caller.merchant_id, key_id)
    if row is None:
        raise NotFound("api key", key_id)
    return key_out(row)


async def revoke_api_key(conn: asyncpg.Connection, caller: Caller, key_id: UUID) -> ApiKeyOut:
    async with conn.transaction():
        revoked = await conn.fetchval(queries.REVOKE_API_KEY, key_id, caller.merchant_id)
        if revoked is None:
            raise NotFound("api key", key_id)
        key = await get_api_key(conn, caller, key_id)
        await record_change(conn, caller, "api_key_revoked", key.prefix)
    log.info("api_key_revoked", prefix=key.prefix)
    return key


async def confirm_api_key(conn: asyncpg.Connection, caller: Caller, key_id: UUID) -> ApiKeyOut:
    """The calling owner answers for a suspended key from now on, and it works again. A key
    that works already is left as it is."""
    async with conn.transaction():
        key = await get_api_key(conn, caller, key_id)
        if key.revoked_at is not None:
            raise Conflict("a revoked key cannot be confirmed", current=msgspec.to_builtins(key))
        if key.status != ApiKeyStatus.SUSPENDED:
            return key
        await conn.execute(queries.CONFIRM_API_KEY, key_id, caller.merchant_id, caller.user_id)
        await record_change(conn, caller, "api_key_confirmed", key.prefix, scopes=key.scopes)
        key = await get_api_key(conn, caller, key_id)
    log.info("api_key_confirmed", prefix=key.prefix)
    return key


REFUSALS = {
    "expired": "the API key has expired",
    "merchant_disabled": "the API key's merchant is disabled",
    "unvouched": "the API key is suspended: the member who created it left the merchant; "
    "an owner can confirm it",
}


async def partner(conn: asyncpg.Connection, secret: str) -> Caller:
    """The partner a key secret stands for, as the key is now; 401 for any key that does not
    work, saying why when the secret itself is right."""
    prefix = credentials.api_key_prefix(secret)
    row = None
    if prefix is not None:
        row = await conn.fetchrow(queries.USE_API_KEY, prefix, credentials.digest(secret))
    if row is None:
        raise Unauthorized("the API key is invalid or revoked")
    for reason, detail in REFUSALS.items():
        if row[reason]:
            raise Unauthorized(detail)
    return Caller(
        kind="partner",
        merchant_id=row["merchant_id"],
        api_key_id=row["id"],
        scopes=frozenset(row["scopes"]),
    )
