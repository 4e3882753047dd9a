"""Creator selection: a 0/1 choice per candidate under campaign constraints.

Totals are plain sums of the chosen candidates' fee and conversions. Reach is a plain sum
too, unless the problem gives an `audience` per platform: then each creator reaches a share
r_i = min(reach_i / audience_p, 1) of it, audiences overlap at random (Sainsbury) and

    R_p = audience_p × (1 − Π (1 − r_i)) = audience_p × (1 − exp(−Σ w_i)),  w_i = −ln(1 − r_i)

so a per-platform reach target is the linear row Σ w_i >= −ln(1 − target / audience_p).
A total reach target or the max_reach objective over deduplicated reach is concave in
Σ w_i; it is handled with tangent cuts (outer approximations, valid for the bound) and
every plan is checked on the exact formula.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from contracts.common import Platform
from contracts.planning import (
    Diagnosis,
    Objective,
    PlanStatus,
    PlatformTotals,
    SelectionPlan,
    SelectionProblem,
)
from pricing.branching import INTEGRALITY
from pricing.clock import Budget
from pricing.constraints import (
    MIN_REACH,
    PLATFORM_INDEX,
    PLATFORMS,
    TIER_INDEX,
    TIERS,
    Limits,
    Totals,
    platform_reach_name,
)
from pricing.dedup import DedupReach
from pricing.errors import PricingError, check_currency
from pricing.linear import Aux, BoolArray, ColumnModel, FloatArray, IntArray, Row, Term, union
from pricing.planner import Outcome, Planner, stop_reason
from pricing.relaxation import Log, Separator
from pricing.search import OPTIMAL_GAP


class Catalog:
    """The eligible candidates as numpy arrays (one conversion from the structs)."""

    def __init__(self, problem: SelectionProblem) -> None:
        candidates = problem.candidates
        n = len(candidates)
        self.ids = [c.id for c in candidates]
        self.fee = np.fromiter((c.fee for c in candidates), dtype=np.int64, count=n)
        self.reach = np.fromiter((c.reach for c in candidates), dtype=float, count=n)
        self.conv = np.fromiter((c.conversions for c in candidates), dtype=float, count=n)
        self.tier = np.fromiter((TIER_INDEX[c.tier] for c in candidates), dtype=np.int64, count=n)
        self.platform = np.fromiter(
            (PLATFORM_INDEX[c.platform] for c in candidates), dtype=np.int64, count=n
        )
        self.authenticity = np.fromiter(
            (math.nan if c.authenticity is None else c.authenticity for c in candidates),
            dtype=float,
            count=n,
        )


def index_ids(ids: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for i, candidate_id in enumerate(ids):
        if positions.setdefault(candidate_id, i) != i:
            raise PricingError(f"candidates[{i}].id", f"duplicate id {candidate_id!r}")
    return positions


class SelectionPlanner(Planner):
    """Columns are the eligible candidates (must-exclude and low authenticity removed)."""

    def __init__(
        self, problem: SelectionProblem, catalog: Catalog, eligible: IntArray, forced: BoolArray
    ) -> None:
        limits = Limits(
            budget=problem.budget,
            min_reach=problem.min_reach,
            min_conversions=problem.min_conversions,
            tier_shares=dict(problem.tier_shares),
            platform_caps=dict(problem.max_creators_per_platform),
            tier_caps=dict(problem.max_creators_per_tier),
            platform_reach=dict(problem.min_reach_per_platform),
        )
        super().__init__(problem.objective, limits, problem.gap_limit)
        self.problem = problem
        self.catalog = catalog
        self.eligible = eligible
        self.forced = forced
        self.fee = catalog.fee[eligible]
        self.spend = self.fee.astype(float)
        self.reach = catalog.reach[eligible]
        self.conv = catalog.conv[eligible]
        self.tier = catalog.tier[eligible]
        self.platform = catalog.platform[eligible]
        self.dedup = DedupReach(problem.audience or {}, self.platform, self.reach)
        self._core: IntArray | None = None

    @property
    def size(self) -> int:
        return len(self.eligible)

    def features(self) -> dict[str, FloatArray]:
        return {
            "spend": self.spend,
            "reach": self.reach,
            "conv": self.conv,
            "count": np.ones(self.size),
            "w": self.dedup.weights,
            "plain_reach": self.dedup.plain_reach,
        }

    def groups(self) -> dict[str, tuple[IntArray, int]]:
        return {"tier": (self.tier, len(TIERS)), "platform": (self.platform, len(PLATFORMS))}

    def fixed(self) -> BoolArray | None:
        return self.forced if self.forced.any() else None

    def spend_cap(self) -> float:
        return float(self.fee.sum())

    def custom_rows(self) -> frozenset[str]:
        if not self.dedup.active:
            return frozenset()
        names = {platform_reach_name(p) for p in self.limits.platform_reach if self.dedup.covers(p)}
        return frozenset(names | {MIN_REACH})

    def extra_rows(self, dropped: frozenset[str]) -> tuple[list[Row], list[Aux]]:
        if not self.dedup.active:
            return [], []
        rows = self.dedup.platform_rows(self.limits.platform_reach, dropped)
        if self.limits.min_reach > 0 and MIN_REACH not in dropped:
            rows.append(self.dedup.total_reach_cut(self.limits.min_reach, None))
        return rows, []

    def objective_model(
        self, terms: tuple[Term, ...] | None
    ) -> tuple[tuple[Term, ...], list[Aux], list[Row]]:
        if terms is None and self.objective == Objective.MAX_REACH and self.dedup.active:
            return self.dedup.reach_objective()
        return super().objective_model(terms)

    def measures_exactly(self, name: str) -> bool:
        """Deduplicated total reach is not the plain sum a diagnosis maximises."""
        return not (name == MIN_REACH and self.dedup.active)

    def separator(self, model: ColumnModel) -> Separator | None:
        if not self.dedup.active:
            return None
        enforced = any(row.name == MIN_REACH for row in model.rows)
        return self.dedup.separator(model, self.limits.min_reach if enforced else 0.0)

    def initial_core(self) -> IntArray:
        """Best value per unit of fee, enough to spend the budget several times over, and
        the best few of every platform × tier (computed once: diagnoses solve often)."""
        if self._core is None:
            self._core = self._initial_core()
        return self._core

    def _initial_core(self) -> IntArray:
        value = self.conv if self.objective == Objective.MAX_CONVERSIONS else self.dedup.plain_reach
        if self.objective == Objective.MIN_SPEND:
            value = self.conv / max(self.conv.sum(), 1e-9) + self.reach / max(
                self.reach.sum(), 1e-9
            )
        ratio = value / np.maximum(self.spend, 1.0)
        order = np.argsort(-ratio, kind="stable")
        spent = np.cumsum(self.spend[order])
        count = int(np.searchsorted(spent, 1.5 * max(self.problem.budget, 1)))
        count = min(max(count, 2_000), 50_000, self.size)
        picks = [order[:count]]
        cell = self.platform * len(TIERS) + self.tier
        for code in np.flatnonzero(np.bincount(cell)):
            members = order[cell[order] == code]
            picks.append(members[:50])
        return union(self.size, *picks)

    dives = False

    def improver(self, model: ColumnModel) -> Callable[[FloatArray], BoolArray | None] | None:
        """The LP solution rounded down: feasible whenever every row only limits (budget,
        caps, upper shares), so a first plan exists before any integer search starts."""

        def round_down(x: FloatArray) -> BoolArray | None:
            return x >= 1 - INTEGRALITY

        return round_down

    def greedy(self, model: ColumnModel) -> list[BoolArray]:
        """Only the fixed columns, and the best value per unit of fee first while the
        budget and the caps allow: a plan before any LP whenever every constraint only
        limits."""
        fixed = model.fixed_mask()
        if self.objective == Objective.MIN_SPEND:
            return [fixed.copy()]
        value = self.conv if self.objective == Objective.MAX_CONVERSIONS else self.reach
        free = np.flatnonzero(~(fixed | model.forbidden_mask()) & (value > 0))
        ratio = value[free] / np.maximum(self.spend[free], 1.0)
        order = free[np.argsort(-ratio, kind="stable")]
        keep = np.ones(len(order), dtype=bool)
        caps = [(PLATFORM_INDEX[p], c, self.platform) for p, c in self.limits.platform_caps.items()]
        caps += [(TIER_INDEX[t], c, self.tier) for t, c in self.limits.tier_caps.items()]
        for index, cap, codes in caps:
            members = codes[order] == index
            already = int(np.count_nonzero(fixed & (codes == index)))
            keep &= ~members | (np.cumsum(members) + already <= cap)
        order = order[keep]
        room = self.problem.budget - int(self.fee[fixed].sum())
        plan = fixed.copy()
        plan[order[np.cumsum(self.fee[order]) <= room]] = True
        return [fixed.copy(), plan]

    def platform_reach_terms(self, platform: str) -> tuple[Term, ...]:
        """Deduplicated reach grows with Σ w_i, so maximising Σ w_i maximises it."""
        if not self.dedup.covers(Platform(platform)):
            return super().platform_reach_terms(platform)
        alpha = np.zeros(len(PLATFORMS))
        alpha[PLATFORM_INDEX[Platform(platform)]] = 1.0
        return (Term("w", "platform", alpha),)

    def core_size(self) -> int:
        return 800

    def totals(self, x: BoolArray) -> Totals:
        chosen = np.flatnonzero(x)
        fee, tier, platform = self.fee[chosen], self.tier[chosen], self.platform[chosen]
        platform_reach = self.dedup.platform_reach(chosen)
        return Totals(
            spend=int(fee.sum()),
            reach=math.fsum(platform_reach.values()),
            conversions=math.fsum(self.conv[chosen].tolist()),
            creators=len(chosen),
            tier_spend={t: int(fee[tier == i].sum()) for i, t in enumerate(TIERS)},
            tier_creators={t: int(np.count_nonzero(tier == i)) for i, t in enumerate(TIERS)},
            platform_creators={
                p: int(np.count_nonzero(platform == i)) for i, p in enumerate(PLATFORMS)
            },
            platform_reach=platform_reach,
        )

    def plan(self, outcome: Outcome) -> SelectionPlan:
        assert outcome.x is not None and outcome.totals is not None
        chosen = self.eligible[np.flatnonzero(outcome.x)]
        totals = outcome.totals
        minimise = self.objective == Objective.MIN_SPEND
        return SelectionPlan(
            status=PlanStatus.OPTIMAL if outcome.gap <= OPTIMAL_GAP else PlanStatus.FEASIBLE,
            objective=self.objective,
            currency=self.problem.currency,
            selected=[self.catalog.ids[i] for i in np.sort(chosen)],
            total_spend=totals.spend,
            total_reach=totals.reach,
            total_conversions=totals.conversions,
            total_creators=totals.creators,
            platforms=self._platform_totals(outcome.x, totals),
            binding=outcome.binding,
            objective_value=-outcome.value if minimise else outcome.value,
            bound=-outcome.bound if minimise else outcome.bound,
            gap=outcome.gap,
            stop_reason=stop_reason(outcome),
            notes=list(outcome.notes),
        )

    def _platform_totals(self, x: BoolArray, totals: Totals) -> list[PlatformTotals]:
        chosen = np.flatnonzero(x)
        result = []
        for i, platform in enumerate(PLATFORMS):
            members = chosen[self.platform[chosen] == i]
            if len(members) == 0:
                continue
            result.append(
                PlatformTotals(
                    platform=platform,
                    creators=len(members),
                    spend=int(self.fee[members].sum()),
                    reach=totals.platform_reach[platform],
                    conversions=math.fsum(self.conv[members].tolist()),
                )
            )
        return result


def _check(problem: SelectionProblem) -> None:
    check_currency(problem.currency)
    for tier, share in problem.tier_shares.items():
        if share.min_share > share.max_share:
            raise PricingError(f"tier_shares.{tier}.min_share", "must not exceed max_share")


def _exclusions(
    problem: SelectionProblem, catalog: Catalog, positions: dict[str, int]
) -> BoolArray:
    excluded = np.zeros(len(catalog.ids), dtype=bool)
    for candidate_id in problem.must_exclude:
        index = positions.get(candidate_id)
        if index is not None:
            excluded[index] = True
    if problem.min_authenticity is not None:
        score = catalog.authenticity
        excluded |= np.isnan(score) | (score < problem.min_authenticity)
    return excluded


def _forced(problem: SelectionProblem, positions: dict[str, int], size: int) -> BoolArray:
    forced = np.zeros(size, dtype=bool)
    for i, candidate_id in enumerate(problem.must_include):
        index = positions.get(candidate_id)
        if index is None:
            raise PricingError(f"must_include[{i}]", f"unknown candidate id {candidate_id!r}")
        forced[index] = True
    return forced


def prepare(problem: SelectionProblem, log: Log | None = None) -> SelectionPlanner | Diagnosis:
    """Check the problem and build its planner, or diagnose a must-include conflict."""
    _check(problem)
    catalog = Catalog(problem)
    if log is not None:
        log(f"loaded {len(catalog.ids)} candidates")
    positions = index_ids(catalog.ids)
    excluded = _exclusions(problem, catalog, positions)
    forced = _forced(problem, positions, len(catalog.ids))
    if np.any(forced & excluded):
        from pricing.diagnosis import must_include_conflict

        return must_include_conflict(problem, catalog, forced & excluded)
    eligible = np.flatnonzero(~excluded)
    return SelectionPlanner(problem, catalog, eligible, forced[eligible])


def select(problem: SelectionProblem, log: Log | None = None) -> SelectionPlan | Diagnosis:
    """The best selection within `time_limit_seconds` (stopping at `gap_limit`), or a
    diagnosis when none exists. Raises PricingError (naming the field) on bad input."""
    from pricing.diagnosis import diagnose

    budget = Budget.of(problem.time_limit_seconds)
    planner = prepare(problem, log)
    if isinstance(planner, Diagnosis):
        return planner
    outcome = planner.solve(budget, log=log)
    if outcome.x is None:
        return diagnose(planner, outcome, budget, log)
    return planner.plan(outcome)
