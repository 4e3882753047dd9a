"""What allocation and selection have in common: a column model built from `Limits`,
searched with `pricing.search`, with plans judged on their exact `Totals`.

Among plans of equal objective value the cheaper one is reported: the search prefers it,
and the final plan drops whatever adds nothing to the objective (`cheaper_equal`).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from contracts.common import Platform
from contracts.planning import Objective, StopReason
from pricing.branching import INTEGRALITY, Brancher, Restriction, Rounder
from pricing.clock import Budget
from pricing.constraints import (
    PLATFORM_INDEX,
    PLATFORMS,
    Limits,
    Totals,
    measure,
    objective_terms,
    objective_value,
    spend_rows,
    target_and_cap_rows,
    violations,
)
from pricing.linear import (
    Aux,
    BoolArray,
    ColumnModel,
    FloatArray,
    IntArray,
    Row,
    Term,
    row_scale,
    row_values,
)
from pricing.relaxation import Log, Separator
from pricing.search import SearchProblem, SearchResult, relative_gap, search

MAX_TIDY = 200
# Work units per column of setting a search up (model, first plans, first core).
SETUP_UNIT = 7e-7


@dataclass(frozen=True, slots=True)
class Outcome:
    """A finished search: the verified plan (if any) and its exact totals."""

    x: BoolArray | None
    totals: Totals | None
    value: float
    bound: float
    infeasible: bool
    binding: list[str]
    stop: str = "gap_limit"
    notes: tuple[str, ...] = ()

    @property
    def gap(self) -> float:
        return relative_gap(self.bound, self.value)


class Planner(ABC):
    """A planning problem as 0/1 columns; subclasses provide columns and exact totals."""

    def __init__(self, objective: Objective, limits: Limits, gap_limit: float) -> None:
        self.objective = Objective(objective)
        self.limits = limits
        self.gap_limit = gap_limit

    @property
    @abstractmethod
    def size(self) -> int: ...

    @abstractmethod
    def features(self) -> dict[str, FloatArray]: ...

    @abstractmethod
    def groups(self) -> dict[str, tuple[IntArray, int]]: ...

    @abstractmethod
    def totals(self, x: BoolArray) -> Totals: ...

    @abstractmethod
    def initial_core(self) -> IntArray: ...

    @abstractmethod
    def spend_cap(self) -> float: ...

    def core_size(self) -> int:
        return 2_000

    dives = True

    def fixed(self) -> BoolArray | None:
        return None

    def extra_rows(self, dropped: frozenset[str]) -> tuple[list[Row], list[Aux]]:
        return [], []

    def custom_rows(self) -> frozenset[str]:
        """Constraints whose rows `extra_rows` writes instead of the plain-sum rows."""
        return frozenset()

    def objective_model(
        self, terms: tuple[Term, ...] | None
    ) -> tuple[tuple[Term, ...], list[Aux], list[Row]]:
        """The objective terms (and any auxiliaries or rows it needs)."""
        return (terms if terms is not None else objective_terms(self.objective)), [], []

    def separator(self, model: ColumnModel) -> Separator | None:
        return None

    def platform_reach_terms(self, platform: str) -> tuple[Term, ...]:
        """Objective terms that maximise one platform's reach (plain sums)."""
        alpha = np.zeros(len(PLATFORMS))
        alpha[PLATFORM_INDEX[Platform(platform)]] = 1.0
        return (Term("reach", "platform", alpha),)

    def round_lp(self, x: FloatArray) -> BoolArray:
        """A plan near the LP solution, used as the first hint of the integer search."""
        return x > 0.5

    def improver(self, model: ColumnModel) -> Callable[[FloatArray], BoolArray | None] | None:
        """A fast problem-specific heuristic from the LP solution (none by default)."""
        return None

    def greedy(self, model: ColumnModel) -> list[BoolArray]:
        """Plans to try before any LP (the search checks them): only the fixed columns."""
        return [model.fixed_mask().copy()]

    def alternatives(self, x: BoolArray, model: ColumnModel) -> list[tuple[IntArray, IntArray]]:
        """Changes (columns off, columns on) that make a plan cheaper and may keep its
        objective: dropping a chosen column whose objective coefficient is zero, most
        expensive first."""
        weight = row_values(model, model.objective)
        spend = model.features["spend"]
        candidates = np.flatnonzero(x & ~model.fixed_mask() & (weight == 0.0) & (spend > 0))
        order = candidates[np.argsort(-spend[candidates], kind="stable")][:MAX_TIDY]
        none = np.zeros(0, dtype=np.int64)
        return [(np.array([j]), none) for j in order]

    def brancher(self, model: ColumnModel) -> Brancher:
        """Branch on the fractional column that weighs most in the objective."""
        weight = np.abs(row_values(model, model.objective)) + 1e-12

        def branch(x: FloatArray, rc: FloatArray) -> tuple[Restriction, Restriction] | None:
            fractional = np.flatnonzero((x > INTEGRALITY) & (x < 1 - INTEGRALITY))
            if len(fractional) == 0:
                return None
            score = weight[fractional] * np.minimum(x[fractional], 1 - x[fractional])
            j = fractional[int(np.argmax(score))]
            none = np.zeros(0, dtype=np.int64)
            return Restriction(np.array([j]), none), Restriction(none, np.array([j]))

        return branch

    def rounder(self, model: ColumnModel) -> Rounder:
        """Dive step: fractional columns at 0.5 or more are fixed and the others
        forbidden; failing that, all fractional columns are forbidden."""

        def round_step(x: FloatArray) -> list[Restriction]:
            fractional = (x > INTEGRALITY) & (x < 1 - INTEGRALITY)
            up = np.flatnonzero(fractional & (x >= 0.5))
            down = np.flatnonzero(fractional & (x < 0.5))
            none = np.zeros(0, dtype=np.int64)
            return [Restriction(up, down), Restriction(none, np.flatnonzero(fractional))]

        return round_step

    def build(self, dropped: frozenset[str], terms: tuple[Term, ...] | None = None) -> ColumnModel:
        rows, aux = spend_rows(self.limits, dropped, self.spend_cap())
        rows.extend(target_and_cap_rows(self.limits, dropped | self.custom_rows()))
        model = ColumnModel(self.size, self.features(), self.groups(), rows, (), aux, self.fixed())
        extra_rows, extra_aux = self.extra_rows(dropped)
        _append(model, extra_rows, extra_aux)
        objective, objective_aux, objective_rows = self.objective_model(terms)
        _append(model, objective_rows, objective_aux)
        model.objective = objective
        return model

    def measure(self, name: str, totals: Totals) -> float:
        """The plan's value of the quantity constraint `name` limits."""
        return measure(name, totals)

    def measures_exactly(self, name: str) -> bool:
        """Whether optimising `direction` terms for `name` optimises the quantity itself."""
        return True

    def check(self, x: BoolArray, dropped: frozenset[str]) -> bool:
        return not violations(self.totals(x), self.limits, dropped)

    def solve(
        self,
        budget: Budget,
        dropped: frozenset[str] = frozenset(),
        terms: tuple[Term, ...] | None = None,
        log: Log | None = None,
        first_plan: bool = False,
        gap_limit: float | None = None,
    ) -> Outcome:
        """Best verified plan for the objective (or for `terms`, maximised), with bound,
        stopping at `gap_limit` (the problem's by default); with `first_plan`, the first
        verified plan found."""
        if budget.stopped():
            stop = "time_limit" if budget.deadline.expired() else "work_limit"
            return Outcome(None, None, -math.inf, math.inf, False, [], stop)
        model = self.build(dropped, terms)

        def evaluate(x: BoolArray) -> float:
            if terms is None:
                return objective_value(self.objective, self.totals(x))
            return math.fsum(row_values(model, model.objective)[x].tolist())

        def spend(x: BoolArray) -> float:
            return float(model.features["spend"][x].sum())

        problem = SearchProblem(
            model=model,
            initial_core=self.initial_core(),
            evaluate=evaluate,
            verify=lambda x: self.check(x, dropped),
            spend=spend,
            gap_limit=1.0 if first_plan else (self.gap_limit if gap_limit is None else gap_limit),
            core_size=self.core_size(),
            brancher=self.brancher(model),
            rounder=self.rounder(model),
            round_lp=self.round_lp,
            separate=self.separator(model),
            improve=self.improver(model),
            greedy=lambda: self.greedy(model),
            dive=self.dives,
        )
        budget.work.add(SETUP_UNIT * model.n)
        result = search(problem, budget, log)
        if result.x is not None and not first_plan:
            result.x = self._cheaper_equal(result.x, problem, budget)
        return self._outcome(model, result)

    def _cheaper_equal(self, x: BoolArray, problem: SearchProblem, budget: Budget) -> BoolArray:
        """The cheapest plan of the same value among `alternatives`, tried in turn while
        the deadline allows."""
        value, spend = problem.evaluate(x), problem.spend(x)
        for off, on in self.alternatives(x, problem.model):
            if budget.deadline.expired():
                break
            trial = x.copy()
            trial[off], trial[on] = False, True
            if problem.spend(trial) >= spend or not problem.verify(trial):
                continue
            if problem.evaluate(trial) >= value:
                x, spend = trial, problem.spend(trial)
        return x

    def _outcome(self, model: ColumnModel, result: SearchResult) -> Outcome:
        totals = self.totals(result.x) if result.x is not None else None
        relaxation = result.relaxation
        duals = relaxation.duals if relaxation is not None else np.zeros(0)
        bound = relaxation.bound if relaxation is not None else math.inf
        return Outcome(
            x=result.x,
            totals=totals,
            value=result.value,
            bound=max(result.bound, result.value),
            infeasible=result.infeasible,
            binding=binding(model, duals, bound)
            if relaxation is not None and relaxation.lp
            else [],
            stop=result.stop,
            notes=tuple(result.notes),
        )


