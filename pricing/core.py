"""Integer search on the undecided core of columns with CP-SAT.

Columns whose reduced cost decides them are fixed; the rest become Booleans. Rows are
scaled to integers in one of two directions:

- relaxed: every plan that meets the true rows meets the scaled rows, so CP-SAT's bound
  is a valid bound on the true problem (the plan it returns is verified exactly after);
- conservative: every plan that meets the scaled rows meets the true rows, used when a
  relaxed plan fails the exact check by a rounding hair.

Rows whose coefficients are integers (fees, creator counts), and tier-share rows multiplied
by the denominator of their decimal share, are kept exact either way.

The model is written straight into CP-SAT's model proto (`cp_model_helper`, no pandas on
the import path). CP-SAT runs on one worker, limited by its deterministic time (the
slice the search gives it) and by the call's deadline: one worker is deterministic, so a
slice does the same work and finds the same plan on an idle and on a busy machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from pricing.clock import Budget
from pricing.linear import BoolArray, ColumnModel, FloatArray, IntArray, Row, row_values

SCALE_TARGET = 2.0**48
EXACT_LIMIT = 2.0**52
MAX_EXPONENT = 120
INT_MIN = -(2**63)
INT_MAX = 2**63 - 1


# The largest denominator of a share row kept exact: beyond it, scaled coefficients are no
# longer exact floats (a share like 5e-324 has 10**324).
EXACT_DENOMINATOR = 2**53


@dataclass(slots=True)
class CoreSpec:
    """Which columns are free, which are fixed at 1 (all others are 0), a hint over all
    columns, an optional extra row `Σ cut[0][k] × x[free[k]] <= cut[1]`, and a bound
    `cap` known to hold for every plan (CP-SAT then stops once within its gap limit of
    it, instead of proving its own bound)."""

    free: IntArray
    ones: IntArray
    hint: BoolArray | None = None
    cut: tuple[FloatArray, float] | None = None
    cap: float = math.inf


@dataclass(slots=True)
class CoreResult:
    status: str  # optimal | feasible | infeasible | unknown
    x: BoolArray | None
    bound: float
    work: float = 0.0


def _power_of_two_scale(magnitude: float) -> float:
    """2^k with magnitude × 2^k <= SCALE_TARGET (k bounded so nothing overflows)."""
    if magnitude <= 0 or not math.isfinite(magnitude):
        return 1.0
    exponent = math.floor(math.log2(SCALE_TARGET) - math.log2(magnitude))
    return 2.0 ** max(-MAX_EXPONENT, min(MAX_EXPONENT, exponent))


class _Builder:
    """Adds scaled rows to a CP-SAT model proto: variable k < len(free) is the column
    free[k]; the auxiliaries follow."""

    def __init__(self, model: ColumnModel, spec: CoreSpec, conservative: bool) -> None:
        from ortools.sat.python import cp_model_helper as cmh

        self.model = model
        self.spec = spec
        self.conservative = conservative
        self.proto: Any = cmh.CpModelProto()
        add = self.proto.variables.add
        for _ in range(len(spec.free)):
            add().domain.extend((0, 1))
        for a in model.aux:
            add().domain.extend(self._aux_domain(a.lo, a.hi, a.step))
        self.aux_reach = [max(abs(a.lo), abs(a.hi)) / a.step + 1.0 for a in model.aux]
        self.infeasible = False

    def _aux_domain(self, lo: float, hi: float, step: float) -> tuple[int, int]:
        if self.conservative:
            return math.ceil(lo / step), math.floor(hi / step)
        return math.floor(lo / step), math.ceil(hi / step)

    def add_row(self, row: Row) -> None:
        coefficients = row_values(self.model, row.terms, self.spec.free)
        constant = math.fsum(row_values(self.model, row.terms, self.spec.ones).tolist())
        aux = [(k, b * self.model.aux[k].step) for k, b in row.aux]
        if row.denominator > 1 and self._exact_multiple(coefficients, aux, constant, row):
            return
        if _integral(coefficients, aux, constant):
            self._add_exact(coefficients, aux, row.lo - constant, row.hi - constant)
            return
        if math.isfinite(row.hi):
            self._add_side(coefficients, aux, row.hi - constant, upper=True)
        if math.isfinite(row.lo):
            self._add_side(coefficients, aux, row.lo - constant, upper=False)

    def _exact_multiple(
        self, coefficients: FloatArray, aux: list[tuple[int, float]], constant: float, row: Row
    ) -> bool:
        """Add `denominator × row` exactly when its coefficients are whole and small."""
        d = row.denominator
        if d > EXACT_DENOMINATOR:  # a share written with more digits than a float holds
            return False
        scaled = np.rint(coefficients * d)
        scaled_aux = [(k, float(round(b * d))) for k, b in aux]
        exact = np.allclose(scaled, coefficients * d, rtol=0, atol=1e-6) and all(
            abs(b * d - s) < 1e-6 for (_, b), (_, s) in zip(aux, scaled_aux, strict=True)
        )
        fits = self.activity(scaled, scaled_aux) < EXACT_LIMIT * 512
        if not (exact and fits and float(constant * d).is_integer()):
            return False
        self._add_exact(scaled, scaled_aux, (row.lo - constant) * d, (row.hi - constant) * d)
        return True

    def activity(self, coefficients: FloatArray, aux: list[tuple[int, float]]) -> float:
        """The largest absolute activity the expression can reach."""
        terms = float(np.abs(coefficients).sum())
        return terms + sum(abs(b) * self.aux_reach[k] for k, b in aux)

    def add_cut(self, coefficients: FloatArray, rhs: float) -> None:
        self._add_side(coefficients, [], rhs, upper=True)

    def _linear(
        self, coefficients: list[int], aux: list[tuple[int, int]], lower: int, upper: int
    ) -> None:
        """lower <= Σ coefficients × x + Σ aux <= upper, zero coefficients left out."""
        size = len(self.spec.free)
        pairs = [(k, c) for k, c in enumerate(coefficients) if c]
        pairs += [(size + k, b) for k, b in aux if b]
        linear = self.proto.constraints.add().linear
        linear.vars.extend([k for k, _ in pairs])
        linear.coeffs.extend([c for _, c in pairs])
        linear.domain.extend((lower, upper))

    def _add_exact(
        self, coefficients: FloatArray, aux: list[tuple[int, float]], lo: float, hi: float
    ) -> None:
        ints = np.rint(coefficients).astype(np.int64).tolist()
        aux_ints = [(k, round(b)) for k, b in aux]
        lower = math.ceil(lo - 1e-9) if math.isfinite(lo) else None
        upper = math.floor(hi + 1e-9) if math.isfinite(hi) else None
        if not ints and not aux_ints:
            self.infeasible |= (lower is not None and lower > 0) or (
                upper is not None and upper < 0
            )
            return
        self._linear(
            ints,
            aux_ints,
            INT_MIN if lower is None else lower,
            INT_MAX if upper is None else upper,
        )

    def _add_side(
        self, coefficients: FloatArray, aux: list[tuple[int, float]], rhs: float, upper: bool
    ) -> None:
        scale = _power_of_two_scale(max(self.activity(coefficients, aux), abs(rhs)))
        # Round towards the relaxation (or away from it, for conservative rows).
        loose = upper != self.conservative
        rounding = np.floor if loose else np.ceil
        ints = rounding(coefficients * scale).astype(np.int64).tolist()
        aux_ints = [(k, int(rounding(b * scale))) for k, b in aux]
        slack = 1 if not self.conservative else -1
        bound = math.floor(rhs * scale) + slack if upper else math.ceil(rhs * scale) - slack
        if not ints and not aux_ints:
            self.infeasible |= (bound < 0) if upper else (bound > 0)
            return
        if upper:
            self._linear(ints, aux_ints, INT_MIN, bound)
        else:
            self._linear(ints, aux_ints, bound, INT_MAX)


def _integral(coefficients: FloatArray, aux: list[tuple[int, float]], constant: float) -> bool:
    if coefficients.size and float(np.abs(coefficients).max()) >= EXACT_LIMIT:
        return False
    if not np.array_equal(coefficients, np.rint(coefficients)):
        return False
    return all(float(b).is_integer() for _, b in aux) and float(constant).is_integer()


def _objective(builder: _Builder) -> float:
    """Set the objective (the fixed columns' value as its offset); returns its scale."""
    model, spec = builder.model, builder.spec
    coefficients = row_values(model, model.objective, spec.free)
    constant = math.fsum(row_values(model, model.objective, spec.ones).tolist())
    aux = [(k, a.objective * a.step) for k, a in enumerate(model.aux) if a.objective]
    if _integral(coefficients, aux, 0.0):
        scale = 1.0
    else:
        scale = _power_of_two_scale(builder.activity(coefficients, aux))
    # Rounding up keeps the scaled objective >= the true one on every plan (x, aux >= 0).
    ints = np.ceil(coefficients * scale).astype(np.int64).tolist()
    aux_ints = [(k, math.ceil(b * scale)) for k, b in aux]
    size = len(spec.free)
    pairs = [(k, c) for k, c in enumerate(ints) if c] + [(size + k, b) for k, b in aux_ints if b]
    # CP-SAT minimises: maximise Σ c x + constant as −1 × (Σ (−c) x − constant).
    objective = builder.proto.objective
    objective.vars.extend([k for k, _ in pairs])
    objective.coeffs.extend([-c for _, c in pairs])
    objective.offset = -constant * scale
    objective.scaling_factor = -1.0
    if math.isfinite(spec.cap) and not aux:
        # Every plan is worth at most cap; each rounded-up coefficient adds less than 1.
        top = math.floor((spec.cap - constant) * scale) + len(spec.free) + 1
        builder._linear(ints, [], INT_MIN, min(max(top, INT_MIN), INT_MAX))
    return scale


def _add_hint(builder: _Builder, hint: BoolArray) -> None:
    values = hint[builder.spec.free].astype(np.int64).tolist()
    proto = builder.proto.solution_hint
    proto.vars.extend(range(len(values)))
    proto.values.extend(values)


def run(proto: Any, work: float, seconds: float, gap_limit: float) -> Any:
    """CP-SAT on one worker within `work` deterministic units and `seconds` of wall time."""
    from ortools.sat.python import cp_model_helper as cmh

    parameters = cmh.SatParameters()
    parameters.num_workers = 1
    parameters.max_deterministic_time = work
    parameters.max_time_in_seconds = seconds
    parameters.relative_gap_limit = gap_limit
    solver: Any = cmh.SolveWrapper()
    solver.set_parameters(parameters)
    return solver.solve(proto)


def solve_core(
    model: ColumnModel,
    spec: CoreSpec,
    budget: Budget,
    work: float,
    gap_limit: float = 0.0,
    conservative: bool = False,
) -> CoreResult:
    """Best plan CP-SAT finds on the core within `work` units (and the budget), and a
    bound valid for every plan that agrees with the fixings (when not conservative)."""
    builder = _Builder(model, spec, conservative)
    for row in model.rows:
        builder.add_row(row)
    if spec.cut is not None:
        builder.add_cut(*spec.cut)
    if builder.infeasible:
        return CoreResult("infeasible", None, -math.inf)
    scale = _objective(builder)
    if spec.hint is not None:
        _add_hint(builder, spec.hint)
    work = min(work, budget.work.left())
    seconds = budget.seconds()
    if work <= 0.0 or seconds <= 0.0:
        return CoreResult("unknown", None, math.inf)
    response = run(builder.proto, work, seconds, gap_limit)
    budget.work.add(response.deterministic_time)
    return _result(model, spec, response, scale)


def _result(model: ColumnModel, spec: CoreSpec, response: Any, scale: float) -> CoreResult:
    from ortools.sat.python import cp_model_helper as cmh

    status, work = response.status, response.deterministic_time
    if status == cmh.CpSolverStatus.INFEASIBLE:
        return CoreResult("infeasible", None, -math.inf, work)
    if status not in (cmh.CpSolverStatus.OPTIMAL, cmh.CpSolverStatus.FEASIBLE):
        return CoreResult("unknown", None, math.inf, work)
    # Auxiliaries in the objective live on a grid of `step`: allow one step each.
    grid = sum(abs(a.objective) * a.step for a in model.aux)
    bound = response.best_objective_bound / scale + grid
    solution = np.array(list(response.solution), dtype=np.int64)[: len(spec.free)] > 0
    x = np.zeros(model.n, dtype=bool)
    x[spec.ones] = True
    x[spec.free] = solution
    optimal = status == cmh.CpSolverStatus.OPTIMAL
    return CoreResult("optimal" if optimal else "feasible", x, bound, work)
