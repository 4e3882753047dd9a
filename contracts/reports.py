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
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from contracts.common import Platform, Tier
from contracts.deals import DealStatus


class Figures(msgspec.Struct, kw_only=True, frozen=True):
    """`conversions` counts orders that count (pending, approved or paid); `reach` and
    `engagement` (likes + comments + shares) add up the metrics KOLs submitted with their
    content; `repeat_buyers` are buyers with more than one counted order. Money is integer
    minor units of the brief's currency."""

    fixed_spend: Annotated[
        int, Meta(description="paid for deals (creator fee + platform fee) less refunds")
    ]
    commission_spend: Annotated[
        int, Meta(description="commissions booked once their holding period ended")
    ]
    pending_commission: Annotated[int, Meta(description="commissions counted, not yet booked")]
    spend: Annotated[int, Meta(description="fixed_spend + commission_spend")]
    clicks: int
    conversions: int
    gmv: Annotated[int, Meta(description="the counted orders' amounts added up")]
    roi_bp: (
        Annotated[
            int, Meta(description="(gmv − spend) / spend in basis points; null without spend")
        ]
        | None
    )
    cost_per_conversion: (
        Annotated[int, Meta(description="spend / conversions; null without conversions")] | None
    )
    reach: int
    engagement: int
    repeat_buyers: int


class DealReport(msgspec.Struct, kw_only=True, frozen=True):
    """One deal of the brief with its figures."""

    deal_id: UUID
    kol_id: UUID
    status: DealStatus
    figures: Figures


class Metric(enum.StrEnum):
    """A figure compared with the goals and the plan."""

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
    """A stage of the funnel, from people reached to repeat buyers."""

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
