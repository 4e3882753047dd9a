"""Wire contract of deals: an accepted offer with its terms frozen and fingerprinted.

`terms_sha256` is the SHA-256 (hex) of the terms' canonical JSON: UTF-8, keys sorted, no
whitespace, integers only (money in minor units, rates in basis points), dates as
YYYY-MM-DD. Either side can recompute it from `terms` to check what it agreed to.

Every deal has a tracking link, `tracking_url`: it redirects buyers to the brief's product
page with a `kmk_click` query parameter (the click id) the shop reports back with orders.
"""

import enum
from datetime import date, datetime
from uuid import UUID

import msgspec

from contracts.common import Deliverable, Platform
from contracts.offers import UsageRights


class DealStatus(enum.StrEnum):
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
    kind: Deliverable
    platform: Platform
    count: int
    due_by: date


class DealTerms(msgspec.Struct, kw_only=True, frozen=True):
    """What both sides agreed to; `merchant_pays` = `fixed_fee` + `platform_fee`."""

    offer_id: UUID
    revision: int
    brief_id: UUID
    merchant_id: UUID
    kol_id: UUID
    currency: str
    fixed_fee: int
    platform_fee: int
    merchant_pays: int
    take_rate_bp: int
    rate_card_version: str
    commission_bp: int
    commission_cap: int | None
    attribution_days: int
    deliverables: list[DealDeliverable]
    usage_rights: UsageRights
    exclusivity_days: int


class DealOut(msgspec.Struct, kw_only=True, frozen=True):
    id: UUID
    offer_id: UUID
    brief_id: UUID
    merchant_id: UUID
    kol_id: UUID
    status: DealStatus
    terms: DealTerms
    terms_sha256: str
    merchant_accepted_at: datetime
    kol_accepted_at: datetime
    created_at: datetime
    tracking_code: str
    tracking_url: str


class DealPage(msgspec.Struct, kw_only=True, frozen=True):
    items: list[DealOut]
    next_cursor: str | None
