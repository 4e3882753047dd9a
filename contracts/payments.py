"""Wire contract of payments: funding a deal, KOL payout accounts, payouts, refunds, statements.

Money is integer minor units with its ISO 4217 currency beside it.
"""

import enum
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from contracts.common import spelled
from contracts.deals import DealStatus
from contracts.ledger import EntryKind, EntryOut


class FundingStatus(enum.StrEnum):
    """`pending`: the PaymentIntent waits for the merchant's payment; `succeeded`; `failed`;
    `unknown`: Stripe's answer to making the PaymentIntent is being confirmed."""

    PENDING = "pending"  # the PaymentIntent waits for the merchant's payment
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"  # Stripe's answer to making the PaymentIntent is being confirmed


class FundingOut(msgspec.Struct, kw_only=True, frozen=True):
    """The deal's one PaymentIntent; the browser confirms it with `client_secret`. While
    Stripe's answer to making it is being confirmed, `status` is `unknown` and both are null."""

    deal_id: UUID
    payment_intent_id: str | None
    client_secret: str | None
    amount: Annotated[
        int, Meta(description="what the merchant pays: creator fee + platform fee, minor units")
    ]
    currency: str
    status: FundingStatus


class PayoutAccountIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Where the KOL's Stripe Express account is opened (used only the first time) and where
    Stripe's onboarding sends the KOL back."""

    country: Annotated[
        str, Meta(pattern="^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country of the account")
    ] = "US"
    return_url: Annotated[
        str,
        Meta(
            pattern=spelled(r"^https?://\S{1,2000}$"),
            description="where Stripe sends the KOL when onboarding is done",
        ),
    ]
    refresh_url: Annotated[
        str,
        Meta(
            pattern=spelled(r"^https?://\S{1,2000}$"),
            description="where Stripe sends the KOL when the onboarding link expired",
        ),
    ]


class PayoutAccountOut(msgspec.Struct, kw_only=True, frozen=True):
    """A KOL's Stripe Express account; `ready` once Stripe lets it receive payouts."""

    stripe_account_id: str
    ready: bool
    details_submitted: bool
    onboarding_url: str | None = None


class PayoutStatus(enum.StrEnum):
    """`scheduled`: waits for its due date; `paused`: a dispute holds it; `paid`;
    `cancelled`: a dispute's refund took back all of it."""

    SCHEDULED = "scheduled"  # waits for its due date
    PAUSED = "paused"  # a dispute holds it
    PAID = "paid"
    CANCELLED = "cancelled"  # a dispute's refund took back all of it


class PayoutOut(msgspec.Struct, kw_only=True, frozen=True):
    """The payout of a deal's creator fee to its KOL, made once the brief's payout holding
    period after approval has passed."""

    id: UUID
    deal_id: UUID
    kol_id: UUID
    amount: Annotated[int, Meta(description="integer minor units of `currency`")]
    currency: str
    status: PayoutStatus
    due_at: Annotated[
        datetime, Meta(description="when the money is promised to leave for the KOL's account")
    ]
    overdue: Annotated[bool, Meta(description="past `due_at` and still owed (scheduled or paused)")]
    attempts: Annotated[int, Meta(description="transfer attempts made")]
    last_error: str | None
    transfer_id: Annotated[str, Meta(description="the Stripe transfer, once paid")] | None
    paid_at: datetime | None


class PayoutPage(msgspec.Struct, kw_only=True, frozen=True):
    """Payouts, oldest due first."""

    items: list[PayoutOut]


class EarningLine(msgspec.Struct, kw_only=True, frozen=True):
    """One movement of what the platform owes the KOL: + earned (release), - paid out."""

    entry_id: int
    kind: EntryKind
    deal_id: UUID | None
    amount: Annotated[
        int, Meta(description="minor units of `currency`: positive earned, negative paid out")
    ]
    currency: str
    created_at: datetime


class EarningsOut(msgspec.Struct, kw_only=True, frozen=True):
    """A KOL's payouts, every expected date and every ledger line behind them."""

    kol_id: UUID
    payout_account_ready: bool
    payouts: list[PayoutOut]
    owed: Annotated[
        dict[str, int],
        Meta(
            description="per currency: released to the KOL and not yet transferred, integer "
            "minor units"
        ),
    ]
    minimum_payout: Annotated[
        int,
        Meta(description="minor units: smaller due payouts wait until they add up to it"),
    ]
    lines: list[EarningLine]


