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
    RefundOut,
)
from services.payments import rules
from services.payments.operations import Operation


def funding_out(row: asyncpg.Record, client_secret: str | None) -> FundingOut:
    return msgspec.convert({**row, "client_secret": client_secret}, FundingOut)


def payout_out(row: asyncpg.Record, now: datetime | None = None) -> PayoutOut:
    overdue = rules.is_overdue(row["status"], row["due_at"], now or datetime.now(UTC))
    return msgspec.convert({**row, "overdue": overdue}, PayoutOut)


def refund_out(row: asyncpg.Record, currency: str) -> RefundOut:
    return msgspec.convert({**row, "currency": currency}, RefundOut)


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
