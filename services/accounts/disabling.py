"""Use cases of operators: disabling and enabling an account or a whole merchant.

A disabled account cannot log in, its refresh tokens are revoked, and its access tokens are
refused from the next request on, since every request reads the caller's standing
(`standing`). A disabled merchant's members are treated alike, and its API keys stop working.
Enabling gives nothing back but the right to log in again. Each change is audited and writes
its event; doing what is already done changes nothing and answers the current state.
"""

from uuid import UUID

import asyncpg
import msgspec
import structlog

from contracts.accounts import AccountStatusOut, MerchantStatusOut
from contracts.events import AccountDisabled, AccountEnabled, MerchantDisabled, MerchantEnabled
from services import audit, events
from services.accounts import queries
from services.accounts.service import record_change
from services.actors import Caller
from services.errors import Conflict, NotFound

log = structlog.get_logger(__name__)


async def disable_account(
    conn: asyncpg.Connection, caller: Caller, user_id: UUID
) -> AccountStatusOut:
    if user_id == caller.user_id:
        raise Conflict("an operator cannot disable their own account")
    async with conn.transaction():
        changed = await conn.fetchval(queries.DISABLE_USER, user_id)
        account = await _account(conn, user_id)
        if changed:
            revoked = await conn.execute(queries.REVOKE_USER_REFRESH, user_id)
            payload = AccountDisabled(
                user_id=user_id, role=account.role, disabled_at=account.disabled_at
            )
            await events.append(conn, payload, aggregate_id=user_id, merchant_id=None)
            await record_change(
                conn,
                caller,
                "account_disabled",
                str(user_id),
                refresh_tokens_revoked=int(revoked.split()[-1]),
            )
    log.info("account_disabled", account_id=str(user_id), changed=bool(changed))
    return account


async def enable_account(
    conn: asyncpg.Connection, caller: Caller, user_id: UUID
) -> AccountStatusOut:
    async with conn.transaction():
        changed = await conn.fetchval(queries.ENABLE_USER, user_id)
        account = await _account(conn, user_id)
        if changed:
            payload = AccountEnabled(user_id=user_id, role=account.role)
            await events.append(conn, payload, aggregate_id=user_id, merchant_id=None)
            await record_change(conn, caller, "account_enabled", str(user_id))
    log.info("account_enabled", account_id=str(user_id), changed=bool(changed))
    return account


async def disable_merchant(
    conn: asyncpg.Connection, caller: Caller, merchant_id: UUID
) -> MerchantStatusOut:
    async with conn.transaction():
        changed = await conn.fetchval(queries.DISABLE_MERCHANT, merchant_id)
        merchant = await _merchant(conn, merchant_id)
        if changed:
            revoked = await conn.execute(queries.REVOKE_MERCHANT_REFRESH, merchant_id)
            payload = MerchantDisabled(merchant_id=merchant_id, disabled_at=merchant.disabled_at)
            await events.append(conn, payload, aggregate_id=merchant_id, merchant_id=merchant_id)
            await _audit_merchant(
                conn,
                caller,
                "merchant_disabled",
                merchant_id,
                refresh_tokens_revoked=int(revoked.split()[-1]),
            )
    log.info("merchant_disabled", merchant_id=str(merchant_id), changed=bool(changed))
    return merchant


async def enable_merchant(
    conn: asyncpg.Connection, caller: Caller, merchant_id: UUID
) -> MerchantStatusOut:
    async with conn.transaction():
        changed = await conn.fetchval(queries.ENABLE_MERCHANT, merchant_id)
        merchant = await _merchant(conn, merchant_id)
        if changed:
            payload = MerchantEnabled(merchant_id=merchant_id)
            await events.append(conn, payload, aggregate_id=merchant_id, merchant_id=merchant_id)
            await _audit_merchant(conn, caller, "merchant_enabled", merchant_id)
    log.info("merchant_enabled", merchant_id=str(merchant_id), changed=bool(changed))
    return merchant


async def _account(conn: asyncpg.Connection, user_id: UUID) -> AccountStatusOut:
    row = await conn.fetchrow(queries.FIND_ACCOUNT, user_id)
    if row is None:
        raise NotFound("account", user_id)
    return msgspec.convert(dict(row), AccountStatusOut)


async def _merchant(conn: asyncpg.Connection, merchant_id: UUID) -> MerchantStatusOut:
    row = await conn.fetchrow(queries.FIND_MERCHANT, merchant_id)
    if row is None:
        raise NotFound("merchant", merchant_id)
    return msgspec.convert(dict(row), MerchantStatusOut)


async def _audit_merchant(
    conn: asyncpg.Connection, caller: Caller, action: str, merchant_id: UUID, **detail: object
) -> None:
    """Audited under the merchant, so that its own history shows it."""
    await audit.record(
        conn,
        action,
        user_id=caller.user_id,
        merchant_id=merchant_id,
        subject=str(merchant_id),
        **detail,
    )
