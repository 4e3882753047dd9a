"""Wire contract of deals: an accepted offer with its terms frozen and fingerprinted.

`terms_sha256` is the SHA-256 (hex) of the terms' canonical JSON: UTF-8, keys sorted, no
whitespace, integers only (money in minor units, rates in basis points), dates as
YYYY-MM-DD. Either side can recompute it from `terms` to check what it agreed to.

Every deal has a tracking link, `tracking_url`: it redirects buyers to the brief's product
page with a `kmk_click` query parameter (the click id) the shop reports back with orders.
"""

import enum
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from contracts.common import Deliverable, Platform
from contracts.offers import UsageRights


class DealStatus(enum.StrEnum):
    """`awaiting_funding` → `funded` (the merchant's payment is in escrow) →
    `content_submitted` → `approved` (escrow released, payout scheduled) → `paid` → `closed`
    (past the attribution window). `cancelled` before funding, `refunded` when a funded deal
    is cancelled or a dispute refunds everything; `disputed` while a takedown dispute is
    open."""

    AWAITING_FUNDING = "awaiting_funding"
    FUNDED = "funded"
    CONTENT_SUBMITTED = "content_submitted"
    APPROVED = "approved"
    PAID = "paid"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    DISPUTED = "disputed"


class DealDeliverable(msgspec.Struct, kw_only=True, frozen=True):
    """`count` pieces of one kind of content on one platform, due by `due_by`."""

    kind: Deliverable
    platform: Platform
    count: int
    due_by: date


class DealTerms(msgspec.Struct, kw_only=True, frozen=True):
    """What both sides agreed to, frozen from the accepted revision; `merchant_pays` =
    `fixed_fee` + `platform_fee`. Money is integer minor units of `currency`, rates basis
    points."""

    offer_id: UUID
    revision: Annotated[int, Meta(description="the accepted revision of the offer")]
    brief_id: UUID
    merchant_id: UUID
    kol_id: UUID
    currency: str
    fixed_fee: Annotated[int, Meta(description="the creator fee (minor units)")]
    platform_fee: Annotated[
        int, Meta(description="fixed_fee × take_rate_bp / 10 000, rounded half to even")
    ]
    merchant_pays: Annotated[int, Meta(description="fixed_fee + platform_fee (minor units)")]
    take_rate_bp: Annotated[int, Meta(description="the marketplace's fee rate, basis points")]
    rate_card_version: str
    commission_bp: Annotated[int, Meta(description="commission on sales, basis points")]
    commission_cap: (
        Annotated[int, Meta(description="most commission the deal earns in all (minor units)")]
        | None
    )
    attribution_days: Annotated[
        int,
        Meta(
            description="an order earns commission within this many days of its click "
            "(without a click, from the deal's start), and never later than this many days "
            "after the content was approved"
        ),
    ]
    deliverables: list[DealDeliverable]
    usage_rights: UsageRights
    exclusivity_days: int


class DealOut(msgspec.Struct, kw_only=True, frozen=True):
    """A deal: an accepted offer with its terms frozen. Proposing a revision counts as
    accepting it, so the side that proposed the accepted revision accepted when it proposed
    it and the other side when it accepted."""

    id: UUID
    offer_id: UUID
    brief_id: UUID
    merchant_id: UUID
    kol_id: UUID
    status: DealStatus
    terms: DealTerms
    terms_sha256: Annotated[
        str,
        Meta(
            description="SHA-256 (hex) of `terms` as canonical JSON: UTF-8, keys sorted, no "
            "whitespace"
        ),
    ]
    merchant_accepted_at: datetime
    kol_accepted_at: datetime
    created_at: datetime
    tracking_code: Annotated[
        str, Meta(description="the code partners report orders with (`tracking_code`)")
    ]
    tracking_url: Annotated[
        str,
        Meta(
            description="the KOL's link: it redirects to the product page with a `kmk_click` "
            "click id"
        ),
    ]


class DealPage(msgspec.Struct, kw_only=True, frozen=True):
    """A page of deals, newest first; `next_cursor` is null on the last page."""

    items: list[DealOut]
    next_cursor: str | None
