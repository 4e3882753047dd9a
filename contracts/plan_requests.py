"""Requests about a brief's plans: planning the brief, and inviting the creators a plan chose.

`POST /v1/briefs/{brief_id}/plans` takes `{"kind": "allocation" | "selection", ...}`. Every
target defaults to the brief (the budget to what remains of it, the reach and conversion
targets to its goals); without `segments` or `candidates` they are derived from the live
catalog and the current rate card. Partners who bring their own numbers give them explicitly.
"""

import enum
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from contracts.common import Platform, Tier
from contracts.planning import (
    Budget,
    Candidate,
    CreatorCap,
    Objective,
    People,
    Seconds,
    Segment,
    Share,
    ShareRange,
)

AccountRef = Annotated[str, Meta(max_length=64)]


class _BriefPlanIn(
    msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True, tag_field="kind"
):
    """Targets and options; an absent target takes the brief's: `budget` (integer minor
    units of the brief's currency) what remains of its budget, `min_reach` and
    `min_conversions` its goals. A tier's `min_share` must not exceed its `max_share`."""

    budget: Budget | None = None
    min_reach: People | None = None
    min_conversions: People | None = None
    tier_shares: dict[Tier, ShareRange] = {}
    max_creators_per_platform: dict[Platform, CreatorCap] = {}
    max_creators_per_tier: dict[Tier, CreatorCap] = {}
    objective: Objective = Objective.MAX_CONVERSIONS
    time_limit_seconds: Seconds | None = None


class AllocationPlanIn(_BriefPlanIn, tag="allocation", frozen=True):
    """Spread the brief's budget over (platform, tier) segments, derived from the catalog
    unless `segments` are given (each platform and tier once, `reach` at most `audience`)."""

    segments: Annotated[list[Segment], Meta(min_length=1, max_length=200)] | None = None


class SelectionPlanIn(_BriefPlanIn, tag="selection", frozen=True):
    """Choose the brief's creators among the matching catalog accounts (candidate ids are
    account ids), unless `candidates` are given (ids unique; every `must_include` id one of
    them)."""

    candidates: Annotated[list[Candidate], Meta(min_length=1, max_length=2_000_000)] | None = None
    audience: dict[Platform, Annotated[float, Meta(gt=0.0, le=1e11)]] | None = None
    min_reach_per_platform: dict[Platform, People] = {}
    must_include: Annotated[list[AccountRef], Meta(max_length=100_000)] = []
    must_exclude: Annotated[list[AccountRef], Meta(max_length=2_000_000)] = []
    min_authenticity: Share | None = None


BriefPlanIn = AllocationPlanIn | SelectionPlanIn


class PlanInvitationsIn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Invite the creators a selection chose: every one, or the KOLs named in `kol_ids`."""

    kol_ids: Annotated[list[UUID], Meta(min_length=1, max_length=10_000)] | None = None
    message: Annotated[str, Meta(max_length=2000)] = ""
    expires_in_days: Annotated[
        int, Meta(ge=1, le=30, description="each offer lapses this many days from now")
    ] = 7


class InvitationStatus(enum.StrEnum):
    """Whether one creator of a plan was invited (an offer opened) or refused."""

    INVITED = "invited"
    REFUSED = "refused"


class RefusalReason(enum.StrEnum):
    """Why one creator of a plan was not invited."""

    OPEN_OFFER = "open_offer"
    PAYOUT_NOT_READY = "payout_not_ready"
    OVER_BUDGET = "over_budget"
    NOT_QUOTED = "not_quoted"
    NOT_IN_PLAN = "not_in_plan"
    INVALID_TERMS = "invalid_terms"


class InvitationResult(msgspec.Struct, kw_only=True, frozen=True):
    """One creator: the offer made, or why none was. `fixed_fee` and `merchant_pays` are the
    terms proposed (or that would have been)."""

    kol_id: UUID
    account_ids: list[UUID]
    status: InvitationStatus
    offer_id: UUID | None
    fixed_fee: int | None
    merchant_pays: int | None
    reason: RefusalReason | None
    detail: str


class PlanInvitationsOut(msgspec.Struct, kw_only=True, frozen=True):
    """What inviting a plan's creators did, one line per KOL in the plan's order."""

    plan_id: UUID
    brief_id: UUID
    invited: int
    refused: int
    items: list[InvitationResult]
