"""For one conflicting constraint, the least change that makes a plan exist, the others kept.

Each suggestion comes from an optimisation without the constraint: the cheapest plan gives
the budget needed, the plan with the most reach gives the largest reach the budget can
buy, the fewest creators on a platform or tier give the cap needed, Dinkelbach's iteration
gives the share a tier can take. The plan found is checked exactly, so `needed` always
works; it is marked `proven` only when the optimisation was solved to its bound (or, with
`needed: null`, when no plan exists even without the constraint). Anything the time limit
cut short says so.
"""

from __future__ import annotations

import math
from fractions import Fraction

from contracts.common import Tier
from contracts.planning import Suggestion
from pricing.clock import Budget
from pricing.constraints import BUDGET, MIN_CONVERSIONS, MIN_REACH, direction_terms, share_terms
from pricing.linear import Term
from pricing.planner import Outcome, Planner
from pricing.search import OPTIMAL_GAP

SHARE_STEPS = 6
DECIMALS = 1_000_000
TOLERANCE = 1e-9
ALONE = "relaxing this constraint alone does not make the problem feasible"
UNDETERMINED = "not determined within the time limit"
_PROVEN = {
    BUDGET: "the cheapest plan that meets every other constraint costs {needed}",
    MIN_REACH: "the budget and the other constraints allow a reach of at most {needed:.6g}",
    MIN_CONVERSIONS: "the budget and the other constraints allow at most {needed:.6g} conversions",
}
_FOUND = {
    BUDGET: "a plan that meets every other constraint costs {needed}",
    MIN_REACH: "a plan that meets every other constraint reaches {needed:.6g}",
    MIN_CONVERSIONS: "a plan that meets every other constraint expects {needed:.6g} conversions",
}
_PROVEN_DEFAULT = "a plan that meets every other constraint needs {needed:.6g}, and none needs less"
_FOUND_DEFAULT = "a plan that meets every other constraint needs {needed:.6g}"


def _current(planner: Planner, name: str) -> int | float | None:
    limits = planner.limits
    values: dict[str, int | float] = {
        BUDGET: limits.budget,
        MIN_REACH: limits.min_reach,
        MIN_CONVERSIONS: limits.min_conversions,
    }
    for platform, cap in limits.platform_caps.items():
        values[f"max_creators_per_platform.{platform}"] = cap
    for tier, cap in limits.tier_caps.items():
        values[f"max_creators_per_tier.{tier}"] = cap
    for platform, target in limits.platform_reach.items():
        values[f"min_reach_per_platform.{platform}"] = target
    return values.get(name)


def _target_terms(planner: Planner, name: str) -> tuple[Term, ...] | None:
    terms = direction_terms(name)
    if terms is not None or not name.startswith("min_reach_per_platform."):
        return terms
    return planner.platform_reach_terms(name.partition(".")[2])


def _undetermined(name: str, current: int | float | None, proven_alone: bool) -> Suggestion:
    detail = ALONE if proven_alone else f"the least change is {UNDETERMINED}"
    return Suggestion(
        constraint=name, current=current, needed=None, detail=detail, proven=proven_alone
    )


def undetermined(planner: Planner, name: str) -> Suggestion:
    """A suggestion the time limit left no room for."""
    return _undetermined(name, _current(planner, name), False)


def _limit(name: str, outcome: Outcome) -> float | None:
    """The proven limit of the measured quantity: a cost or count no plan goes below
    (objectives written as −quantity), or a reach or number of conversions no plan
    exceeds; None when the optimised terms are not the quantity itself."""
    if not math.isfinite(outcome.bound):
        return None
    if name == BUDGET or name.startswith("max_creators_per_"):
        return -outcome.bound
    return outcome.bound if name in (MIN_REACH, MIN_CONVERSIONS) else None


def _is_proven(name: str, needed: int | float, limit: float | None, outcome: Outcome) -> bool:
    if limit is None:
        return outcome.gap <= OPTIMAL_GAP
    if isinstance(needed, int):
        return math.ceil(limit - TOLERANCE * max(1.0, abs(limit))) >= needed
    return outcome.gap <= OPTIMAL_GAP


