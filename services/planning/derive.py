"""Deriving a plan's problem from a brief, the live catalog and the current rate card: the
accounts a plan may draw from, its targets, and its segments or candidates, each number with
its source (`contracts.plans.Derivation`)."""

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import anyio
import asyncpg
import msgspec

from contracts.briefs import BriefOut
from contracts.common import Deliverable
from contracts.plan_requests import AllocationPlanIn, SelectionPlanIn
from contracts.planning import (
    AllocationProblem,
    Candidate,
    Segment,
    SelectionProblem,
)
from contracts.plans import (
    CandidateDerivation,
    CatalogSelectionIn,
    Derivation,
    Figure,
    SegmentDerivation,
)
from contracts.pricing import RateCard
from pricing import QuoteRefused
from services.actors import Caller
from services.briefs import service as briefs
from services.errors import Invalid
from services.planning import derivation, queries
from services.planning.derivation import BP, Priced, Scope, StoredCreator

ALLOCATION_SECONDS = 10.0
SELECTION_SECONDS = 20.0


async def brief_of(conn: asyncpg.Connection, merchant_id: UUID, brief_id: UUID) -> BriefOut:
    """The merchant's brief with what its budget holds; 404 when it is not the merchant's."""
    return await briefs.get(conn, Caller(kind="merchant", merchant_id=merchant_id), brief_id)


async def scope_of_brief(
    conn: asyncpg.Connection, brief: BriefOut, card: RateCard, segments: Sequence[str] = ()
) -> Scope:
    """The accounts that may work on the brief, priced for its deliverables and product."""
    if brief.currency != card.currency:
        raise Invalid(
            "currency",
            f"the brief is in {brief.currency} but rate card {card.version} prices in "
            f"{card.currency}; give segments or candidates in {brief.currency}",
        )
    engaged = [r["kol_id"] for r in await conn.fetch(queries.ENGAGED_KOLS, brief.id)]
    floor = card.authenticity_floor_bp / BP
    return Scope(
        platforms=tuple(brief.platforms),
        tiers=tuple(brief.tiers),
        categories=(str(brief.product.category),),
        regions=tuple(brief.targeting.regions),
        segments=tuple(segments),
        min_followers=0,
        min_authenticity=max(floor, brief.targeting.min_authenticity or 0.0),
        payout_ready_required=brief.targeting.payout_ready_required,
        engaged=tuple(engaged),
        deliverables=tuple(brief.deliverables),
        average_order_value=brief.product.average_order_value,
        commission_bp=brief.commission.commission_bp,
        currency=brief.currency,
    )


def pricing_scope(found: Derivation) -> Scope:
    """How a derived plan priced its creators, to quote them again from its card."""
    return _pricing_only(
        found.deliverables, found.average_order_value, found.commission_bp, found.currency
    )


def pricing_of_brief(brief: BriefOut) -> Scope:
    """How the brief's offers are priced: its deliverables, product and commission."""
    return _pricing_only(
        brief.deliverables,
        brief.product.average_order_value,
        brief.commission.commission_bp,
        brief.currency,
    )


def _pricing_only(
    deliverables: Sequence[Deliverable], average_order_value: int, commission_bp: int, currency: str
) -> Scope:
    return Scope(
        platforms=(),
        tiers=(),
        categories=(),
        regions=(),
        segments=(),
        min_followers=0,
        min_authenticity=0.0,
        payout_ready_required=False,
        engaged=(),
        deliverables=tuple(deliverables),
        average_order_value=average_order_value,
        commission_bp=commission_bp,
        currency=currency,
    )


def scope_of_filters(spec: CatalogSelectionIn, card: RateCard) -> Scope:
    """The accounts matching a catalog selection's filters, priced for one deliverable of a
    product without commission."""
    return Scope(
        platforms=tuple(spec.platforms),
        tiers=tuple(spec.tiers),
        categories=tuple(spec.categories),
        regions=tuple(spec.regions),
        segments=(),
        min_followers=spec.min_followers,
        min_authenticity=max(card.authenticity_floor_bp / BP, spec.min_authenticity),
        payout_ready_required=False,
        engaged=(),
        deliverables=(spec.deliverable,),
        average_order_value=0,
        commission_bp=0,
        currency=card.currency,
    )


def targets(
    request: AllocationPlanIn | SelectionPlanIn,
    brief: BriefOut,
    given: str = "as given in the request",
) -> dict[str, Figure]:
    """Each target as asked, or the brief's: what remains of its budget, and its goals."""
    budget = Figure(
        value=max(0, brief.remaining),
        source="the brief's remaining budget: budget − committed − reserved",
        inputs={"budget": brief.budget, "committed": brief.committed, "reserved": brief.reserved},
    )
    reach = Figure(value=float(brief.goals.reach), source="the brief's goals.reach")
    conversions = Figure(
        value=float(brief.goals.conversions), source="the brief's goals.conversions"
    )
    return {
        "budget": budget if request.budget is None else Figure(value=request.budget, source=given),
        "min_reach": reach
        if request.min_reach is None
        else Figure(value=request.min_reach, source=given),
        "min_conversions": conversions
        if request.min_conversions is None
        else Figure(value=request.min_conversions, source=given),
    }