def stop_reason(outcome: Outcome) -> StopReason:
    """The contract's reason: the gap limit was proven, the time limit came first, or the
    search completed with nothing left to try."""
    if outcome.stop in ("time_limit", "work_limit"):
        return StopReason.TIME_LIMIT
    return StopReason.COMPLETED if outcome.stop == "completed" else StopReason.GAP_LIMIT


def _append(model: ColumnModel, rows: list[Row], aux: list[Aux]) -> None:
    """Add rows whose auxiliary indices refer to `aux` (appended to the model's)."""
    offset = len(model.aux)
    model.aux.extend(aux)
    for row in rows:
        shifted = tuple((k + offset, b) for k, b in row.aux)
        model.rows.append(Row(row.name, row.lo, row.hi, row.terms, shifted))


def binding(model: ColumnModel, duals: FloatArray, bound: float) -> list[str]:
    """Constraints with a non-zero shadow price in the linear relaxation: loosening them
    would raise the bound."""
    names: list[str] = []
    threshold = 1e-9 * max(1.0, abs(bound)) if math.isfinite(bound) else math.inf
    padded = np.zeros(len(model.rows))
    padded[: len(duals)] = duals[: len(model.rows)]
    for row, dual in zip(model.rows, padded, strict=True):
        if row.name and row.name not in names and abs(dual) * row_scale(model, row) > threshold:
            names.append(row.name)
    return names
