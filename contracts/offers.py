"""Wire contract of offers: a negotiation between one brief and one KOL, as revisions.

Each revision is a full set of terms proposed by one side, with the breakdown both sides see:
creator fee (the fixed fee), platform fee (fixed fee × take rate, rounded half to even), what
the merchant pays (their sum) and the commission terms. Every write names the revision it
answers; only the side that did not propose the latest revision may accept, counter or
decline it, and only its proposer may withdraw it.
"""

import enum
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from contracts.common import Currency, Deliverable, Platform
from contracts.pricing import BasisPoints, MinorUnits, QuoteLine

Revision = Annotated[int, Meta(ge=1, le=1000, description="the revision this write answers")]
Message = Annotated[str, Meta(max_length=2000)]


class Side(enum.StrEnum):
    MERCHANT = "merchant"
    KOL = "kol"


class OfferStatus(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class OfferOrigin(enum.StrEnum):
    INVITATION = "invitation"
    APPLICATION = "application"


class UsageScope(enum.StrEnum):
    """What the merchant may do with the content besides the KOL's own post."""

    NONE = "none"
    ORGANIC = "organic"
    PAID_MEDIA = "paid_media"


class UsageRights(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    scope: UsageScope = UsageScope.NONE
    days: Annotated[int, Meta(ge=0, le=3650, description="how long the rights last")] = 0


class DeliverableTerm(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    kind: Deliverable
    platform: Platform
    count: Annotated[int, Meta(ge=1, le=100)] = 1
    due_by: date


class Terms(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A full proposal. Commission on sales is min(GMV × commission_bp / 10 000, cap)."""

    fixed_fee: MinorUnits
    currency: Currency
    commission_bp: BasisPoints = 0
    commission_cap: MinorUnits | None = None
    deliverables: Annotated[list[DeliverableTerm], Meta(min_length=1, max_length=20)]
    usage_rights: UsageRights = UsageRights()
    exclusivity_days: Annotated[int, Meta(ge=0, le=365)] = 0
    expires_at: Annotated[datetime, Meta(tz=True, description="the offer lapses at this time")]


class InviteIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    kol_id: UUID
    terms: Terms
    message: Message = ""


class ApplicationIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    terms: Terms
    message: Message = ""


class CounterIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    revision: Revision
    terms: Terms
    message: Message = ""


class AnswerIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Accept, decline or withdraw the named revision."""

    revision: Revision


class Breakdown(msgspec.Struct, kw_only=True, frozen=True):
    """The numbers of one revision; `lines` are rounded once each and add up exactly."""

    currency: str
    rate_card_version: str
    take_rate_bp: int
    attribution_days: int
    lines: list[QuoteLine]
    creator_fee: int
    platform_fee: int
    merchant_pays: int
    commission_per_order: int


class RevisionOut(msgspec.Struct, kw_only=True, frozen=True):
    number: int
    proposed_by: Side
    terms: Terms
    breakdown: Breakdown
    message: str
    created_at: datetime


class _OfferState(msgspec.Struct, kw_only=True, frozen=True):
    """Who an offer is between, and where its negotiation stands."""

    id: UUID
    brief_id: UUID
    merchant_id: UUID
    kol_id: UUID
    origin: OfferOrigin
    status: OfferStatus
    latest_revision: int
    proposed_by: Side
    awaiting: Side | None


class OfferOut(_OfferState, kw_only=True, frozen=True):
    """`awaiting` is the side that may answer the latest revision (null once closed)."""

    expires_at: datetime
    deal_id: UUID | None
    created_at: datetime
    updated_at: datetime
    revisions: list[RevisionOut]


class OfferSummary(_OfferState, kw_only=True, frozen=True):
    fixed_fee: int
    merchant_pays: int
    currency: str
    expires_at: datetime
    deal_id: UUID | None
    created_at: datetime
    updated_at: datetime


class OfferPage(msgspec.Struct, kw_only=True, frozen=True):
    items: list[OfferSummary]
    next_cursor: str | None
