"""Plans as API resources: saved allocations and selections, their lifecycle, where their numbers
come from, and the creators a selection names.

The problems themselves are `contracts.planning`'s structs; a plan resource wraps one with its
state and its result. A plan ends `solved` (saying why it stopped), `infeasible` (with the
diagnosis), `failed` (with a problem object naming the cause) or `cancelled`; while it runs it
shows the best value and bound found so far.
"""

import enum
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from contracts.common import Deliverable, Platform, Tier
from contracts.planning import (
    AllocationPlan,
    Diagnosis,
    Objective,
    SelectionPlan,
    ShareRange,
)
from contracts.pricing import InputValue, Quote


class PlanKind(enum.StrEnum):
    """`allocation`: how many creators per (platform, tier); `selection`: which creators."""

    ALLOCATION = "allocation"
    SELECTION = "selection"


class PlanState(enum.StrEnum):
    """`queued` → `running` → `solved`, `infeasible`, `failed` or `cancelled`."""

    QUEUED = "queued"
    RUNNING = "running"
    SOLVED = "solved"
    INFEASIBLE = "infeasible"
    FAILED = "failed"
    CANCELLED = "cancelled"


class PlanStopReason(enum.StrEnum):
    """Why the search of a solved plan stopped: the plan is proven optimal, its proven gap
    reached the problem's `gap_limit`, or its `time_limit_seconds` ran out first."""

    OPTIMAL = "optimal"
    GAP_REACHED = "gap_reached"
    TIME_LIMIT = "time_limit"


