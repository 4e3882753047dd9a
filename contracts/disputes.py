"""Wire contract of disputes: a merchant's report that approved content was taken down before
its agreed minimum live days, and an operator's resolution of it.

While a dispute is open the deal is `disputed` and its payout paused. The operator either pays
the KOL (the deal and payout resume) or refunds the merchant part of what the KOL has not been
paid yet (escrow, then the unpaid payout).
"""

import enum
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from contracts.deals import DealStatus

Note = Annotated[str, Meta(min_length=1, max_length=2000)]


class DisputeKind(enum.StrEnum):
    """What a dispute is about: approved content taken down too early."""

    TAKEDOWN = "takedown"


class DisputeOpener(enum.StrEnum):
    """Who reported: the merchant's member, its partner (API key) or an operator."""

    MERCHANT = "merchant"
    PARTNER = "partner"
    OPERATOR = "operator"


class DisputeStatus(enum.StrEnum):
    """`open` until an operator resolves it."""

    OPEN = "open"
    RESOLVED = "resolved"


class DisputeOutcome(enum.StrEnum):
    """An operator's decision: pay the KOL (the deal resumes), or refund the merchant."""

    PAY_KOL = "pay_kol"
    REFUND = "refund"


class TakedownIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A report that an approved submission of the deal was taken down: `observed_at` must
    not be in the future nor before the post went live, and must fall within the brief's
    minimum live days after it went live."""

    submission_id: UUID
    observed_at: Annotated[datetime, Meta(tz=True, description="when the content was found gone")]
    note: Note


class ResolveIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """An operator's decision: `pay_kol` (without `refund_amount`), or `refund` of
    `refund_amount` to the merchant, at most what escrow and the KOL's unpaid payout still
    hold."""

    outcome: DisputeOutcome
    refund_amount: (
        Annotated[
            int,
            Meta(ge=1, le=10**11, description="minor units; required when the outcome is refund"),
        ]
        | None
    ) = None
    note: Note


class DisputeOut(msgspec.Struct, kw_only=True, frozen=True):
    """A dispute with its report and, once resolved, the operator's decision."""

    id: UUID
    deal_id: UUID
    submission_id: UUID | None
    kind: DisputeKind
    opened_by: DisputeOpener
    note: str
    observed_at: datetime | None
    prior_status: Annotated[
        DealStatus, Meta(description="where the deal goes back to when the dispute resolves")
    ]
    status: DisputeStatus
    outcome: DisputeOutcome | None
    refund_amount: (
        Annotated[
            int, Meta(description="refunded to the merchant, minor units of the deal's currency")
        ]
        | None
    )
    resolution_note: str | None
    resolved_at: datetime | None
    created_at: datetime


class DisputePage(msgspec.Struct, kw_only=True, frozen=True):
    """A page of disputes, newest first; `next_cursor` is null on the last page."""

    items: list[DisputeOut]
    next_cursor: str | None
