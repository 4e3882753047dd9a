"""Campaign constraints shared by allocation and selection: names, rows and exact checks.

A plan is judged on its exact totals (`Totals`, computed by each problem from the plan
with the formulas of PRICING.md); the rows given to the solvers are the same constraints
written over the column features `spend`, `reach`, `conv` and `count`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from contracts.common import Platform, Tier
from contracts.planning import Objective, ShareRange
from pricing.linear import Aux, Row, Term

TIERS: tuple[Tier, ...] = tuple(Tier)
PLATFORMS: tuple[Platform, ...] = tuple(Platform)
TIER_INDEX = {tier: i for i, tier in enumerate(TIERS)}
PLATFORM_INDEX = {platform: i for i, platform in enumerate(PLATFORMS)}
BUDGET = "budget"
MIN_REACH = "min_reach"
MIN_CONVERSIONS = "min_conversions"


def decimal_fraction(value: float) -> Fraction:
    """A share as the decimal number written in the problem: 0.1 is exactly 1/10."""
    return Fraction(repr(value))


def share_name(tier: Tier, side: str) -> str:
    return f"tier_shares.{tier}.{side}"


def platform_cap_name(platform: Platform) -> str:
    return f"max_creators_per_platform.{platform}"


def tier_cap_name(tier: Tier) -> str:
    return f"max_creators_per_tier.{tier}"


def platform_reach_name(platform: Platform) -> str:
    return f"min_reach_per_platform.{platform}"


@dataclass(frozen=True, slots=True)
class Limits:
    """The constraints of a planning problem, in one shape for both problems."""

    budget: int
    min_reach: float = 0.0
    min_conversions: float = 0.0
    tier_shares: dict[Tier, ShareRange] = field(default_factory=dict)
    platform_caps: dict[Platform, int] = field(default_factory=dict)
    tier_caps: dict[Tier, int] = field(default_factory=dict)
    platform_reach: dict[Platform, float] = field(default_factory=dict)

    def names(self) -> list[str]:
        """Every active constraint, in a stable order."""
        names = [BUDGET]
        if self.min_reach > 0:
            names.append(MIN_REACH)
        if self.min_conversions > 0:
            names.append(MIN_CONVERSIONS)
        for tier, share in self.tier_shares.items():
            if share.min_share > 0:
                names.append(share_name(tier, "min_share"))
            if share.max_share < 1:
                names.append(share_name(tier, "max_share"))
        names.extend(platform_cap_name(p) for p in self.platform_caps)
        names.extend(tier_cap_name(t) for t in self.tier_caps)
        names.extend(platform_reach_name(p) for p, v in self.platform_reach.items() if v > 0)
        return names


@dataclass(frozen=True, slots=True)
class Totals:
    """Exact figures of one plan (money in integer minor units)."""

    spend: int
    reach: float
    conversions: float
    creators: int
    tier_spend: dict[Tier, int]
    tier_creators: dict[Tier, int]
    platform_creators: dict[Platform, int]
    platform_reach: dict[Platform, float]


def violations(totals: Totals, limits: Limits, dropped: frozenset[str] = frozenset()) -> list[str]:
    """Names of the constraints the plan breaks (shares are checked with exact rationals)."""
    broken = []
    if totals.spend > limits.budget:
        broken.append(BUDGET)
    if totals.reach < limits.min_reach:
        broken.append(MIN_REACH)
    if totals.conversions < limits.min_conversions:
        broken.append(MIN_CONVERSIONS)
    for tier, share in limits.tier_shares.items():
        spent = totals.tier_spend.get(tier, 0)
        if decimal_fraction(share.min_share) * totals.spend > spent:
            broken.append(share_name(tier, "min_share"))
        if decimal_fraction(share.max_share) * totals.spend < spent:
            broken.append(share_name(tier, "max_share"))
    for platform, cap in limits.platform_caps.items():
        if totals.platform_creators.get(platform, 0) > cap:
            broken.append(platform_cap_name(platform))
    for tier, cap in limits.tier_caps.items():
        if totals.tier_creators.get(tier, 0) > cap:
            broken.append(tier_cap_name(tier))
    for platform, target in limits.platform_reach.items():
        if totals.platform_reach.get(platform, 0.0) < target:
            broken.append(platform_reach_name(platform))
    return [name for name in broken if name not in dropped]


def objective_value(objective: Objective, totals: Totals) -> float:
    """The objective in maximisation form (min_spend is −spend)."""
    if objective == Objective.MAX_CONVERSIONS:
        return totals.conversions
    if objective == Objective.MAX_REACH:
        return totals.reach
    return -float(totals.spend)


def _unit(value: float = 1.0) -> np.ndarray:
    return np.array([value])


def _one_hot(size: int, index: int, value: float = 1.0) -> np.ndarray:
    alpha = np.zeros(size)
    alpha[index] = value
    return alpha


def objective_terms(objective: Objective) -> tuple[Term, ...]:
    if objective == Objective.MAX_CONVERSIONS:
        return (Term("conv", None, _unit()),)
    if objective == Objective.MAX_REACH:
        return (Term("reach", None, _unit()),)
    return (Term("spend", None, _unit(-1.0)),)


def spend_rows(
    limits: Limits, dropped: frozenset[str], budget_cap: float
) -> tuple[list[Row], list[Aux]]:
    """Budget and tier-share rows. With shares, spend per tier is an auxiliary E_t
    (E_t = Σ spend of the tier) so the share rows stay short."""
    budget = math.inf if BUDGET in dropped else float(limits.budget)
    if not limits.tier_shares:
        return [Row(BUDGET, -math.inf, budget, (Term("spend", None, _unit()),))], []
    size = len(TIERS)
    cap = min(budget, budget_cap)
    aux = [Aux(f"spend.{tier}", 0.0, cap) for tier in TIERS]
    rows = [
        Row("", 0.0, 0.0, (Term("spend", "tier", _one_hot(size, t)),), ((t, -1.0),))
        for t in range(size)
    ]
    rows.append(Row(BUDGET, -math.inf, budget, (), tuple((t, 1.0) for t in range(size))))
    for tier, share in limits.tier_shares.items():
        t = TIER_INDEX[tier]
        for side, value in (("min_share", share.min_share), ("max_share", share.max_share)):
            name = share_name(tier, side)
            inactive = value <= 0 if side == "min_share" else value >= 1
            if name in dropped or inactive:
                continue
            exact = decimal_fraction(value)
            coefficients = tuple((k, float((1 if k == t else 0) - exact)) for k in range(size))
            lo, hi = (0.0, math.inf) if side == "min_share" else (-math.inf, 0.0)
            rows.append(Row(name, lo, hi, (), coefficients, exact.denominator))
    return rows, aux


def target_and_cap_rows(limits: Limits, dropped: frozenset[str]) -> list[Row]:
    """Plain-sum reach and conversion targets (total and per platform) and the caps."""
    rows = []
    if limits.min_reach > 0 and MIN_REACH not in dropped:
        rows.append(Row(MIN_REACH, limits.min_reach, math.inf, (Term("reach", None, _unit()),)))
    if limits.min_conversions > 0 and MIN_CONVERSIONS not in dropped:
        term = Term("conv", None, _unit())
        rows.append(Row(MIN_CONVERSIONS, limits.min_conversions, math.inf, (term,)))
    for platform, cap in limits.platform_caps.items():
        name = platform_cap_name(platform)
        if name not in dropped:
            alpha = _one_hot(len(PLATFORMS), PLATFORM_INDEX[platform])
            rows.append(Row(name, -math.inf, float(cap), (Term("count", "platform", alpha),)))
    for tier, cap in limits.tier_caps.items():
        name = tier_cap_name(tier)
        if name not in dropped:
            alpha = _one_hot(len(TIERS), TIER_INDEX[tier])
            rows.append(Row(name, -math.inf, float(cap), (Term("count", "tier", alpha),)))
    for platform, target in limits.platform_reach.items():
        name = platform_reach_name(platform)
        if target > 0 and name not in dropped:
            alpha = _one_hot(len(PLATFORMS), PLATFORM_INDEX[platform])
            rows.append(Row(name, target, math.inf, (Term("reach", "platform", alpha),)))
    return rows


def direction_terms(name: str) -> tuple[Term, ...] | None:
    """The objective that pushes the quantity limited by `name` in the feasible direction
    (None for tier shares, which are ratios)."""
    if name == BUDGET:
        return (Term("spend", None, _unit(-1.0)),)
    if name == MIN_REACH:
        return (Term("reach", None, _unit()),)
    if name == MIN_CONVERSIONS:
        return (Term("conv", None, _unit()),)
    kind, _, key = name.partition(".")
    if kind == "max_creators_per_platform":
        index = PLATFORM_INDEX[Platform(key)]
        return (Term("count", "platform", _one_hot(len(PLATFORMS), index, -1.0)),)
    if kind == "max_creators_per_tier":
        return (Term("count", "tier", _one_hot(len(TIERS), TIER_INDEX[Tier(key)], -1.0)),)
    return None


def share_terms(tier: Tier, ratio: float, sign: float) -> tuple[Term, ...]:
    """sign × (spend of `tier` − ratio × total spend): Dinkelbach's step for a share."""
    alpha = np.full(len(TIERS), -ratio * sign)
    alpha[TIER_INDEX[tier]] += sign
    return (Term("spend", "tier", alpha),)


def measure(name: str, totals: Totals) -> float:
    """The plan's value of the quantity a constraint limits."""
    if name == BUDGET:
        return float(totals.spend)
    if name == MIN_REACH:
        return totals.reach
    if name == MIN_CONVERSIONS:
        return totals.conversions
    kind, _, key = name.partition(".")
    if kind == "max_creators_per_platform":
        return float(totals.platform_creators.get(Platform(key), 0))
    if kind == "max_creators_per_tier":
        return float(totals.tier_creators.get(Tier(key), 0))
    if kind == "min_reach_per_platform":
        return totals.platform_reach.get(Platform(key), 0.0)
    tier = Tier(key.partition(".")[0])
    return totals.tier_spend.get(tier, 0) / totals.spend if totals.spend else 0.0
