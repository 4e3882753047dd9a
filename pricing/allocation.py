"""Tier allocation: how many creators to hire in each (platform, tier) segment.

Column (s, k) means "hire k creators in segment s"; exactly one column per segment is
chosen. Per column the exact figures are tabulated once:

    R_s(k) = audience_s × (1 − (1 − reach_s / audience_s)^k)
    C_s(k) = cvr_s × R_s(k)
    S_s(k) = k × fee_s + commission_per_conversion_s × C_s(k), rounded half to even

and every constraint is checked on these rounded figures, so the reported plan meets the
budget and the tier shares to the minor unit.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from contracts.common import Platform
from contracts.planning import (
    AllocationPlan,
    AllocationProblem,
    Diagnosis,
    Objective,
    PlanStatus,
    SegmentPlan,
)
from pricing.branching import INTEGRALITY, Brancher, Restriction, Rounder
from pricing.clock import Budget
from pricing.constraints import (
    PLATFORM_INDEX,
    PLATFORMS,
    TIER_INDEX,
    TIERS,
    Limits,
    Totals,
)
from pricing.errors import PricingError, check_currency
from pricing.linear import (
    Aux,
    BoolArray,
    ColumnModel,
    FloatArray,
    IntArray,
    Row,
    Term,
    row_values,
    union,
)
from pricing.neighbourhood import LocalSearch, Tables
from pricing.planner import Outcome, Planner, stop_reason
from pricing.relaxation import Log
from pricing.search import OPTIMAL_GAP

MAX_COLUMNS = 400_000


def segment_curves(
    fee: int, reach: float, audience: float, cvr: float, commission: int, available: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """R(k), C(k) and rounded S(k) for k = 0..available."""
    k = np.arange(available + 1, dtype=float)
    share = min(reach / audience, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        curve = -np.expm1(k * math.log1p(-share)) if share < 1.0 else np.ones_like(k)
    reached = audience * curve
    reached[0] = 0.0
    conversions = cvr * reached
    spend = np.rint(k * fee + commission * conversions)
    return reached, conversions, spend


def _check(problem: AllocationProblem) -> None:
    check_currency(problem.currency)
    total = 0
    seen: dict[tuple[str, str], int] = {}
    for i, segment in enumerate(problem.segments):
        if segment.reach > segment.audience:
            raise PricingError(f"segments[{i}].reach", "must not exceed the segment's audience")
        first = seen.setdefault((segment.platform, segment.tier), i)
        if first != i:
            raise PricingError(
                f"segments[{i}]",
                f"duplicate of segments[{first}] ({segment.platform}, {segment.tier}): "
                "give each platform and tier once",
            )
        total += segment.available + 1
    if total > MAX_COLUMNS:
        raise PricingError(
            "segments", f"at most {MAX_COLUMNS - len(problem.segments)} creators in all"
        )
    for tier, share in problem.tier_shares.items():
        if share.min_share > share.max_share:
            raise PricingError(f"tier_shares.{tier}.min_share", "must not exceed max_share")


class AllocationPlanner(Planner):
    """The allocation problem as columns (segment, k)."""

    def __init__(self, problem: AllocationProblem) -> None:
        _check(problem)
        limits = Limits(
            budget=problem.budget,
            min_reach=problem.min_reach,
            min_conversions=problem.min_conversions,
            tier_shares=dict(problem.tier_shares),
            platform_caps=dict(problem.max_creators_per_platform),
            tier_caps=dict(problem.max_creators_per_tier),
        )
        super().__init__(problem.objective, limits, problem.gap_limit)
        self.problem = problem
        self._tabulate()

    def _tabulate(self) -> None:
        curves = [
            segment_curves(
                s.fee, s.reach, s.audience, s.cvr, s.commission_per_conversion, s.available
            )
            for s in self.problem.segments
        ]
        sizes = np.array([s.available + 1 for s in self.problem.segments])
        self.offsets = np.concatenate(([0], np.cumsum(sizes)))
        self.segment = np.repeat(np.arange(len(sizes)), sizes)
        self.k = np.concatenate([np.arange(n) for n in sizes]).astype(float)
        self.reach = np.concatenate([c[0] for c in curves])
        self.conv = np.concatenate([c[1] for c in curves])
        self.spend = np.concatenate([c[2] for c in curves])
        tiers = np.array([TIER_INDEX[s.tier] for s in self.problem.segments])
        platforms = np.array([PLATFORM_INDEX[s.platform] for s in self.problem.segments])
        self.tier_of = tiers[self.segment]
        self.platform_of = platforms[self.segment]

    @property
    def size(self) -> int:
        return len(self.k)

    def features(self) -> dict[str, FloatArray]:
        ones = np.ones(self.size)
        return {
            "spend": self.spend,
            "reach": self.reach,
            "conv": self.conv,
            "count": self.k,
            "one": ones,
        }

    def groups(self) -> dict[str, tuple[IntArray, int]]:
        return {
            "segment": (self.segment, len(self.problem.segments)),
            "tier": (self.tier_of, len(TIERS)),
            "platform": (self.platform_of, len(PLATFORMS)),
        }

    def extra_rows(self, dropped: frozenset[str]) -> tuple[list[Row], list[Aux]]:
        count = len(self.problem.segments)
        rows = []
        for s in range(count):
            alpha = np.zeros(count)
            alpha[s] = 1.0
            rows.append(Row("", 1.0, 1.0, (Term("one", "segment", alpha),)))
        return rows, []

    def spend_cap(self) -> float:
        return float(self.spend[self.offsets[1:] - 1].sum())

    def core_size(self) -> int:
        return 25 * len(self.problem.segments)

    def initial_core(self) -> IntArray:
        picks = []
        for s, segment in enumerate(self.problem.segments):
            ks = union(
                segment.available + 1, np.linspace(0, segment.available, 9).round().astype(np.int64)
            )
            picks.append(self.offsets[s] + ks)
        return np.concatenate(picks)

    def round_lp(self, x: FloatArray) -> BoolArray:
        """Per segment, the k nearest the LP's average k."""
        hint = np.zeros(self.size, dtype=bool)
        hint[self.offsets[:-1] + np.rint(self._average_k(x)).astype(np.int64)] = True
        return hint

    def greedy(self, model: ColumnModel) -> list[BoolArray]:
        """Nobody hired: a plan whenever every constraint only limits."""
        empty = np.zeros(self.size, dtype=bool)
        empty[self.offsets[:-1]] = True
        return [empty]

    def alternatives(self, x: BoolArray, model: ColumnModel) -> list[tuple[IntArray, IntArray]]:
        """Per segment, the fewest creators with exactly the same reach and conversions
        (a segment whose reach already covers its audience gains nothing from more)."""
        changes = []
        for j in np.flatnonzero(x):
            s = int(self.segment[j])
            columns = np.arange(self.offsets[s], j)
            same = columns[
                (self.reach[columns] == self.reach[j]) & (self.conv[columns] == self.conv[j])
            ]
            if len(same) and self.spend[same[0]] < self.spend[j]:
                changes.append((np.array([j]), same[:1]))
        return changes

    def improver(self, model: ColumnModel) -> Callable[[FloatArray], BoolArray | None] | None:
        tables = Tables(
            offsets=self.offsets,
            available=np.array([s.available for s in self.problem.segments]),
            spend=self.spend,
            reach=self.reach,
            conv=self.conv,
            tier=np.array([TIER_INDEX[s.tier] for s in self.problem.segments]),
            platform=np.array([PLATFORM_INDEX[s.platform] for s in self.problem.segments]),
        )
        search = LocalSearch(tables, self.limits, row_values(model, model.objective))

        def improve(x: FloatArray) -> BoolArray | None:
            k = search.run(np.rint(self._average_k(x)).astype(np.int64))
            plan = np.zeros(self.size, dtype=bool)
            plan[self.offsets[:-1] + k] = True
            return plan

        return improve

    def _fractional_segments(self, x: FloatArray) -> IntArray:
        support = x > INTEGRALITY
        counts = np.bincount(self.segment[support], minlength=len(self.problem.segments))
        return np.flatnonzero(counts > 1)

    def _average_k(self, x: FloatArray) -> FloatArray:
        """Σ k × x per segment, within 0..available (an approximate LP solution, or the
        Lagrangian fallback's, need not choose one column per segment)."""
        weights = x * self.k
        counts = np.bincount(self.segment, weights=weights, minlength=len(self.problem.segments))
        available = self.offsets[1:] - self.offsets[:-1] - 1
        clipped: FloatArray = np.clip(counts.astype(float), 0.0, available.astype(float))
        return clipped

    def brancher(self, model: ColumnModel) -> Brancher:
        """Split the k range of the fractional segment whose columns differ most in value."""
        weight = np.abs(row_values(model, model.objective))

        def branch(x: FloatArray, rc: FloatArray) -> tuple[Restriction, Restriction] | None:
            segments = self._fractional_segments(x)
            if len(segments) == 0:
                return None
            support = np.flatnonzero(x > INTEGRALITY)
            spread = [np.ptp(weight[support[self.segment[support] == s]]) for s in segments]
            s = int(segments[int(np.argmax(spread))])
            split = math.floor(self._average_k(x)[s] + 1e-9)
            columns = np.arange(self.offsets[s], self.offsets[s + 1])
            none = np.zeros(0, dtype=np.int64)
            below = columns[self.k[columns] <= split]
            above = columns[self.k[columns] > split]
            return Restriction(none, above), Restriction(none, below)

        return branch

    def rounder(self, model: ColumnModel) -> Rounder:
        """Dive step: each fractional segment keeps only the k nearest its LP average;
        failing that, the k on the other side of the average."""

        def keep(x: FloatArray, pick: Callable[[float], int]) -> Restriction:
            average = self._average_k(x)
            forbid = [np.zeros(0, dtype=np.int64)]
            for s in self._fractional_segments(x):
                columns = np.arange(self.offsets[s], self.offsets[s + 1])
                forbid.append(columns[self.k[columns] != pick(average[s])])
            return Restriction(np.zeros(0, dtype=np.int64), np.concatenate(forbid))

        def round_step(x: FloatArray) -> list[Restriction]:
            nearest = keep(x, lambda a: round(a))
            other = keep(x, lambda a: math.ceil(a) if round(a) == math.floor(a) else math.floor(a))
            return [nearest, other]

        return round_step

    def choices(self, x: BoolArray) -> IntArray:
        """k per segment; raises if a segment has not exactly one column chosen."""
        chosen = np.flatnonzero(x)
        counts = np.bincount(self.segment[chosen], minlength=len(self.problem.segments))
        if not np.all(counts == 1):
            raise ValueError("a plan must choose exactly one k per segment")
        return chosen

    def check(self, x: BoolArray, dropped: frozenset[str]) -> bool:
        try:
            self.choices(x)
        except ValueError:
            return False
        return super().check(x, dropped)

    def totals(self, x: BoolArray) -> Totals:
        chosen = self.choices(x)
        spend = [int(v) for v in self.spend[chosen]]
        tiers = [TIERS[t] for t in self.tier_of[chosen]]
        platforms = [PLATFORMS[p] for p in self.platform_of[chosen]]
        counts = [int(v) for v in self.k[chosen]]
        reach = self.reach[chosen].tolist()
        tier_spend = {t: 0 for t in TIERS}
        tier_creators = {t: 0 for t in TIERS}
        platform_creators = {p: 0 for p in PLATFORMS}
        platform_reach: dict[Platform, list[float]] = {p: [] for p in PLATFORMS}
        for value, tier, platform, count, people in zip(
            spend, tiers, platforms, counts, reach, strict=True
        ):
            tier_spend[tier] += value
            tier_creators[tier] += count
            platform_creators[platform] += count
            platform_reach[platform].append(people)
        return Totals(
            spend=sum(spend),
            reach=math.fsum(reach),
            conversions=math.fsum(self.conv[chosen].tolist()),
            creators=sum(counts),
            tier_spend=tier_spend,
            tier_creators=tier_creators,
            platform_creators=platform_creators,
            platform_reach={p: math.fsum(v) for p, v in platform_reach.items()},
        )

    def plan(self, outcome: Outcome) -> AllocationPlan:
        assert outcome.x is not None and outcome.totals is not None
        chosen = self.choices(outcome.x)
        segments = [
            SegmentPlan(
                platform=segment.platform,
                tier=segment.tier,
                creators=int(self.k[j]),
                reach=float(self.reach[j]),
                conversions=float(self.conv[j]),
                spend=int(self.spend[j]),
            )
            for segment, j in zip(self.problem.segments, chosen, strict=True)
        ]
        totals = outcome.totals
        minimise = self.objective == Objective.MIN_SPEND
        return AllocationPlan(
            status=PlanStatus.OPTIMAL if outcome.gap <= OPTIMAL_GAP else PlanStatus.FEASIBLE,
            objective=self.objective,
            currency=self.problem.currency,
            segments=segments,
            total_spend=totals.spend,
            total_reach=totals.reach,
            total_conversions=totals.conversions,
            total_creators=totals.creators,
            binding=outcome.binding,
            objective_value=-outcome.value if minimise else outcome.value,
            bound=-outcome.bound if minimise else outcome.bound,
            gap=outcome.gap,
            stop_reason=stop_reason(outcome),
            notes=list(outcome.notes),
        )


def allocate(problem: AllocationProblem, log: Log | None = None) -> AllocationPlan | Diagnosis:
    """The best allocation within `time_limit_seconds`, or a diagnosis when none exists.

    Raises PricingError (naming the field) on inconsistent input."""
    from pricing.diagnosis import diagnose

    budget = Budget.of(problem.time_limit_seconds)
    planner = AllocationPlanner(problem)
    outcome = planner.solve(budget, log=log)
    if outcome.x is None:
        return diagnose(planner, outcome, budget, log)
    return planner.plan(outcome)
