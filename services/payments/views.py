"""Rows of payments as contract structs."""

from datetime import UTC, datetime

import asyncpg
import msgspec

from contracts.deals import DealStatus
from contracts.ledger import EntryKind, EntryOut
from contracts.payments import (
    DealStatement,
    FundingOut,
    FundingStatus,
    PaymentOperationOut,
    PayoutOut,
    PayoutStatus,
    RefundOut,
)
from services.payments import rules
from services.payments.operations import Operation


def funding_out(row: asyncpg.Record, client_secret: str | None) -> FundingOut:
    return FundingOut(
        deal_id=row["deal_id"],
        payment_intent_id=row["payment_intent_id"],
        client_secret=client_secret,
        amount=row["amount"],
        currency=row["currency"],
        status=FundingStatus(row["status"]),
    )


def payout_out(row: asyncpg.Record, now: datetime | None = None) -> PayoutOut:
    now = now or datetime.now(UTC)
    return PayoutOut(
        id=row["id"],
        deal_id=row["deal_id"],
        kol_id=row["kol_id"],
        amount=row["amount"],
        currency=row["currency"],
        status=PayoutStatus(row["status"]),
        due_at=row["due_at"],
        overdue=rules.is_overdue(row["status"], row["due_at"], now),
        attempts=row["attempts"],
        last_error=row["last_error"],
        transfer_id=row["transfer_id"],
        paid_at=row["paid_at"],
    )


def refund_out(row: asyncpg.Record, currency: str) -> RefundOut:
    return RefundOut(
        id=row["id"],
        deal_id=row["deal_id"],
        amount=row["amount"],
        currency=currency,
        reason=row["reason"],
        stripe_refund_id=row["stripe_refund_id"],
        created_at=row["created_at"],
    )


def _total(entries: list[EntryOut], kind: EntryKind) -> int:
    return sum(
        -p.amount
        for e in entries
        if e.kind == kind
        for p in e.postings
        if p.account == "stripe_clearing"
    )


def statement(
    deal: asyncpg.Record,
    entries: list[EntryOut],
    payout: asyncpg.Record | None,
    refunds: list[asyncpg.Record],
    held: int,
    money: list[Operation],
    funding: FundingStatus | None,
) -> DealStatement:
    return DealStatement(
        deal_id=deal["id"],
        status=DealStatus(deal["status"]),
        currency=deal["currency"],
        merchant_pays=deal["merchant_pays"],
        creator_fee=deal["creator_fee"],
        platform_fee=deal["platform_fee"],
        funded=-_total(entries, EntryKind.FUNDING),
        in_escrow=held,
        refunded=_total(entries, EntryKind.REFUND),
        payout=payout_out(payout) if payout else None,
        refunds=[refund_out(r, deal["currency"]) for r in refunds],
        entries=entries,
        funding_status=funding,
        operations=[
            msgspec.convert(msgspec.structs.asdict(op), PaymentOperationOut) for op in money
        ],
    )
