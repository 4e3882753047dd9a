"""Pure rules of payments: which deal states allow which money movement, when a payout is
due, and the idempotency keys every Stripe call carries (derived from our own ids only, so a
retry after a crash sends the same key and Stripe answers with what it made the first time).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from contracts.deals import DealStatus
from services.errors import Invalid

CANCELLABLE = frozenset({DealStatus.AWAITING_FUNDING, DealStatus.FUNDED})
FUNDABLE = DealStatus.AWAITING_FUNDING
CLOSED_TO_PAYMENT = frozenset({DealStatus.CANCELLED, DealStatus.REFUNDED})
RELEASABLE = DealStatus.APPROVED


def funding_key(deal_id: UUID) -> str:
    return f"kolmarket-deal-{deal_id}-funding"


def cancel_key(deal_id: UUID) -> str:
    return f"kolmarket-deal-{deal_id}-funding-cancel"


def refund_key(deal_id: UUID, number: int) -> str:
    """The deal's `number`-th refund (1-based); a retry of the same refund repeats the number."""
    return f"kolmarket-deal-{deal_id}-refund-{number}"


def payout_account_key(kol_id: UUID) -> str:
    return f"kolmarket-kol-{kol_id}-payout-account"


def transfer_key(payout_id: UUID) -> str:
    return f"kolmarket-payout-{payout_id}-transfer"


def transfer_group(deal_id: UUID) -> str:
    return f"deal_{deal_id}"


def payout_due(approved_at: datetime, hold_days: int) -> datetime:
    """The holding period runs from approval; the money is due when it ends."""
    return approved_at + timedelta(days=hold_days)


def below_minimum(due_total: int, minimum: int) -> bool:
    """Transfers smaller than the minimum wait until the KOL's due payouts add up to it."""
    return due_total < minimum


UNPAID = frozenset({"scheduled", "paused"})


def is_overdue(status: str, due_at: datetime, now: datetime) -> bool:
    """Still owed to the KOL after its due date (a cancelled payout is owed nothing)."""
    return status in UNPAID and due_at < now


def stripe_currency(currency: str) -> str:
    return currency.lower()


def customer_key(merchant_id: UUID) -> str:
    return f"kolmarket-merchant-{merchant_id}-customer"


def settlement_key(settlement_id: UUID, attempt: int) -> str:
    """One charge per attempt: a crash replays the attempt, a recorded decline moves on."""
    return f"kolmarket-settlement-{settlement_id}-attempt-{attempt}"


def commission_key(accrual_id: UUID) -> str:
    return f"kolmarket-commission-{accrual_id}-transfer"


@dataclass(frozen=True, slots=True)
class RefundPlan:
    clawback: int  # taken back from the KOL's unpaid payout into escrow first
    escrow_after: int  # what escrow holds once the refund is made
    payout_after: int  # what the unpaid payout amounts to afterwards


def plan_refund(
    amount: int, held: int, unpaid_payout: int, released: bool, platform_fee: int
) -> RefundPlan:
    """A refund comes from escrow, then from the released but unpaid creator fee.

    Before release, escrow still holds the platform fee: a refund either takes everything or
    leaves more than the platform fee, so the creator keeps a share to release."""
    unpaid = held + unpaid_payout
    if amount > unpaid:
        raise Invalid(
            "refund_amount",
            f"refund_amount must be at most {unpaid} (escrow {held} + unpaid payout "
            f"{unpaid_payout})",
        )
    clawback = max(0, amount - held)
    escrow_after = held + clawback - amount
    if not released and 0 < escrow_after <= platform_fee:
        raise Invalid(
            "refund_amount",
            f"refund_amount must be {held} (everything) or leave more than the platform fee "
            f"({platform_fee}) in escrow, at most {held - platform_fee - 1}",
        )
    return RefundPlan(clawback, escrow_after, unpaid_payout - clawback)
