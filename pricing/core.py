"""Integer search on the undecided core of columns with CP-SAT.

Columns whose reduced cost decides them are fixed; the rest become Booleans. Rows are
scaled to integers in one of two directions:

- relaxed: every plan that meets the true rows meets the scaled rows, so CP-SAT's bound
  is a valid bound on the true problem (the plan it returns is verified exactly after);
- conservative: every plan that meets the scaled rows meets the true rows, used when a
  relaxed plan fails the exact check by a rounding hair.

Rows whose coefficients are integers (fees, creator counts), and tier-share rows multiplied
by the denominator of their decimal share, are kept exact either way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from pricing.linear import BoolArray, ColumnModel, FloatArray, IntArray, Row, row_values

SCALE_TARGET = 2.0**48
EXACT_LIMIT = 2.0**52
MAX_EXPONENT = 120
MAX_WORKERS = 2


@dataclass(slots=True)
class CoreSpec:
    """Which columns are free, which are fixed at 1 (all others are 0), a hint over all
    columns, and an optional extra row `Σ cut[0][k] × x[free[k]] <= cut[1]`."""

    free: IntArray
    ones: IntArray
    hint: BoolArray | None = None
    cut: tuple[FloatArray, float] | None = None


@dataclass(slots=True)
class CoreResult:
    status: str  # optimal | feasible | infeasible | unknown
    x: BoolArray | None
    bound: float


def _power_of_two_scale(magnitude: float) -> float:
    """2^k with magnitude × 2^k <= SCALE_TARGET (k bounded so nothing overflows)."""
    if magnitude <= 0 or not math.isfinite(magnitude):
        return 1.0
    exponent = math.floor(math.log2(SCALE_TARGET) - math.log2(magnitude))
    return 2.0 ** max(-MAX_EXPONENT, min(MAX_EXPONENT, exponent))


class _Builder:
    """Adds scaled rows to a CP-SAT model."""

    def __init__(self, model: ColumnModel, spec: CoreSpec, conservative: bool) -> None:
        self.model = model
        self.spec = spec
        self.conservative = conservative
        self.cp = cp_model.CpModel()
        self.xs = [self.cp.new_bool_var("") for _ in range(len(spec.free))]
        self.aux_vars = [self._aux_var(a.lo, a.hi, a.step) for a in model.aux]
        self.aux_reach = [max(abs(a.lo), abs(a.hi)) / a.step + 1.0 for a in model.aux]
        self.infeasible = False

    def _aux_var(self, lo: float, hi: float, step: float) -> cp_model.IntVar:
        if self.conservative:
            return self.cp.new_int_var(math.ceil(lo / step), math.floor(hi / step), "")
        return self.cp.new_int_var(math.floor(lo / step), math.ceil(hi / step), "")

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

    def _expression(
        self, coefficients: list[int], aux: list[tuple[int, int]]
    ) -> cp_model.LinearExprT:
        variables = self.xs + [self.aux_vars[k] for k, _ in aux]
        return cp_model.LinearExpr.weighted_sum(variables, coefficients + [b for _, b in aux])

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
        expression = self._expression(ints, aux_ints)
        if lower is not None:
            self.cp.add(expression >= lower)
        if upper is not None:
            self.cp.add(expression <= upper)

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
        expression = self._expression(ints, aux_ints)
        self.cp.add(expression <= bound if upper else expression >= bound)


def _integral(coefficients: FloatArray, aux: list[tuple[int, float]], constant: float) -> bool:
    if coefficients.size and float(np.abs(coefficients).max()) >= EXACT_LIMIT:
        return False
    if not np.array_equal(coefficients, np.rint(coefficients)):
        return False
    return all(float(b).is_integer() for _, b in aux) and float(constant).is_integer()


def _objective(builder: _Builder) -> tuple[float, float]:
    """Set the objective; returns (scale, constant) to map CP-SAT's bound back."""
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
    builder.cp.maximize(builder._expression(ints, aux_ints))
    return scale, constant


def _add_hint(builder: _Builder, hint: BoolArray) -> None:
    values = hint[builder.spec.free].astype(np.int64).tolist()
    proto = builder.cp.proto.solution_hint
    proto.vars.extend(range(len(values)))
    proto.values.extend(values)


def solve_core(
    model: ColumnModel,
    spec: CoreSpec,
    seconds: float,
    gap_limit: float = 0.0,
    conservative: bool = False,
) -> CoreResult:
    """Best plan CP-SAT finds on the core, and a bound valid for every plan that agrees
    with the fixings (when not conservative)."""
    builder = _Builder(model, spec, conservative)
    for row in model.rows:
        builder.add_row(row)
    if spec.cut is not None:
        builder.add_cut(*spec.cut)
    if builder.infeasible:
        return CoreResult("infeasible", None, -math.inf)
    scale, constant = _objective(builder)
    if spec.hint is not None:
        _add_hint(builder, spec.hint)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = MAX_WORKERS
    solver.parameters.max_time_in_seconds = max(seconds, 0.01)
    solver.parameters.relative_gap_limit = gap_limit
    import os

    solver.parameters.log_search_progress = bool(os.environ.get("CPLOG"))
    status = solver.solve(builder.cp)
    return _result(model, spec, solver, status, scale, constant)


def _result(
    model: ColumnModel,
    spec: CoreSpec,
    solver: cp_model.CpSolver,
    status: cp_model.CpSolverStatus,
    scale: float,
    constant: float,
) -> CoreResult:
    if status == cp_model.INFEASIBLE:
        return CoreResult("infeasible", None, -math.inf)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return CoreResult("unknown", None, math.inf)
    # Auxiliaries in the objective live on a grid of `step`: allow one step each.
    grid = sum(abs(a.objective) * a.step for a in model.aux)
    bound = solver.best_objective_bound / scale + constant + grid
    solution = np.array(list(solver.response_proto.solution), dtype=np.int64)[: len(spec.free)] > 0
    x = np.zeros(model.n, dtype=bool)
    x[spec.ones] = True
    x[spec.free] = solution
    return CoreResult("optimal" if status == cp_model.OPTIMAL else "feasible", x, bound)
