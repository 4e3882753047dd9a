"""Wire contract of pricing: the versioned rate card, quote requests and quotes.

Money is integer minor units of the named currency; rates are basis points (1 bp = 0.01 %).
The formulas behind each field are in `pricing/README.md` and PRICING.md.
"""

from __future__ import annotations

import enum
from typing import Annotated

import msgspec
from msgspec import Meta

from contracts.common import Currency, Deliverable, Platform, Tier

MinorUnits = Annotated[int, Meta(ge=0, le=10**11, description="integer minor units")]
BasisPoints = Annotated[int, Meta(ge=0, le=10_000, description="1 bp = 0.01 %")]
Fraction01 = Annotated[float, Meta(ge=0.0, le=1.0)]
# An amount in an answer (no bounds to check): integer minor units of its `currency`.
Amount = Annotated[int, Meta(description="integer minor units of `currency`")]


class RateSource(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Where a group of rate-card values comes from."""

    applies_to: Annotated[str, Meta(min_length=1, max_length=200)]
    value: Annotated[str, Meta(max_length=500)]
    source: Annotated[str, Meta(min_length=1, max_length=2000)]


class RateCard(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Reference prices a quote is computed from; every quote names the version it used.

    - `cpm`: reference price per 1000 expected views of one standard deliverable (a feed
      post or short video), minor units of `currency`, per platform and tier.
    - `deliverable_multiplier_bp`: price of each deliverable kind relative to the standard
      one (10 000 = same price); the CPM of platform × tier × deliverable is
      `cpm[platform][tier] × deliverable_multiplier_bp[kind] / 10 000`.
    - `median_engagement_bp`: median engagement rate of accounts of a platform and tier.
    - `click_through_bp`: share of views that click through to the product, per platform.
    - `conversion_rate_bp`: share of clicks that buy.
    - `take_rate_bp`: the marketplace's fee on the creator fee, paid by the merchant.
    - `authenticity_floor_bp`: accounts scoring below it are not quoted.
    - `engagement_ratio_min_bp` / `_max_bp`: clamp of engagement ÷ tier median.
    """

    version: Annotated[str, Meta(min_length=1, max_length=64)]
    currency: Currency
    cpm: dict[Platform, dict[Tier, MinorUnits]]
    deliverable_multiplier_bp: dict[Deliverable, Annotated[int, Meta(ge=0, le=100_000)]]
    median_engagement_bp: dict[Platform, dict[Tier, Annotated[int, Meta(ge=1, le=10_000)]]]
    click_through_bp: dict[Platform, BasisPoints]
    conversion_rate_bp: BasisPoints
    take_rate_bp: BasisPoints
    authenticity_floor_bp: BasisPoints
    engagement_ratio_min_bp: Annotated[int, Meta(ge=0, le=100_000)] = 7_000
    engagement_ratio_max_bp: Annotated[int, Meta(ge=0, le=100_000)] = 15_000
    sources: Annotated[list[RateSource], Meta(max_length=200)] = []


class AccountMetrics(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """The creator's account on one platform, as measured on recent posts."""

    platform: Platform
    followers: Annotated[int, Meta(ge=0, le=5_000_000_000)]
    median_views: Annotated[int, Meta(ge=0, le=10_000_000_000)]
    engagement_rate: Fraction01
    authenticity: Fraction01


class DeliverableOrder(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """How many pieces of one kind of content are quoted."""

    kind: Deliverable
    count: Annotated[int, Meta(ge=1, le=100)] = 1


class ProductTerms(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """The product a quote's commission lines are priced for: its average order value
    (integer minor units) and the commission on sales (basis points)."""

    average_order_value: MinorUnits
    commission_bp: BasisPoints = 0


class QuoteRequest(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Price one deliverable order of one account for one product, in `currency`."""

    account: AccountMetrics
    deliverable: DeliverableOrder
    product: ProductTerms
    currency: Currency


class LineCode(enum.StrEnum):
    """The money lines of a quote or an offer's breakdown."""

    BASE_FEE = "base_fee"
    ENGAGEMENT_ADJUSTMENT = "engagement_adjustment"
    AUTHENTICITY_ADJUSTMENT = "authenticity_adjustment"
    CREATOR_FEE = "creator_fee"
    PLATFORM_FEE = "platform_fee"
    MERCHANT_PAYS = "merchant_pays"
    COMMISSION_PER_CONVERSION = "commission_per_conversion"
    EXPECTED_COMMISSION = "expected_commission"


InputValue = int | float | str


class QuoteLine(msgspec.Struct, kw_only=True, frozen=True):
    """One money line: rounded once, half to even, to a whole minor unit."""

    code: LineCode
    label: str
    formula: Annotated[str, Meta(description="how `amount` is computed from `inputs`, in words")]
    inputs: dict[str, InputValue]
    amount: Annotated[int, Meta(description="integer minor units")]


class QuoteEstimate(msgspec.Struct, kw_only=True, frozen=True):
    """An expected quantity (not money) with the formula that produced it."""

    code: str
    label: str
    formula: str
    inputs: dict[str, InputValue]
    value: float


class Quote(msgspec.Struct, kw_only=True, frozen=True):
    """A transparent price: `lines` add up to the totals exactly.

    creator_fee = base_fee + engagement_adjustment + authenticity_adjustment;
    merchant_pays = creator_fee + platform_fee. Unit costs are minor units rounded half to
    even; `cost_per_engagement` and `cost_per_expected_conversion` are null when nothing
    is expected.
    """

    rate_card_version: str
    currency: str
    tier: Tier
    lines: list[QuoteLine]
    estimates: list[QuoteEstimate]
    creator_fee: Amount
    platform_fee: Amount
    merchant_pays: Amount
    commission_per_conversion: Amount
    expected_views: int
    expected_engagements: float
    expected_conversions: float
    effective_cpm: Annotated[
        int, Meta(description="merchant_pays per 1000 expected views, integer minor units")
    ]
    cost_per_engagement: Amount | None
    cost_per_expected_conversion: Amount | None
