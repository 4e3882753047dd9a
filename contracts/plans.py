"""Plans as API resources: saved allocations and selections, and selections drawn from the catalog.

The problems themselves are `contracts.planning`'s structs, accepted as request bodies as they
are; a plan resource wraps one with its state and its result.
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


class PlanKind(enum.StrEnum):
    ALLOCATION = "allocation"
    SELECTION = "selection"


class PlanState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    NO_PLAN_FOUND = "no_plan_found"
    FAILED = "failed"


class PlanOut(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A plan: `allocation` or `selection` once solved, `diagnosis` when no plan exists."""

    id: UUID
    kind: PlanKind
    status: PlanState
    brief_id: UUID | None = None
    created_at: datetime
    finished_at: datetime | None = None
    status_url: str
    allocation: AllocationPlan | None = None
    selection: SelectionPlan | None = None
    diagnosis: Diagnosis | None = None
    error: str | None = None


class CatalogSelectionIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Select creators from the catalog's accounts matching the filters.

    Each matching account becomes a candidate: fee = its reference price for one
    `deliverable`, reach = its median views, conversions = reach × the rate card's
    click-through of the platform × its conversion rate.
    """

    brief_id: UUID | None = None
    budget: Annotated[int, Meta(ge=0, le=10**13, description="integer minor units")]
    deliverable: Deliverable = Deliverable.SHORT_VIDEO
    platforms: Annotated[list[Platform], Meta(max_length=10)] = []
    tiers: Annotated[list[Tier], Meta(max_length=5)] = []
    categories: Annotated[list[Annotated[str, Meta(max_length=40)]], Meta(max_length=10)] = []
    regions: Annotated[list[Annotated[str, Meta(pattern="^[A-Z]{2}$")]], Meta(max_length=50)] = []
    min_followers: Annotated[int, Meta(ge=0)] = 0
    min_authenticity: Annotated[float, Meta(ge=0.0, le=1.0)] = 0.0
    min_reach: Annotated[float, Meta(ge=0.0, le=1e11)] = 0.0
    min_conversions: Annotated[float, Meta(ge=0.0, le=1e11)] = 0.0
    tier_shares: dict[Tier, ShareRange] = {}
    max_creators_per_platform: dict[Platform, Annotated[int, Meta(ge=0, le=2_000_000)]] = {}
    max_creators_per_tier: dict[Tier, Annotated[int, Meta(ge=0, le=2_000_000)]] = {}
    objective: Objective = Objective.MAX_CONVERSIONS
    time_limit_seconds: Annotated[float, Meta(gt=0.0, le=600.0)] = 20.0
