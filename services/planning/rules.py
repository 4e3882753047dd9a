"""Pure rules of planning: turning catalog accounts into selection candidates."""

from collections.abc import Iterable, Mapping
from typing import Any

from contracts.common import Deliverable
from contracts.planning import Candidate, SelectionProblem
from contracts.plans import CatalogSelectionIn
from contracts.pricing import RateCard
from pricing.rounding import round_half_even

BP = 10_000
# Inline problems up to this many candidates are solved while the request waits.
INLINE_CANDIDATES = 20_000


def candidates_from_accounts(
    rows: Iterable[Mapping[str, Any]], deliverable: Deliverable, card: RateCard
) -> list[Candidate]:
    """fee = reference price of a post × the card's multiplier of `deliverable` over a post's;
    reach = median views; conversions = reach × click-through(platform) × conversion rate."""
    multiplier = card.deliverable_multiplier_bp[deliverable]
    per_post = card.deliverable_multiplier_bp[Deliverable.POST] or BP
    cvr = card.conversion_rate_bp / BP
    return [
        Candidate(
            id=row["id"],
            platform=row["platform"],
            tier=row["tier"],
            fee=round_half_even(row["reference_price"] * multiplier, per_post),
            reach=float(row["median_views"]),
            conversions=row["median_views"] * card.click_through_bp[row["platform"]] / BP * cvr,
            authenticity=row["authenticity"],
        )
        for row in rows
    ]


def catalog_problem(spec: CatalogSelectionIn, candidates: list[Candidate]) -> SelectionProblem:
    return SelectionProblem(
        candidates=candidates,
        budget=spec.budget,
        min_reach=spec.min_reach,
        min_conversions=spec.min_conversions,
        tier_shares=spec.tier_shares,
        max_creators_per_platform=spec.max_creators_per_platform,
        max_creators_per_tier=spec.max_creators_per_tier,
        min_authenticity=spec.min_authenticity or None,
        objective=spec.objective,
        time_limit_seconds=spec.time_limit_seconds,
    )
