"""Wire contract of campaign planning: tier allocation and creator selection.

Field names follow PRICING.md. Money is integer minor units; shares and rates are fractions
0..1; reach and conversions are expected counts (floats). Constraint names used in
`binding`, `conflicts` and `suggestions` are the problem's own field paths: `budget`,
`min_reach`, `min_conversions`, `tier_shares.<tier>.min_share`,
`tier_shares.<tier>.max_share`, `max_creators_per_platform.<platform>`,
`max_creators_per_tier.<tier>`, `min_reach_per_platform.<platform>`, `must_include`.

Every answer says why the search stopped (`stop_reason`): a plan is proven within
`gap_limit`, or `time_limit_seconds` ended first and the answer is the best plan found with
the bound proven so far. `notes` tell how the answer was reached when it was not the usual
way (for example an LP solver that failed and the one that replaced it).
"""

from __future__ import annotations

import enum
from typing import Annotated

import msgspec
from msgspec import Meta

from contracts.common import Currency, Platform, Tier

Money = Annotated[int, Meta(ge=0, le=10**11, description="integer minor units")]
Budget = Annotated[int, Meta(ge=0, le=10**13, description="integer minor units")]
People = Annotated[float, Meta(ge=0.0, le=1e11)]
Share = Annotated[float, Meta(ge=0.0, le=1.0)]
CreatorCap = Annotated[int, Meta(ge=0, le=2_000_000)]
Seconds = Annotated[float, Meta(gt=0.0, le=600.0)]
# The currencies quotes accept.
PlanCurrency = Currency


class Objective(enum.StrEnum):
    """What a plan optimises: expected conversions or reach (most), or spend (least)."""

    MAX_CONVERSIONS = "max_conversions"
    MAX_REACH = "max_reach"
    MIN_SPEND = "min_spend"


class PlanStatus(enum.StrEnum):
    """`optimal`: proven best; `feasible`: meets every constraint, proven within `gap`."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"


class DiagnosisStatus(enum.StrEnum):
    """`infeasible`: proven that no plan meets the constraints; `no_plan_found`: none was
    found within the time limit, which does not prove there is none."""

    INFEASIBLE = "infeasible"
    NO_PLAN_FOUND = "no_plan_found"


class StopReason(enum.StrEnum):
    """Why the engine stopped. Plans: `gap_limit` (proven within `gap_limit` of the best
    possible), `time_limit` (the best plan found when `time_limit_seconds` ended, with the
    bound proven so far) or, rarely, `completed` (nothing was left to try before the gap
    limit: the integer search solved every part that could hold a better plan and the gap
    left comes from rounding its rows to integers). Diagnoses: `completed` (every check
    finished) or `time_limit` (checks left undetermined are marked `proven: false`)."""

    GAP_LIMIT = "gap_limit"
    TIME_LIMIT = "time_limit"
    COMPLETED = "completed"


class ShareRange(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Bounds on a tier's share of total spend."""

    min_share: Share = 0.0
    max_share: Share = 1.0


