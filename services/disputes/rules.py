"""Pure rules of disputes: which content may be reported taken down, and when."""

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
