"""Wire contract of the ledger: accounts, journal entries and the lines a statement shows.

Amounts are integer minor units. A posting's `amount` is positive for a debit and negative
for a credit; every journal entry's postings sum to zero. An account's `balance` is shown on
its normal side: what escrow holds, what a KOL is owed, what the platform earned.
"""

import enum
from datetime import datetime
from uuid import UUID

import msgspec


class AccountKind(enum.StrEnum):
    MERCHANT_ESCROW = "merchant_escrow"  # per deal: what the merchant paid in, not yet released
    KOL_PAYABLE = "kol_payable"  # per KOL: earned, not yet transferred
    PLATFORM_REVENUE = "platform_revenue"  # platform fees earned
    MERCHANT_RECEIVABLE = "merchant_receivable"  # per merchant: owed to the platform
    STRIPE_CLEARING = "stripe_clearing"  # money at Stripe in our platform balance


class EntryKind(enum.StrEnum):
    FUNDING = "funding"
    RELEASE = "release"
    PAYOUT = "payout"
    REFUND = "refund"
    COMMISSION = "commission"  # a commission accrued: owed by the merchant, earned by the KOL
    SETTLEMENT = "settlement"  # the merchant's off-session charge settling accrued commissions
    CLAWBACK = "clawback"  # a dispute takes back part of a released, unpaid creator fee


class PostingOut(msgspec.Struct, kw_only=True, frozen=True):
    account: AccountKind
    owner_id: UUID | None
    amount: int  # + debit, - credit


class EntryOut(msgspec.Struct, kw_only=True, frozen=True):
    id: int
    kind: EntryKind
    currency: str
    memo: str
    created_at: datetime
    postings: list[PostingOut]
