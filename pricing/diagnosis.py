"""Why no plan exists: the constraints that conflict, and the least change of each one
that makes the problem feasible on its own.

The conflict set is found by deletion: a constraint is left out of the set when the
problem stays infeasible without it, so every constraint that remains is needed for the
conflict. Infeasibility is proven by the linear relaxation when it can be (phase 1 and its
Lagrangian certificate), otherwise by the exhausted branch-and-bound. Each suggestion comes
from a plan: the cheapest plan without the budget gives the budget needed, the plan with the
most reach without the reach target gives the largest reach the budget can buy, and so on.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from contracts.common import Tier
from contracts.planning import Diagnosis, DiagnosisStatus, SelectionProblem, Suggestion
from pricing.clock import Deadline
from pricing.constraints import (
    BUDGET,
    MIN_CONVERSIONS,
    MIN_REACH,
    direction_terms,
    measure,
    share_terms,
)
from pricing.linear import BoolArray, Term
from pricing.planner import Outcome, Planner
from pricing.relaxation import Log, solve_relaxation

if TYPE_CHECKING:
    from pricing.selection import Catalog

SHARE_STEPS = 5
CHECK_SECONDS = 0.2
DECIMALS = 1_000_000


def _feasible(planner: Planner, dropped: frozenset[str], deadline: Deadline) -> bool | None:
    """True/False when proven, None when time ran out first."""
    model = planner.build(dropped)
    relaxation = solve_relaxation(model, planner.initial_core(), deadline)
    if not relaxation.feasible:
        return False
    if not relaxation.converged:
        return None
    seconds = min(deadline.remaining(), max(CHECK_SECONDS, 0.1 * deadline.seconds))
    outcome = planner.solve(Deadline(seconds), dropped, first_plan=True)
    if outcome.x is not None:
        return True
    return False if outcome.infeasible else None


def conflict_set(planner: Planner, deadline: Deadline) -> list[str]:
    """A minimal set of constraints that cannot hold together. Shares and caps are tried
    first and the budget last, so the explanation prefers budget and targets."""
    names = planner.limits.names()
    needed = list(names)
    for name in reversed(names):
        if deadline.expired():
            break
        trial = [n for n in needed if n != name]
        dropped = frozenset(n for n in names if n not in trial)
        if _feasible(planner, dropped, deadline) is False:
            needed = trial
    return needed


def _optimise(
    planner: Planner, name: str, terms: tuple[Term, ...], deadline: Deadline, seconds: float
) -> Outcome:
    return planner.solve(Deadline(min(seconds, deadline.remaining())), frozenset({name}), terms)


def _share_suggestion(
    planner: Planner, name: str, deadline: Deadline, seconds: float
) -> Suggestion:
    """Dinkelbach's iteration on the tier's share of spend, without the share row."""
    _, tier_name, side = name.split(".")
    tier = Tier(tier_name)
    share = planner.limits.tier_shares[tier]
    sign = 1.0 if side == "min_share" else -1.0
    current = share.min_share if side == "min_share" else share.max_share
    ratio, best = 0.0 if sign > 0 else 1.0, None
    for _ in range(SHARE_STEPS):
        outcome = _optimise(
            planner, name, share_terms(tier, ratio, sign), deadline, seconds / SHARE_STEPS
        )
        if outcome.totals is None or outcome.totals.spend == 0:
            break
        achieved = measure(name, outcome.totals)
        if best is not None and sign * (achieved - best) <= 1e-12:
            break
        best = ratio = achieved
    if best is None:
        return Suggestion(constraint=name, current=current, needed=None, detail=_ALONE)
    rounded = math.floor(best * DECIMALS) if sign > 0 else math.ceil(best * DECIMALS)
    needed = rounded / DECIMALS
    word = "at most" if sign > 0 else "at least"
    detail = f"the {tier} tier can take {word} {needed:.6f} of spend with the other constraints"
    return Suggestion(constraint=name, current=current, needed=needed, detail=detail)


_ALONE = "relaxing this constraint alone does not make the problem feasible"


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


_DETAILS = {
    BUDGET: "the cheapest plan that meets every other constraint costs {needed}",
    MIN_REACH: "the budget and the other constraints allow a reach of at most {needed:.6g}",
    MIN_CONVERSIONS: "the budget and the other constraints allow at most {needed:.6g} conversions",
}


def suggestion(planner: Planner, name: str, deadline: Deadline, seconds: float) -> Suggestion:
    """The least change of `name` (the others unchanged) that makes a plan exist."""
    if name.startswith("tier_shares."):
        return _share_suggestion(planner, name, deadline, seconds)
    current = _current(planner, name)
    terms = _target_terms(planner, name)
    outcome = _optimise(planner, name, terms, deadline, seconds) if terms is not None else None
    if outcome is None or outcome.totals is None:
        return Suggestion(constraint=name, current=current, needed=None, detail=_ALONE)
    value = measure(name, outcome.totals)
    needed: int | float = round(value) if isinstance(current, int) else value
    proven = "" if outcome.gap <= 1e-9 else f" (found within {outcome.gap:.2%} of the best)"
    template = _DETAILS.get(name, "a plan that meets every other constraint needs {needed:.6g}")
    return Suggestion(
        constraint=name,
        current=current,
        needed=needed,
        detail=template.format(needed=needed) + proven,
    )


def diagnose(
    planner: Planner, outcome: Outcome, deadline: Deadline, log: Log | None = None
) -> Diagnosis:
    """Explain a problem for which the search returned no plan."""
    if not outcome.infeasible:
        return Diagnosis(
            status=DiagnosisStatus.NO_PLAN_FOUND,
            conflicts=[],
            suggestions=[],
            detail=(
                "no plan was found within time_limit_seconds and infeasibility was not "
                "proven; allow more time"
            ),
        )
    conflicts = conflict_set(planner, deadline)
    if log is not None:
        log(f"conflicting constraints: {', '.join(conflicts)}")
    seconds = deadline.remaining() / max(1, len(conflicts))
    suggestions = [suggestion(planner, name, deadline, seconds) for name in conflicts]
    described = " and ".join(conflicts) if conflicts else "the data (available creators)"
    return Diagnosis(
        status=DiagnosisStatus.INFEASIBLE,
        conflicts=conflicts,
        suggestions=suggestions,
        detail=(
            f"no plan meets {described} together; a suggestion with a `needed` value "
            "resolves the conflict on its own, the others keep every other constraint"
        ),
    )


def must_include_conflict(
    problem: SelectionProblem, catalog: Catalog, clash: BoolArray
) -> Diagnosis:
    """must_include names creators that must_exclude or min_authenticity rule out."""
    listed = set(problem.must_exclude)
    indices = np.flatnonzero(clash)
    excluded = [catalog.ids[i] for i in indices if catalog.ids[i] in listed]
    weak = [i for i in indices if catalog.ids[i] not in listed]
    conflicts, suggestions = ["must_include"], []
    if excluded:
        conflicts.append("must_exclude")
        text = f"remove {', '.join(excluded[:10])} from must_include or from must_exclude"
        suggestions.append(
            Suggestion(constraint="must_exclude", current=None, needed=None, detail=text)
        )
    if weak:
        conflicts.append("min_authenticity")
        scores = catalog.authenticity[weak]
        needed = None if bool(np.isnan(scores).any()) else float(scores.min())
        names = ", ".join(catalog.ids[i] for i in weak[:10])
        text = f"{names} score below min_authenticity or have no score"
        suggestions.append(
            Suggestion(
                constraint="min_authenticity",
                current=problem.min_authenticity,
                needed=needed,
                detail=text,
            )
        )
    return Diagnosis(
        status=DiagnosisStatus.INFEASIBLE,
        conflicts=conflicts,
        suggestions=suggestions,
        detail="must_include names creators that other constraints exclude",
    )
