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
    TAKEDOWN = "takedown"


class DisputeOpener(enum.StrEnum):
    MERCHANT = "merchant"
    PARTNER = "partner"
    OPERATOR = "operator"


class DisputeStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class DisputeOutcome(enum.StrEnum):
    PAY_KOL = "pay_kol"
    REFUND = "refund"


class TakedownIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    submission_id: UUID
    observed_at: Annotated[datetime, Meta(tz=True, description="when the content was found gone")]
    note: Note


class ResolveIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
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
    id: UUID
    deal_id: UUID
    submission_id: UUID | None
    kind: DisputeKind
    opened_by: DisputeOpener
    note: str
    observed_at: datetime | None
    prior_status: DealStatus  # where the deal goes back to when it resolves
    status: DisputeStatus
    outcome: DisputeOutcome | None
    refund_amount: int | None
    resolution_note: str | None
    resolved_at: datetime | None
    created_at: datetime


class DisputePage(msgspec.Struct, kw_only=True, frozen=True):
    items: list[DisputeOut]
    next_cursor: str | None
