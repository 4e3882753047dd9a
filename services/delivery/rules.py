"""Pure rules of delivery: where a submission may live, when it may be submitted and reviewed,
and when a deal's content is complete."""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from contracts.common import Platform
from contracts.deals import DealDeliverable, DealStatus
from contracts.delivery import SubmissionStatus
from services.catalog.rules import PLATFORM_HOSTS
from services.errors import Conflict, Invalid

SUBMITTABLE = frozenset({DealStatus.FUNDED, DealStatus.CONTENT_SUBMITTED})
# A submission waiting for review can still be reviewed while its deal is in dispute.
REVIEWABLE = frozenset({DealStatus.CONTENT_SUBMITTED, DealStatus.DISPUTED})
LIVE = ("submitted", "approved")
CLOCK_SKEW = timedelta(minutes=5)
S = SubmissionStatus
# Where a submission may go from each state; a dispute takes approved content down and, decided
# for the KOL, restores it.
SUBMISSION_MOVES: dict[SubmissionStatus, frozenset[SubmissionStatus]] = {
    S.SUBMITTED: frozenset({S.APPROVED, S.CHANGES_REQUESTED}),
    S.APPROVED: frozenset({S.TAKEN_DOWN}),
    S.TAKEN_DOWN: frozenset({S.APPROVED}),
    S.CHANGES_REQUESTED: frozenset(),
}
AUTO_APPROVED = "approved automatically: the review window ended"


def deliverable_of(deliverables: Sequence[DealDeliverable], index: int) -> DealDeliverable:
    if index >= len(deliverables):
        raise Invalid(
            "deliverable", f"deliverable must be an index below {len(deliverables)} (the terms')"
        )
    return deliverables[index]


def check_url(platform: Platform, url: str) -> None:
    """The post must be on the deliverable's platform (one of its hosts or their subdomains)."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        raise Invalid("url", "url is not a valid link") from None
    allowed = PLATFORM_HOSTS[platform]
    if not any(host == h or host.endswith("." + h) for h in allowed):
        raise Invalid("url", f"a {platform} post must be on {' or '.join(allowed)}")


def check_posted_at(posted_at: datetime, now: datetime) -> None:
    if posted_at > now + CLOCK_SKEW:
        raise Invalid("posted_at", "posted_at must not be in the future")


def check_submittable(status: str) -> None:
    if status not in SUBMITTABLE:
        raise Conflict(f"a {status} deal takes no submissions")


def check_room(deliverable: DealDeliverable, live: int) -> None:
    if live >= deliverable.count:
        raise Conflict(
            f"this deliverable already has its {deliverable.count} piece(s) submitted or approved"
        )


def review_due(now: datetime, review_days: int) -> datetime:
    return now + timedelta(days=review_days)


def check_changes_allowed(review_due_at: datetime, now: datetime) -> None:
    """Past the review window the content is (being) approved automatically."""
    if now >= review_due_at:
        raise Conflict(
            "the review window ended: the content was approved automatically and can no "
            "longer be sent back"
        )


def complete(deliverables: Sequence[DealDeliverable], approved: Mapping[int, int]) -> bool:
    """Every piece of every deliverable has an approved submission."""
    return all(approved.get(i, 0) >= d.count for i, d in enumerate(deliverables))
