"""Pure rules of disputes: which content may be reported taken down, and how much of a deal
an operator's refund may take back and from where."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts.deals import DealStatus
from services.delivery.rules import CLOCK_SKEW
from services.errors import Conflict, Invalid

# Deals whose approved content can be reported taken down.
REPORTABLE = frozenset(
    {DealStatus.CONTENT_SUBMITTED, DealStatus.APPROVED, DealStatus.PAID, DealStatus.CLOSED}
)


def check_reportable(status: str) -> None:
    if status == DealStatus.DISPUTED:
        raise Conflict("a dispute is already open on this deal")
    if status not in REPORTABLE:
        raise Conflict(f"a {status} deal has no approved content to report")


def check_observed_at(observed_at: datetime, posted_at: datetime, now: datetime) -> None:
    if observed_at > now + CLOCK_SKEW:
        raise Invalid("observed_at", "observed_at must not be in the future")
    if observed_at < posted_at:
        raise Invalid("observed_at", f"observed_at must not be before the post ({posted_at})")


def check_taken_down_early(posted_at: datetime, observed_at: datetime, min_live_days: int) -> None:
    """Content gone only after its agreed live days is no breach."""
    if observed_at >= posted_at + timedelta(days=min_live_days):
        raise Conflict(f"the content stayed live for the agreed {min_live_days} days")


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
