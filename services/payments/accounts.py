"""KOL payout accounts: a Stripe Connect Express account per KOL, made once (recorded before it
is created, like every call to Stripe), with an onboarding link while Stripe does not yet let
it receive payouts. Stripe is the source of truth of readiness; our copy is refreshed from it,
never inside a transaction.
"""

from uuid import UUID

import asyncpg
import structlog

from contracts.payments import PayoutAccountIn, PayoutAccountOut
from services.errors import Invalid, NotFound
from services.payments import operations, queries, rules
from services.payments.gateway import StripeGateway
from services.payments.operations import Kind, Operation, Status

log = structlog.get_logger(__name__)


async def open_payout_account(
    pool: asyncpg.Pool, gateway: StripeGateway, kol_id: UUID, data: PayoutAccountIn
) -> PayoutAccountOut:
    """The KOL's Express account (made once) and a fresh onboarding link while not ready."""
    async with pool.acquire() as conn, conn.transaction():
        if await conn.fetchrow(queries.LOCK_KOL, kol_id) is None:
            raise NotFound("kol", kol_id)
        row = await conn.fetchrow(queries.FIND_PAYOUT_ACCOUNT, kol_id)
        if row is None:
            base = rules.payout_account_key(kol_id)
            key = await operations.next_key(conn, base, kol_id, Kind.PAYOUT_ACCOUNT)
            params = {
                "type": "express",
                "country": data.country,
                "metadata": {"kol_id": str(kol_id)},
                "capabilities": {"transfers": {"requested": True}},
            }
            op = await operations.record(conn, Kind.PAYOUT_ACCOUNT, key, params, subject_id=kol_id)
    if row is None:
        done = await operations.execute(pool, gateway, op.id, apply_payout_account)
        if done.status is Status.FAILED:
            raise Invalid("country", f"Stripe refused the account: {done.error}")
        if not done.settled:
            raise operations.Unsettled(done)
        async with pool.acquire() as conn:
            row = await conn.fetchrow(queries.FIND_PAYOUT_ACCOUNT, kol_id)
    url = None
    if not row["payouts_enabled"]:
        link = await gateway.create_account_link(
            {"account": row["stripe_account_id"], "type": "account_onboarding"}
            | {"return_url": data.return_url, "refresh_url": data.refresh_url}
        )
        url = link.url
    return PayoutAccountOut(
        stripe_account_id=row["stripe_account_id"],
        ready=row["payouts_enabled"],
        details_submitted=row["details_submitted"],
        onboarding_url=url,
    )


async def apply_payout_account(conn: asyncpg.Connection, op: Operation) -> None:
    if op.status is Status.SUCCEEDED and op.result is not None:
        ready, submitted = (
            bool(op.result.get("payouts_enabled")),
            bool(op.result.get("details_submitted")),
        )
        await conn.execute(
            queries.INSERT_PAYOUT_ACCOUNT, op.subject_id, op.stripe_id, ready, submitted
        )


async def payout_account(
    pool: asyncpg.Pool, gateway: StripeGateway, kol_id: UUID
) -> PayoutAccountOut:
    """The KOL's payout readiness, refreshed from Stripe."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(queries.FIND_PAYOUT_ACCOUNT, kol_id)
    if row is None:
        raise NotFound("payout account")
    ready, submitted = await refresh_account(pool, gateway, row["stripe_account_id"])
    return PayoutAccountOut(
        stripe_account_id=row["stripe_account_id"], ready=ready, details_submitted=submitted
    )


async def refresh_account(
    pool: asyncpg.Pool, gateway: StripeGateway, account_id: str
) -> tuple[bool, bool]:
    """Read the account from Stripe (holding no connection meanwhile) and keep our copy."""
    account = await gateway.retrieve_account(account_id)
    ready, submitted = bool(account.payouts_enabled), bool(account.details_submitted)
    async with pool.acquire() as conn:
        await conn.execute(queries.UPDATE_PAYOUT_ACCOUNT, account_id, ready, submitted)
    return ready, submitted