def target_suggestion(planner: Planner, name: str, budget: Budget) -> Suggestion:
    """Budget, reach and conversion targets, caps: optimise the quantity without its row."""
    current = _current(planner, name)
    terms = _target_terms(planner, name)
    if terms is None:
        return _undetermined(name, current, False)
    outcome = planner.solve(budget, frozenset({name}), terms, gap_limit=OPTIMAL_GAP)
    if outcome.totals is None:
        return _undetermined(name, current, outcome.infeasible)
    value = planner.measure(name, outcome.totals)
    needed: int | float = round(value) if isinstance(current, int) else value
    exact = planner.measures_exactly(name)
    limit = _limit(name, outcome) if exact else None
    proven = exact and _is_proven(name, needed, limit, outcome)
    if proven:
        detail = _PROVEN.get(name, _PROVEN_DEFAULT).format(needed=needed)
    else:
        detail = _FOUND.get(name, _FOUND_DEFAULT).format(needed=needed)
        if exact:
            detail += f"; whether a smaller change is enough was {UNDETERMINED}"
        else:
            detail += (
                "; whether more is possible was not determined (the diagnosis maximises "
                "reach before deduplication)"
            )
        if limit is not None:
            detail += f" (proven limit {limit:.9g})"
    bound: int | float | None = needed if proven else limit
    if not proven and limit is not None and isinstance(needed, int):
        bound = math.ceil(limit - TOLERANCE * max(1.0, abs(limit)))
    return Suggestion(
        constraint=name, current=current, needed=needed, detail=detail, proven=proven, bound=bound
    )


def share_suggestion(planner: Planner, name: str, budget: Budget) -> Suggestion:
    """Dinkelbach's iteration on the tier's share of spend, without the share row: at the
    best share λ found, max sign × (tier spend − λ × spend) <= 0 proves λ is the best."""
    _, tier_name, side = name.split(".")
    tier = Tier(tier_name)
    share = planner.limits.tier_shares[tier]
    sign = 1 if side == "min_share" else -1
    current = share.min_share if side == "min_share" else share.max_share
    best: Fraction | None = None
    proven = alone = False
    for step in range(SHARE_STEPS):
        ratio = float(best) if best is not None else (0.0 if sign > 0 else 1.0)
        part = budget.part(budget.work.left() / (SHARE_STEPS - step))
        outcome = planner.solve(
            part, frozenset({name}), share_terms(tier, ratio, sign), gap_limit=OPTIMAL_GAP
        )
        alone = outcome.infeasible and best is None
        if outcome.totals is None:
            break
        scale = max(1.0, float(outcome.totals.spend))
        if best is not None and outcome.bound <= TOLERANCE * scale:
            proven = True
            break
        if outcome.totals.spend == 0:
            break
        achieved = Fraction(outcome.totals.tier_spend.get(tier, 0), outcome.totals.spend)
        if best is not None and sign * (achieved - best) <= 0:
            break
        best = achieved
    if best is None:
        return _undetermined(name, current, alone)
    rounded = math.floor(best * DECIMALS) if sign > 0 else math.ceil(best * DECIMALS)
    needed = rounded / DECIMALS
    word = "at most" if sign > 0 else "at least"
    if proven:
        detail = f"the {tier} tier can take {word} {needed:.6f} of spend with the other constraints"
    else:
        detail = (
            f"a plan that meets every other constraint gives the {tier} tier {needed:.6f} of "
            f"spend; whether a smaller change is enough was {UNDETERMINED}"
        )
    return Suggestion(
        constraint=name,
        current=current,
        needed=needed,
        detail=detail,
        proven=proven,
        bound=needed if proven else None,
    )


def suggestion(planner: Planner, name: str, budget: Budget) -> Suggestion:
    """The least change of `name` (the others unchanged) that makes a plan exist."""
    if name.startswith("tier_shares."):
        return share_suggestion(planner, name, budget)
    return target_suggestion(planner, name, budget)