def given_targets(budget: int, min_reach: float, min_conversions: float) -> dict[str, Figure]:
    given = "as given in the request"
    return {
        "budget": Figure(value=budget, source=given),
        "min_reach": Figure(value=min_reach, source=given),
        "min_conversions": Figure(value=min_conversions, source=given),
    }


async def count(conn: asyncpg.Connection, scope: Scope) -> int:
    found: int = await conn.fetchval(queries.COUNT_MATCHING, *scope.query_args())
    return found


@dataclass(frozen=True, slots=True)
class Derived:
    """A derived problem with where its numbers come from, and the accounts it may choose
    (by candidate id, with their offers)."""

    problem: AllocationProblem | SelectionProblem
    derivation: Derivation
    priced: dict[str, tuple[asyncpg.Record, Priced]]

    def creators(self, ids: list[str]) -> list[StoredCreator]:
        return [derivation.stored(*self.priced[i]) for i in ids]


async def allocation(
    conn: asyncpg.Connection,
    card: RateCard,
    scope: Scope,
    request: AllocationPlanIn,
    goals: dict[str, Figure],
) -> Derived:
    """Segments per (platform, tier) from the matching accounts' medians."""
    rows = await conn.fetch(queries.SEGMENT_FIGURES, *scope.query_args())
    budget = int(goals["budget"].value)
    made = [derivation.segment(card, scope, r, budget) for r in rows]
    if not made:
        raise _nothing_matches(scope)
    segments: list[Segment] = [m[0] for m in made]
    sources: list[SegmentDerivation] = [m[1] for m in made]
    problem = AllocationProblem(
        segments=segments,
        budget=budget,
        currency=scope.currency,
        min_reach=float(goals["min_reach"].value),
        min_conversions=float(goals["min_conversions"].value),
        tier_shares=request.tier_shares,
        max_creators_per_platform=request.max_creators_per_platform,
        max_creators_per_tier=request.max_creators_per_tier,
        objective=request.objective,
        time_limit_seconds=request.time_limit_seconds or ALLOCATION_SECONDS,
    )
    found = _derivation(card, scope, goals, segments=sources)
    return Derived(problem, found, {})


async def selection(
    conn: asyncpg.Connection,
    card: RateCard,
    scope: Scope,
    request: SelectionPlanIn,
    goals: dict[str, Figure],
) -> Derived:
    """One candidate per matching account, priced as its offer would be."""
    rows = await conn.fetch(queries.MATCHING_ACCOUNTS, *scope.query_args())
    priced, refused = await anyio.to_thread.run_sync(_price_all, card, scope, rows)
    if not priced:
        raise _nothing_matches(scope)
    candidates = [derivation.candidate(row, made) for row, made in priced.values()]
    problem = selection_problem(request, goals, candidates, scope.currency)
    summary = CandidateDerivation(
        accounts=len(priced),
        refused=refused,
        fee=derivation.CANDIDATE_FEE,
        reach=derivation.CANDIDATE_REACH,
        conversions=derivation.CANDIDATE_CONVERSIONS,
    )
    found = _derivation(card, scope, goals, candidates=summary)
    return Derived(problem, found, priced)


def selection_problem(
    request: SelectionPlanIn,
    goals: dict[str, Figure],
    candidates: list[Candidate],
    currency: str | None,
) -> SelectionProblem:
    return SelectionProblem(
        candidates=candidates,
        budget=int(goals["budget"].value),
        currency=currency,
        min_reach=float(goals["min_reach"].value),
        min_conversions=float(goals["min_conversions"].value),
        audience=request.audience,
        min_reach_per_platform=request.min_reach_per_platform,
        tier_shares=request.tier_shares,
        max_creators_per_platform=request.max_creators_per_platform,
        max_creators_per_tier=request.max_creators_per_tier,
        must_include=request.must_include,
        must_exclude=request.must_exclude,
        min_authenticity=request.min_authenticity,
        objective=request.objective,
        time_limit_seconds=request.time_limit_seconds or SELECTION_SECONDS,
    )


def _price_all(
    card: RateCard, scope: Scope, rows: list[asyncpg.Record]
) -> tuple[dict[str, tuple[asyncpg.Record, Priced]], int]:
    """Each account's offer by its id, and how many accounts the card refused to quote."""
    priced, refused = {}, 0
    for row in rows:
        try:
            priced[str(row["id"])] = (row, derivation.offer(card, scope, derivation.metrics(row)))
        except QuoteRefused:
            refused += 1
    return priced, refused


def _derivation(
    card: RateCard,
    scope: Scope,
    goals: dict[str, Figure],
    segments: list[SegmentDerivation] | None = None,
    candidates: CandidateDerivation | None = None,
) -> Derivation:
    return Derivation(
        rate_card_version=card.version,
        matching=scope.matching(),
        deliverables=list(scope.deliverables),
        currency=scope.currency,
        average_order_value=scope.average_order_value,
        commission_bp=scope.commission_bp,
        targets=goals,
        segments=segments or [],
        candidates=candidates,
    )


def _nothing_matches(scope: Scope) -> Invalid:
    wanted = msgspec.json.encode(scope.matching()).decode()
    return Invalid(
        "brief",
        f"no available catalog account matches {wanted}; widen the brief (platforms, tiers, "
        "targeting) or give segments or candidates",
    )
