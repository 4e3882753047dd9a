"""Wire contract of delivery: the KOL's content submissions and the merchant's review of them.

Each piece of each deliverable in the deal's terms is one submission (a post's URL on the
deliverable's platform). The merchant approves it or asks for changes within the brief's
review window; when the window ends, the content is approved automatically. When every piece
is approved the deal is approved and its escrow released to the KOL.
"""

import enum
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from contracts.common import Platform, spelled

Count = Annotated[int, Meta(ge=0, le=10**12)]


class SubmissionStatus(enum.StrEnum):
    """`submitted`: waits for the merchant's review; `changes_requested`: sent back, the KOL
    submits a new one for the deliverable; `approved`; `taken_down`: reported gone before its
    minimum live days (see its dispute)."""

    SUBMITTED = "submitted"  # waits for the merchant's review
    CHANGES_REQUESTED = "changes_requested"  # the KOL submits a new one for the deliverable
    APPROVED = "approved"
    TAKEN_DOWN = "taken_down"  # reported gone before its minimum live days; see its dispute


class Metrics(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """What the post showed when it was submitted, as the KOL reports it."""

    views: Count | None = None
    likes: Count | None = None
    comments: Count | None = None
    shares: Count | None = None


class SubmissionIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One piece of content for one of the deal's deliverables: the post's https URL on that
    deliverable's platform (one of its hosts), when it went live (not in the future), and
    optionally what it showed."""

    deliverable: Annotated[
        int, Meta(ge=0, le=19, description="index into the deal's terms.deliverables")
    ]
    url: Annotated[
        str,
        Meta(
            pattern=spelled(r"^https://\S+$"),
            max_length=500,
            description="the post, on the deliverable's platform",
        ),
    ]
    posted_at: Annotated[datetime, Meta(tz=True, description="when the post went live")]
    metrics: Metrics | None = None


class SubmissionOut(msgspec.Struct, kw_only=True, frozen=True):
    """A submission and where its review stands."""

    id: UUID
    deal_id: UUID
    deliverable: Annotated[int, Meta(description="index into the deal's terms.deliverables")]
    platform: Platform
    url: str
    posted_at: datetime
    metrics: Metrics | None
    status: SubmissionStatus
    review_due_at: Annotated[
        datetime,
        Meta(description="the end of the review window: then it is approved automatically"),
    ]
    reason: (
        Annotated[str, Meta(description="why changes were requested, or how it was approved")]
        | None
    )
    reviewed_at: datetime | None
    auto_approved: Annotated[
        bool, Meta(description="approved because the review window ended unanswered")
    ]
    created_at: datetime


class SubmissionPage(msgspec.Struct, kw_only=True, frozen=True):
    """A page of a deal's submissions, newest first; `next_cursor` is null on the last page."""

    items: list[SubmissionOut]
    next_cursor: str | None


class ReviewDecision(enum.StrEnum):
    """The merchant's review of a submission."""

    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"


class ReviewIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """The merchant's review of a submission: approve it, or request changes with a
    `reason` (required then)."""

    decision: ReviewDecision
    reason: (
        Annotated[
            str,
            Meta(min_length=1, max_length=1000, description="required when requesting changes"),
        ]
        | None
    ) = None