class RefundOut(msgspec.Struct, kw_only=True, frozen=True):
    """Money Stripe returned to the merchant's card from the deal's escrow."""

    id: UUID
    deal_id: UUID
    amount: Annotated[int, Meta(description="integer minor units of `currency`")]
    currency: str
    reason: Annotated[str, Meta(description="`cancelled` (the deal was cancelled) or `dispute`")]
    stripe_refund_id: str
    created_at: datetime


class OperationKind(enum.StrEnum):
    """What a call to Stripe does: `funding` (the deal's PaymentIntent), `funding_cancel`
    (that PaymentIntent cancelled with its deal), `refund`, `payout` (the creator fee's
    transfer to the KOL), `commission` (the KOL's share of a settled commission),
    `settlement` and `settlement_retry` (the off-session charge of a commission settlement),
    `payout_account` (a KOL's Express account), `customer` (a merchant's Stripe customer)."""

    FUNDING = "funding"  # the deal's PaymentIntent
    FUNDING_CANCEL = "funding_cancel"  # that PaymentIntent cancelled with its deal
    REFUND = "refund"  # escrow back to the merchant's card
    PAYOUT = "payout"  # a transfer of the creator fee to the KOL's connected account
    COMMISSION = "commission"  # a transfer of the KOL's share of a settled commission
    SETTLEMENT = "settlement"  # the off-session charge of a commission settlement
    SETTLEMENT_RETRY = "settlement_retry"  # that charge's PaymentIntent confirmed again
    PAYOUT_ACCOUNT = "payout_account"  # a KOL's Connect Express account
    CUSTOMER = "customer"  # a merchant's Stripe customer


class OperationStatus(enum.StrEnum):
    """`pending`: decided, not yet sent; `sent`: being sent; `succeeded`; `failed`: Stripe
    refused it and nothing moved; `unknown`: Stripe's answer was lost and is being
    confirmed."""

    PENDING = "pending"  # decided, not yet sent to Stripe
    SENT = "sent"  # being sent
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # Stripe refused it; nothing moved
    UNKNOWN = "unknown"  # Stripe's answer was lost; it is being confirmed


class PaymentOperationOut(msgspec.Struct, kw_only=True, frozen=True):
    """One call to Stripe about the deal's money (a PaymentIntent, refund or transfer), with
    its outcome; an unsettled one holds back any other movement of the same money."""

    id: UUID
    kind: OperationKind
    amount: Annotated[int, Meta(description="integer minor units of `currency`")] | None
    currency: str | None
    status: OperationStatus
    stripe_id: str | None
    error: str | None
    created_at: datetime


class DealStatement(msgspec.Struct, kw_only=True, frozen=True):
    """Every movement of a deal's money, with the totals both sides see. Money is integer
    minor units of `currency`."""

    deal_id: UUID
    status: DealStatus
    currency: str
    merchant_pays: Annotated[int, Meta(description="creator fee + platform fee")]
    creator_fee: int
    platform_fee: int
    funded: Annotated[int, Meta(description="paid in by the merchant")]
    in_escrow: Annotated[int, Meta(description="held now, not yet released or refunded")]
    refunded: Annotated[int, Meta(description="returned to the merchant")]
    payout: PayoutOut | None
    refunds: list[RefundOut]
    entries: list[EntryOut]
    funding_status: FundingStatus | None = None
    operations: list[PaymentOperationOut] = []


class PaymentMethodIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A card the merchant entered with Stripe.js, saved for commission settlements."""

    payment_method: Annotated[str, Meta(pattern=r"^pm_[A-Za-z0-9_]{1,200}$")]


class BillingOut(msgspec.Struct, kw_only=True, frozen=True):
    """The merchant's Stripe customer and the card saved as its default."""

    stripe_customer_id: str
    payment_method_id: str
    card_last4: str | None


class SettlementStatus(enum.StrEnum):
    """`pending`; `failed`: the charge was declined and is retried on the next run; `paid`."""

    PENDING = "pending"
    FAILED = "failed"  # the charge was declined; it is retried on the next run
    PAID = "paid"


class SettlementOut(msgspec.Struct, kw_only=True, frozen=True):
    """One off-session charge of the merchant's saved card for accrued commissions."""

    id: UUID
    currency: str
    amount: Annotated[int, Meta(description="integer minor units of `currency`")]
    status: SettlementStatus
    attempts: int
    last_error: str | None
    payment_intent_id: str | None
    paid_at: datetime | None
    created_at: datetime


class SettlementPage(msgspec.Struct, kw_only=True, frozen=True):
    """The merchant's commission settlements, newest first (at most 200)."""

    items: list[SettlementOut]


class WebhookAck(msgspec.Struct, kw_only=True, frozen=True):
    """Stripe's event was received; `duplicate` when it had been processed before."""

    received: bool
    duplicate: bool
