"""Wire contract of the ledger: accounts, journal entries and the lines a statement shows.

Amounts are integer minor units. A posting's `amount` is positive for a debit and negative
for a credit; every journal entry's postings sum to zero. An account's `balance` is shown on
its normal side: what escrow holds, what a KOL is owed, what the platform earned.
"""

import enum
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta


class AccountKind(enum.StrEnum):
    """Ledger accounts: `merchant_escrow` (per deal: paid in, not yet released),
    `kol_payable` (per KOL: earned, not yet transferred), `platform_revenue` (fees earned),
    `merchant_receivable` (per merchant: commissions owed to the platform),
    `stripe_clearing` (money at Stripe in the platform's balance)."""

    MERCHANT_ESCROW = "merchant_escrow"  # per deal: what the merchant paid in, not yet released
    KOL_PAYABLE = "kol_payable"  # per KOL: earned, not yet transferred
    PLATFORM_REVENUE = "platform_revenue"  # platform fees earned
    MERCHANT_RECEIVABLE = "merchant_receivable"  # per merchant: owed to the platform
    STRIPE_CLEARING = "stripe_clearing"  # money at Stripe in our platform balance


class EntryKind(enum.StrEnum):
    """What a journal entry records: a deal's `funding`; its `release` to the KOL on
    approval; a `payout` transfer; a `refund`; a `commission` accrued; a merchant's
    `settlement` of accrued commissions; a dispute's `clawback` from an unpaid creator fee."""

    FUNDING = "funding"
    RELEASE = "release"
    PAYOUT = "payout"
    REFUND = "refund"
    COMMISSION = "commission"  # a commission accrued: owed by the merchant, earned by the KOL
    SETTLEMENT = "settlement"  # the merchant's off-session charge settling accrued commissions
    CLAWBACK = "clawback"  # a dispute takes back part of a released, unpaid creator fee


class PostingOut(msgspec.Struct, kw_only=True, frozen=True):
    """One line of a journal entry: an amount on one ledger account."""

    account: AccountKind
    owner_id: (
        Annotated[UUID, Meta(description="the deal, KOL or merchant the account belongs to")] | None
    )
    amount: Annotated[
        int, Meta(description="integer minor units: positive a debit, negative a credit")
    ]


class EntryOut(msgspec.Struct, kw_only=True, frozen=True):
    """A journal entry: balanced postings (they sum to zero) in one currency, never changed
    once written."""

    id: int
    kind: EntryKind
    currency: str
    memo: str
    created_at: datetime
    postings: list[PostingOut]
