"""Independent reference solvers and checks for the pricing tests.

They recompute every figure from the problem with the formulas of PRICING.md, written
again here (plain Python floats, `fractions`, `itertools`, SciPy's HiGHS), so a mistake in
the engine cannot hide behind the same mistake in its check.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from contracts.planning import AllocationProblem, Objective, SelectionProblem


def share(value: float) -> Fraction:
    return Fraction(repr(value))


@dataclass(frozen=True)
class Figures:
    spend: int
    reach: float
    conversions: float
    creators: int
    tier_spend: dict[str, int]
    tier_creators: dict[str, int]
    platform_creators: dict[str, int]
    platform_reach: dict[str, float]


def segment_figures(segment, k: int) -> tuple[float, float, int]:
    """R(k), C(k), S(k) straight from the formulas (S rounded half to even)."""
    if k == 0:
        return 0.0, 0.0, 0
    reach = segment.audience * (1 - (1 - segment.reach / segment.audience) ** k)
    conversions = segment.cvr * reach
    return (
        reach,
        conversions,
        round(k * segment.fee + segment.commission_per_conversion * conversions),
    )


def allocation_figures(problem: AllocationProblem, ks: list[int]) -> Figures:
    tier_spend, tier_creators, platform_creators, platform_reach = {}, {}, {}, {}
    spend, reach, conversions = 0, [], []
    for segment, k in zip(problem.segments, ks, strict=True):
        r, c, s = segment_figures(segment, k)
        spend += s
        reach.append(r)
        conversions.append(c)
        tier_spend[segment.tier] = tier_spend.get(segment.tier, 0) + s
        tier_creators[segment.tier] = tier_creators.get(segment.tier, 0) + k
        platform_creators[segment.platform] = platform_creators.get(segment.platform, 0) + k
        platform_reach[segment.platform] = platform_reach.get(segment.platform, 0.0) + r
    return Figures(
        spend,
        math.fsum(reach),
        math.fsum(conversions),
        sum(ks),
        tier_spend,
        tier_creators,
        platform_creators,
        platform_reach,
    )


def broken(problem, figures: Figures, tolerance: float = 0.0) -> list[str]:
    """Constraints the figures break (reach and conversions up to a relative tolerance)."""
    out = []
    if figures.spend > problem.budget:
        out.append("budget")
    if figures.reach < problem.min_reach * (1 - tolerance):
        out.append("min_reach")
    if figures.conversions < problem.min_conversions * (1 - tolerance):
        out.append("min_conversions")
    for tier, rng in problem.tier_shares.items():
        spent = figures.tier_spend.get(tier, 0)
        if share(rng.min_share) * figures.spend > spent:
            out.append(f"tier_shares.{tier}.min_share")
        if share(rng.max_share) * figures.spend < spent:
            out.append(f"tier_shares.{tier}.max_share")
    for platform, cap in problem.max_creators_per_platform.items():
        if figures.platform_creators.get(platform, 0) > cap:
            out.append(f"max_creators_per_platform.{platform}")
    for tier, cap in problem.max_creators_per_tier.items():
        if figures.tier_creators.get(tier, 0) > cap:
            out.append(f"max_creators_per_tier.{tier}")
    for platform, target in getattr(problem, "min_reach_per_platform", {}).items():
        if figures.platform_reach.get(platform, 0.0) < target * (1 - tolerance):
            out.append(f"min_reach_per_platform.{platform}")
    return out


def objective_of(objective: Objective, figures: Figures) -> float:
    if objective is Objective.MAX_CONVERSIONS:
        return figures.conversions
    if objective is Objective.MAX_REACH:
        return figures.reach
    return float(figures.spend)


def brute_force_allocation(problem: AllocationProblem) -> tuple[list[int], float] | None:
    """The exact optimum by enumeration of every k vector (small problems only)."""
    best = None
    ranges = [range(s.available + 1) for s in problem.segments]
    minimise = problem.objective is Objective.MIN_SPEND
    for ks in itertools.product(*ranges):
        figures = allocation_figures(problem, list(ks))
        if broken(problem, figures):
            continue
        value = objective_of(problem.objective, figures)
        if best is None or (value < best[1] if minimise else value > best[1]):
            best = (list(ks), value)
    return best


def selection_figures(problem: SelectionProblem, chosen: list[str]) -> Figures:
    by_id = {c.id: c for c in problem.candidates}
    picked = [by_id[i] for i in chosen]
    tier_spend, tier_creators, platform_creators, plain = {}, {}, {}, {}
    products: dict[str, float] = {}
    for c in picked:
        tier_spend[c.tier] = tier_spend.get(c.tier, 0) + c.fee
        tier_creators[c.tier] = tier_creators.get(c.tier, 0) + 1
        platform_creators[c.platform] = platform_creators.get(c.platform, 0) + 1
        plain.setdefault(c.platform, []).append(c.reach)
        if problem.audience and c.platform in problem.audience:
            share_reached = min(c.reach / problem.audience[c.platform], 1.0)
            products[c.platform] = products.get(c.platform, 1.0) * (1 - share_reached)
    platform_reach = {}
    for platform, values in plain.items():
        if problem.audience and platform in problem.audience:
            platform_reach[platform] = problem.audience[platform] * (1 - products[platform])
        else:
            platform_reach[platform] = math.fsum(values)
    return Figures(
        sum(c.fee for c in picked),
        math.fsum(platform_reach.values()),
        math.fsum(c.conversions for c in picked),
        len(picked),
        tier_spend,
        tier_creators,
        platform_creators,
        platform_reach,
    )


def allowed(problem: SelectionProblem, candidate) -> bool:
    """Not excluded, and authentic enough when a minimum is set (no score: not allowed)."""
    if candidate.id in problem.must_exclude:
        return False
    if problem.min_authenticity is None:
        return True
    return candidate.authenticity is not None and candidate.authenticity >= problem.min_authenticity


def selection_rows(problem: SelectionProblem) -> tuple[list, list, list]:
    """Every constraint of a plain-sum selection as a dense row with its bounds."""
    c = problem.candidates
    fee = np.array([x.fee for x in c], dtype=float)
    reach = np.array([x.reach for x in c])
    tiers = np.array([x.tier for x in c])
    platforms = np.array([x.platform for x in c])
    rows, lo, hi = [fee], [-np.inf], [problem.budget]
    if problem.min_reach:
        rows.append(reach), lo.append(problem.min_reach), hi.append(np.inf)
    if problem.min_conversions:
        conv = np.array([x.conversions for x in c])
        rows.append(conv), lo.append(problem.min_conversions), hi.append(np.inf)
    for tier, rng in problem.tier_shares.items():
        mask = (tiers == tier).astype(float)
        rows.append(fee * (mask - rng.min_share)), lo.append(0.0), hi.append(np.inf)
        rows.append(fee * (mask - rng.max_share)), lo.append(-np.inf), hi.append(0.0)
    for platform, cap in problem.max_creators_per_platform.items():
        rows.append((platforms == platform).astype(float)), lo.append(-np.inf), hi.append(cap)
    for tier, cap in problem.max_creators_per_tier.items():
        rows.append((tiers == tier).astype(float)), lo.append(-np.inf), hi.append(cap)
    for platform, target in problem.min_reach_per_platform.items():
        rows.append(reach * (platforms == platform)), lo.append(target), hi.append(np.inf)
    return rows, lo, hi


def milp_selection(problem: SelectionProblem) -> tuple[float, list[str]] | None:
    """The optimum of a plain-sum selection with SciPy's HiGHS and its chosen ids
    (None: infeasible). HiGHS works to a tolerance, so callers check the ids exactly."""
    c = problem.candidates
    rows, lo, hi = selection_rows(problem)
    lower = np.array([1.0 if x.id in problem.must_include else 0.0 for x in c])
    upper = np.array([1.0 if allowed(problem, x) else 0.0 for x in c])
    objective = {
        Objective.MAX_CONVERSIONS: -np.array([x.conversions for x in c]),
        Objective.MAX_REACH: -np.array([x.reach for x in c]),
        Objective.MIN_SPEND: np.array([x.fee for x in c], dtype=float),
    }[problem.objective]
    result = milp(
        objective,
        constraints=LinearConstraint(np.array(rows), lo, hi),
        integrality=np.ones(len(c)),
        bounds=Bounds(lower, upper),
        options={"mip_rel_gap": 1e-9},
    )
    if result.x is None:
        return None
    value = float(result.fun if problem.objective is Objective.MIN_SPEND else -result.fun)
    return value, [x.id for x, v in zip(c, result.x, strict=True) if v > 0.5]
