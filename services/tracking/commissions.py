"""Commissions of tracked orders: booked in the ledger when an order's holding period ends,
settled with the merchant's other commissions (payments charges the merchant and transfers
each KOL's share), and the orders behind a transferred share marked paid."""

from collections import defaultdict
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import structlog

from contracts.events import ConversionApproved, ConversionPaid
from contracts.payments import SettlementOut
from services import events
from services.payments import commissions
from services.payments.gateway import StripeGateway

log = structlog.get_logger(__name__)

# The holding period is over: counted orders of deals not in dispute, oldest first.
# (A deal being disputed right now is left for the next run.)
DUE_FOR_APPROVAL = """
    SELECT c.id, c.deal_id, c.commission, c.platform_cut,
           d.merchant_id, d.kol_id, d.currency
    FROM conversions c JOIN deals d ON d.id = c.deal_id
    WHERE c.status = 'pending' AND c.hold_until <= $1 AND d.status <> 'disputed'
    ORDER BY c.hold_until
    LIMIT $2
    FOR UPDATE OF c SKIP LOCKED
    FOR SHARE OF d SKIP LOCKED
"""
APPROVE = """
    UPDATE conversions SET status = 'approved', decided_at = $2, accrual_id = $3
    WHERE id = any($1::uuid[])
    RETURNING id, merchant_id, deal_id, order_id, commission, platform_cut
"""
# The orders behind a commission are paid once the KOL's share of it is transferred.
PAID = """
    UPDATE conversions SET status = 'paid', decided_at = now()
    WHERE accrual_id = $1 AND status = 'approved'
    RETURNING id, merchant_id, deal_id, order_id
"""


async def approve_due(
    conn: asyncpg.Connection, now: datetime | None = None, limit: int = 5000
) -> int:
    """Book the commission of every order whose holding period is over: one ledger entry per
    deal per run, named by the conversions it approves. Returns how many were approved."""
    now = now or datetime.now(UTC)
    async with conn.transaction():
        rows = await conn.fetch(DUE_FOR_APPROVAL, now, limit)
        by_deal: dict[UUID, list[asyncpg.Record]] = defaultdict(list)
        for row in rows:
            by_deal[row["deal_id"]].append(row)
        for deal_id, due in by_deal.items():
            amount = sum(r["commission"] for r in due)
            cut = sum(r["platform_cut"] for r in due)
            deal = {"id": deal_id} | {k: due[0][k] for k in ("merchant_id", "kol_id", "currency")}
            accrual = await commissions.accrue(conn, deal, amount, cut) if amount else None
            approved = await conn.fetch(APPROVE, [r["id"] for r in due], now, accrual)
            await events.append_many(conn, [_approved(r) for r in approved])
    if rows:
        log.info("commissions_approved", conversions=len(rows), deals=len(by_deal))
    return len(rows)


def _approved(row: asyncpg.Record) -> tuple[ConversionApproved, UUID, UUID, None]:
    approved = ConversionApproved(
        conversion_id=row["id"], merchant_id=row["merchant_id"], deal_id=row["deal_id"],
        order_id=row["order_id"], commission=row["commission"], platform_cut=row["platform_cut"],
    )  # fmt: skip
    return approved, row["id"], row["merchant_id"], None


async def mark_paid(conn: asyncpg.Connection, accrual_id: UUID, transfer_id: str) -> None:
    """The KOL's share of a commission was transferred: its orders are paid."""
    paid = await conn.fetch(PAID, accrual_id)
    await events.append_many(conn, [_paid(row, transfer_id) for row in paid])


def _paid(row: asyncpg.Record, transfer_id: str) -> tuple[ConversionPaid, UUID, UUID, None]:
    paid = ConversionPaid(
        conversion_id=row["id"], merchant_id=row["merchant_id"], deal_id=row["deal_id"],
        order_id=row["order_id"], transfer_id=transfer_id,
    )  # fmt: skip
    return paid, row["id"], row["merchant_id"], None


async def settle(
    conn: asyncpg.Connection, gateway: StripeGateway, merchant_id: UUID, currency: str
) -> SettlementOut | None:
    """Settle a merchant's commissions in `currency`; None when nothing is owed."""
    return await commissions.settle(conn, gateway, merchant_id, currency, mark_paid)


async def settle_all(conn: asyncpg.Connection, gateway: StripeGateway) -> int:
    """Every merchant with commissions owed or a failed charge; returns how many were paid."""
    return await commissions.settle_all(conn, gateway, mark_paid)
