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

from contracts.common import Platform

Count = Annotated[int, Meta(ge=0, le=10**12)]


class SubmissionStatus(enum.StrEnum):
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
    deliverable: Annotated[
        int, Meta(ge=0, le=19, description="index into the deal's terms.deliverables")
    ]
    url: Annotated[
        str,
        Meta(
            pattern=r"^https://\S+$",
            max_length=500,
            description="the post, on the deliverable's platform",
        ),
    ]
    posted_at: Annotated[datetime, Meta(tz=True, description="when the post went live")]
    metrics: Metrics | None = None


class SubmissionOut(msgspec.Struct, kw_only=True, frozen=True):
    id: UUID
    deal_id: UUID
    deliverable: int
    platform: Platform
    url: str
    posted_at: datetime
    metrics: Metrics | None
    status: SubmissionStatus
    review_due_at: datetime  # after it the content is approved automatically
    reason: str | None  # why changes were requested, or how it was approved
    reviewed_at: datetime | None
    auto_approved: bool
    created_at: datetime


class SubmissionPage(msgspec.Struct, kw_only=True, frozen=True):
    items: list[SubmissionOut]
    next_cursor: str | None


class ReviewDecision(enum.StrEnum):
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"


class ReviewIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    decision: ReviewDecision
    reason: (
        Annotated[
            str,
            Meta(min_length=1, max_length=1000, description="required when requesting changes"),
        ]
        | None
    ) = None