class Segment(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One (platform, tier) pair: what a creator there costs and brings. `reach` must not
    exceed `audience`; k creators reach audience × (1 − (1 − reach / audience)^k)."""

    platform: Platform
    tier: Tier
    fee: Annotated[
        int,
        Meta(ge=0, le=10**11, description="one creator's fee, integer minor units"),
    ]
    reach: Annotated[
        float, Meta(ge=0.0, le=1e11, description="people one creator of the segment reaches")
    ]
    audience: Annotated[
        float,
        Meta(gt=0.0, le=1e11, description="people the segment's creators can reach at most"),
    ]
    cvr: Annotated[
        float, Meta(ge=0.0, le=1.0, description="conversions per person reached, a fraction")
    ]
    commission_per_conversion: Annotated[
        int,
        Meta(ge=0, le=10**11, description="commission paid per conversion, integer minor units"),
    ] = 0
    available: Annotated[
        int, Meta(ge=0, le=10_000, description="how many creators the segment has")
    ]


class AllocationProblem(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Spread `budget` (integer minor units) over segments: how many creators to hire in
    each (platform, tier). Each platform and tier is given once; a tier's `min_share` must
    not exceed its `max_share`; `gap_limit` is the proven gap the search stops at."""

    segments: Annotated[list[Segment], Meta(min_length=1, max_length=200)]
    budget: Budget
    currency: PlanCurrency | None = None
    min_reach: People = 0.0
    min_conversions: People = 0.0
    tier_shares: dict[Tier, ShareRange] = {}
    max_creators_per_platform: dict[Platform, CreatorCap] = {}
    max_creators_per_tier: dict[Tier, CreatorCap] = {}
    objective: Objective = Objective.MAX_CONVERSIONS
    time_limit_seconds: Seconds = 10.0
    # Stop once the plan is proven within 0.05 % of the best possible: half the product's
    # promise of 0.1 %, so the answer keeps its margin whatever the bound's rounding.
    gap_limit: Annotated[float, Meta(ge=0.0, le=1.0)] = 0.0005


class SegmentPlan(msgspec.Struct, kw_only=True, frozen=True):
    """creators = k; reach = R(k); conversions = cvr × R(k); spend = k × fee +
    commission_per_conversion × conversions, rounded half to even."""

    platform: Platform
    tier: Tier
    creators: int
    reach: float
    conversions: float
    spend: int


class AllocationPlan(msgspec.Struct, kw_only=True, frozen=True):
    """A plan that meets every constraint; totals are sums of the segment lines.

    `bound` is a proven bound on the objective (no plan does better), `gap` is
    |bound − objective_value| / max(|bound|, |objective_value|).
    """

    status: PlanStatus
    objective: Objective
    currency: str | None
    segments: list[SegmentPlan]
    total_spend: int
    total_reach: float
    total_conversions: float
    total_creators: int
    binding: list[str]
    objective_value: float
    bound: float
    gap: float
    # Null only on plans saved before the field existed.
    stop_reason: StopReason | None = None
    notes: list[str] = []


class Suggestion(msgspec.Struct, kw_only=True, frozen=True):
    """The least change of one constraint that makes the problem feasible on its own.

    `needed` (when not null) is met by a plan that keeps every other constraint and was
    checked exactly, so changing the constraint to `needed` always makes a plan exist.
    `proven` is true only when the whole claim is certified: `needed` is the least such
    change (its optimisation was solved to its bound), or, with `needed: null`, relaxing
    this constraint alone was proven not to help (an infeasibility proof). Otherwise the
    detail says what was not determined within the time limit, and `bound`, when known,
    is the proven limit on the least change (no plan needs less than it).
    """

    constraint: str
    current: int | float | None
    needed: int | float | None
    detail: str
    proven: bool = False
    bound: int | float | None = None


class Diagnosis(msgspec.Struct, kw_only=True, frozen=True):
    """Why no plan exists: the constraints that conflict and how to resolve it."""

    status: DiagnosisStatus
    conflicts: list[str]
    suggestions: list[Suggestion]
    detail: str
    # Null only on diagnoses saved before the field existed.
    stop_reason: StopReason | None = None
    notes: list[str] = []


class Candidate(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True, gc=False):
    """One creator a selection may choose: its fee (integer minor units, what it costs the
    budget), and the reach and conversions it is expected to bring. Ids are unique."""

    id: Annotated[str, Meta(min_length=1, max_length=64)]
    platform: Platform
    tier: Tier
    fee: Money
    reach: People
    conversions: People
    authenticity: Share | None = None


class SelectionProblem(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Choose creators (0/1 each). With `audience`, reach per platform is deduplicated:
    R_p = audience_p × (1 − Π (1 − reach_i / audience_p)); otherwise reach is a plain sum."""

    candidates: Annotated[list[Candidate], Meta(min_length=1, max_length=2_000_000)]
    budget: Budget
    currency: PlanCurrency | None = None
    min_reach: People = 0.0
    min_conversions: People = 0.0
    audience: dict[Platform, Annotated[float, Meta(gt=0.0, le=1e11)]] | None = None
    min_reach_per_platform: dict[Platform, People] = {}
    tier_shares: dict[Tier, ShareRange] = {}
    max_creators_per_platform: dict[Platform, CreatorCap] = {}
    max_creators_per_tier: dict[Tier, CreatorCap] = {}
    must_include: Annotated[
        list[Annotated[str, Meta(max_length=64)]], Meta(max_length=100_000)
    ] = []
    must_exclude: Annotated[
        list[Annotated[str, Meta(max_length=64)]], Meta(max_length=2_000_000)
    ] = []
    min_authenticity: Share | None = None
    objective: Objective = Objective.MAX_CONVERSIONS
    time_limit_seconds: Seconds = 20.0
    gap_limit: Annotated[float, Meta(ge=0.0, le=1.0)] = 0.001


class PlatformTotals(msgspec.Struct, kw_only=True, frozen=True):
    """A selection's chosen creators on one platform: their count, spend (minor units),
    deduplicated reach and conversions."""

    platform: Platform
    creators: int
    spend: int
    reach: float
    conversions: float


class SelectionPlan(msgspec.Struct, kw_only=True, frozen=True):
    """Chosen creator ids (in input order) with totals recomputable from the candidates."""

    status: PlanStatus
    objective: Objective
    currency: str | None
    selected: list[str]
    total_spend: int
    total_reach: float
    total_conversions: float
    total_creators: int
    platforms: list[PlatformTotals]
    binding: list[str]
    objective_value: float
    bound: float
    gap: float
    # Null only on plans saved before the field existed.
    stop_reason: StopReason | None = None
    notes: list[str] = []