class PlanProblem(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """Why a plan failed, as an RFC 9457 problem object; `field` names the input at fault."""

    type: str
    title: str
    detail: str
    field: str | None = None


class Progress(msgspec.Struct, kw_only=True, frozen=True):
    """A running plan's search so far: the best plan's objective value and the proven bound."""

    objective_value: float | None
    bound: float | None
    gap: float | None
    updated_at: datetime


class Figure(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """A derived number with its source in words and the inputs it came from."""

    value: int | float
    source: str
    inputs: dict[str, InputValue] = {}


class SegmentDerivation(msgspec.Struct, kw_only=True, frozen=True):
    """How one (platform, tier) segment of a derived allocation was made from the catalog."""

    platform: Platform
    tier: Tier
    available: Figure
    fee: Figure
    reach: Figure
    audience: Figure
    cvr: Figure
    commission_per_conversion: Figure


class CandidateDerivation(msgspec.Struct, kw_only=True, frozen=True):
    """How a derived selection's candidates were made: one per matching account."""

    accounts: int
    refused: int
    fee: str
    reach: str
    conversions: str


class Matching(msgspec.Struct, kw_only=True, frozen=True):
    """The catalog accounts a derived plan draws from (an empty list: any)."""

    platforms: list[Platform]
    tiers: list[Tier]
    categories: list[str]
    regions: list[str]
    segments: list[str]
    min_followers: int
    min_authenticity: float
    payout_ready_required: bool
    kols_already_engaged: int


class Derivation(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """Where a derived plan's numbers come from: the rate card, the catalog accounts matched,
    the deliverables and product priced (one of each deliverable per creator, commission at
    `commission_bp` of `average_order_value`), each target, and each segment or the
    candidates."""

    rate_card_version: str
    matching: Matching
    deliverables: list[Deliverable]
    currency: str
    average_order_value: int
    commission_bp: int
    targets: dict[str, Figure]
    segments: list[SegmentDerivation] = []
    candidates: CandidateDerivation | None = None


class PlanOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A plan: `allocation` or `selection` once solved (with `stop_reason`), `diagnosis` when
    infeasible, `failure` when failed, `progress` while running. A derived plan carries its
    `derivation`; a derived selection's creators page at `creators_url`."""

    id: UUID
    kind: PlanKind
    status: PlanState
    brief_id: UUID | None = None
    source_plan_id: UUID | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    adopted_at: datetime | None = None
    status_url: Annotated[str, Meta(description="the plan's path, `/v1/plans/{id}`")]
    stop_reason: PlanStopReason | None = None
    rate_card_version: str | None = None
    allocation: AllocationPlan | None = None
    selection: SelectionPlan | None = None
    diagnosis: Diagnosis | None = None
    progress: Progress | None = None
    failure: PlanProblem | None = None
    error: Annotated[str, Meta(description="the failure's detail, as text")] | None = None
    derivation: Derivation | None = None
    creators_url: str | None = None


class PlanSummary(msgspec.Struct, kw_only=True, frozen=True):
    """A plan in a brief's list: where it stands and, once solved, its totals."""

    id: UUID
    kind: PlanKind
    status: PlanState
    stop_reason: PlanStopReason | None
    source_plan_id: UUID | None
    adopted_at: datetime | None
    created_at: datetime
    finished_at: datetime | None
    status_url: str
    total_spend: Annotated[int, Meta(description="integer minor units")] | None
    total_reach: float | None
    total_conversions: float | None
    total_creators: int | None
    bound: float | None
    gap: float | None


class PlanPage(msgspec.Struct, kw_only=True, frozen=True):
    """A page of a brief's plans, newest first; `next_cursor` is null on the last page."""

    items: list[PlanSummary]
    next_cursor: str | None


class SelectedCreator(msgspec.Struct, kw_only=True, frozen=True):
    """A creator a derived selection chose, priced as an offer would be.

    `fixed_fee` is the sum of the creator fees of `quotes` (one of each of the brief's
    deliverables); `platform_fee` = fixed_fee × take rate, rounded half to even;
    `merchant_pays` = fixed_fee + platform_fee; `cost` = merchant_pays + expected_commission
    is what the plan counts against its budget.
    """

    position: int
    kol_id: UUID
    account_id: UUID
    handle: str
    platform: Platform
    tier: Tier
    followers: int
    authenticity: float
    currency: str
    rate_card_version: str
    fixed_fee: int
    platform_fee: int
    merchant_pays: int
    expected_commission: int
    cost: int
    expected_reach: float
    expected_conversions: float
    quotes: list[Quote]


class SelectedCreatorPage(msgspec.Struct, kw_only=True, frozen=True):
    """A page of the creators a selection chose, in the plan's order; `next_cursor` is null
    on the last page."""

    items: list[SelectedCreator]
    next_cursor: str | None


class CatalogSelectionIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Select creators from the catalog's accounts matching the filters.

    Each matching account becomes a candidate priced by the current rate card for one
    `deliverable` (see `pricing/README.md`, "Plans derived from the catalog").
    """

    brief_id: UUID | None = None
    budget: Annotated[int, Meta(ge=0, le=10**13, description="integer minor units")]
    deliverable: Deliverable = Deliverable.SHORT_VIDEO
    platforms: Annotated[list[Platform], Meta(max_length=10)] = []
    tiers: Annotated[list[Tier], Meta(max_length=5)] = []
    categories: Annotated[list[Annotated[str, Meta(max_length=40)]], Meta(max_length=10)] = []
    regions: Annotated[list[Annotated[str, Meta(pattern="^[A-Z]{2}$")]], Meta(max_length=50)] = []
    min_followers: Annotated[int, Meta(ge=0, le=5_000_000_000)] = 0
    min_authenticity: Annotated[float, Meta(ge=0.0, le=1.0)] = 0.0
    min_reach: Annotated[float, Meta(ge=0.0, le=1e11)] = 0.0
    min_conversions: Annotated[float, Meta(ge=0.0, le=1e11)] = 0.0
    tier_shares: dict[Tier, ShareRange] = {}
    max_creators_per_platform: dict[Platform, Annotated[int, Meta(ge=0, le=2_000_000)]] = {}
    max_creators_per_tier: dict[Tier, Annotated[int, Meta(ge=0, le=2_000_000)]] = {}
    objective: Objective = Objective.MAX_CONVERSIONS
    time_limit_seconds: Annotated[float, Meta(gt=0.0, le=600.0)] = 20.0
