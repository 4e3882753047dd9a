"""Wire contract of a brief's campaign report: what was spent, what it brought, and how that
compares with the plan and the goals.

Money is integer minor units of the brief's currency. Spend comes from the ledger: `fixed_spend`
is what the merchant paid for deals (creator fee + platform fee) less refunds, and
`commission_spend` the commissions booked once their holding period ended;
`pending_commission` is counted but not booked yet. Ratios are basis points (`roi_bp = 2500`
is a return of 25 %); a ratio with nothing to divide by is null.
"""

import enum
from datetime import datetime
from uuid import UUID

import msgspec

from contracts.common import Platform, Tier
from contracts.deals import DealStatus


class Figures(msgspec.Struct, kw_only=True, frozen=True):
    """`conversions` counts orders that count (pending, approved or paid); `reach` and
    `engagement` (likes + comments + shares) add up the metrics KOLs submitted with their
    content; `repeat_buyers` are buyers with more than one counted order."""

    fixed_spend: int
    commission_spend: int
    pending_commission: int
    spend: int
    clicks: int
    conversions: int
    gmv: int
    roi_bp: int | None
    cost_per_conversion: int | None
    reach: int
    engagement: int
    repeat_buyers: int


class DealReport(msgspec.Struct, kw_only=True, frozen=True):
    deal_id: UUID
    kol_id: UUID
    status: DealStatus
    figures: Figures


class Metric(enum.StrEnum):
    SPEND = "spend"
    REACH = "reach"
    CONVERSIONS = "conversions"


class Comparison(msgspec.Struct, kw_only=True, frozen=True):
    """One figure: what the brief aimed for, what its plan expected, and what happened."""

    metric: Metric
    goal: int | None
    expected: int | None
    actual: int


class SegmentComparison(msgspec.Struct, kw_only=True, frozen=True):
    """One (platform, tier): what the adopted plan expected there, and what its deals did.

    A deal counts in the platform of its first deliverable and the tier of the KOL's account
    on that platform. Expected reach and conversions are rounded; spend is minor units."""

    platform: Platform
    tier: Tier
    expected_creators: int
    expected_spend: int
    expected_reach: int
    expected_conversions: int
    deals: int
    spend: int
    reach: int
    conversions: int


class Stage(enum.StrEnum):
    REACH = "reach"
    ENGAGEMENT = "engagement"
    CLICKS = "clicks"
    CONVERSIONS = "conversions"
    REPEAT_BUYERS = "repeat_buyers"


class FunnelStep(msgspec.Struct, kw_only=True, frozen=True):
    """`rate_bp`: this stage's count over the previous stage's."""

    stage: Stage
    count: int
    rate_bp: int | None


class BriefReport(msgspec.Struct, kw_only=True, frozen=True):
    """`plan_id` is the brief's adopted plan, which `against_plan` (in total) and
    `against_plan_by_segment` compare with; null (and no expectations) until one is adopted."""

    brief_id: UUID
    title: str
    currency: str
    generated_at: datetime
    plan_id: UUID | None
    total: Figures
    deals: list[DealReport]
    against_plan: list[Comparison]
    against_plan_by_segment: list[SegmentComparison]
    funnel: list[FunnelStep]
