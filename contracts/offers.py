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
from contracts.pricing import QuoteLine

Revision = Annotated[
    int,
    Meta(
        ge=1,
        le=1000,
        description="the revision this write answers: the offer's `latest_revision`",
    ),
]
Message = Annotated[str, Meta(max_length=2000)]


class Side(enum.StrEnum):
    """The two sides of a negotiation."""

    MERCHANT = "merchant"
    KOL = "kol"


class OfferStatus(enum.StrEnum):
    """`open` while its latest revision waits for an answer; then `accepted` (a deal was
    made), `declined`, `withdrawn` or `expired` (nobody answered before `expires_at`)."""

    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class OfferOrigin(enum.StrEnum):
    """How an offer began: the merchant's invitation or the KOL's application."""

    INVITATION = "invitation"
    APPLICATION = "application"


class UsageScope(enum.StrEnum):
    """What the merchant may do with the content besides the KOL's own post."""

    NONE = "none"
    ORGANIC = "organic"
    PAID_MEDIA = "paid_media"


class UsageRights(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """What the merchant may do with the content, and for how many days."""

    scope: UsageScope = UsageScope.NONE
    days: Annotated[int, Meta(ge=0, le=3650, description="how long the rights last")] = 0


class DeliverableTerm(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """`count` pieces of one kind of content on one of the brief's platforms, due by `due_by`
    (within the brief's posting window)."""

    kind: Deliverable
    platform: Platform
    count: Annotated[int, Meta(ge=1, le=100)] = 1
    due_by: date


class Terms(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A full proposal. Commission on sales is min(GMV × commission_bp / 10 000, cap).

    `currency` must be the brief's; a `commission_cap` needs a `commission_bp` above 0;
    `expires_at` must be in the future and at most 30 days ahead; each deliverable must be on
    one of the brief's platforms and due within its posting window. Terms the merchant
    proposes must fit what remains of the brief's budget (fixed fee plus platform fee)."""

    fixed_fee: Annotated[
        int,
        Meta(ge=0, le=10**11, description="the creator fee, integer minor units of `currency`"),
    ]
    currency: Currency
    commission_bp: Annotated[
        int, Meta(ge=0, le=10_000, description="commission on sales, basis points")
    ] = 0
    commission_cap: (
        Annotated[
            int,
            Meta(
                ge=0,
                le=10**11,
                description="most commission the deal earns in all, minor units of `currency`",
            ),
        ]
        | None
    ) = None
    deliverables: Annotated[list[DeliverableTerm], Meta(min_length=1, max_length=20)]
    usage_rights: UsageRights = UsageRights()
    exclusivity_days: Annotated[
        int,
        Meta(
            ge=0,
            le=365,
            description="days the KOL agrees not to promote competing products",
        ),
    ] = 0
    expires_at: Annotated[datetime, Meta(tz=True, description="the offer lapses at this time")]


class InviteIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """The merchant invites a KOL to the brief with terms (revision 1)."""

    kol_id: UUID
    terms: Terms
    message: Message = ""


class ApplicationIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """The calling KOL applies to the brief with terms (revision 1)."""

    terms: Terms
    message: Message = ""


class CounterIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """New terms answering the latest revision (`revision`)."""

    revision: Revision
    terms: Terms
    message: Message = ""


class AnswerIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Accept, decline or withdraw the named revision."""

    revision: Revision


class Breakdown(msgspec.Struct, kw_only=True, frozen=True):
    """The numbers of one revision; `lines` are rounded once each and add up exactly. Money
    is integer minor units of `currency`."""

    currency: str
    rate_card_version: Annotated[str, Meta(description="the card whose take rate applies")]
    take_rate_bp: Annotated[int, Meta(description="the marketplace's fee rate, basis points")]
    attribution_days: int
    lines: list[QuoteLine]
    creator_fee: Annotated[int, Meta(description="the fixed fee")]
    platform_fee: Annotated[
        int, Meta(description="creator_fee × take_rate_bp / 10 000, rounded half to even")
    ]
    merchant_pays: Annotated[int, Meta(description="creator_fee + platform_fee")]
    commission_per_order: Annotated[
        int,
        Meta(
            description="commission on one order of the brief's average order value: "
            "min(average order value × commission_bp / 10 000, cap)"
        ),
    ]


class RevisionOut(msgspec.Struct, kw_only=True, frozen=True):
    """One revision: the full terms one side proposed, with their breakdown."""

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
    """An offer in a list: its latest revision's price, without the revisions."""

    fixed_fee: Annotated[int, Meta(description="integer minor units of `currency`")]
    merchant_pays: Annotated[int, Meta(description="fixed fee + platform fee, minor units")]
    currency: str
    expires_at: datetime
    deal_id: UUID | None
    created_at: datetime
    updated_at: datetime


class OfferPage(msgspec.Struct, kw_only=True, frozen=True):
    """A page of offers, newest first; `next_cursor` is null on the last page."""

    items: list[OfferSummary]
    next_cursor: str | None
