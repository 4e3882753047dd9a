"""Linear relaxation by column generation, solved with GLOP on a core of columns.

The master LP holds only a core of columns; reduced costs of all columns are priced with
numpy after each solve and the most attractive ones join the core. Phase 1 minimises
artificial slacks until the core is feasible (or the Lagrangian bound proves no plan
exists); phase 2 maximises the objective. Whenever the loop stops, the Lagrangian bound
over all columns is a valid bound even if the LP was not solved to the end.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import ortools.linear_solver.linear_solver_pb2 as pb
from ortools.linear_solver.python import model_builder_helper as mbh

from pricing.clock import Deadline
from pricing.linear import (
    ColumnModel,
    FloatArray,
    IntArray,
    Row,
    aux_reduced_costs,
    lagrangian_bound,
    project_duals,
    reduced_costs,
    row_scale,
    row_values,
)

Separator = Callable[[FloatArray, FloatArray], list[Row]]
Log = Callable[[str], None]
FEASIBILITY_TOLERANCE = 1e-7
INFEASIBILITY_PROOF = 1e-6
PRICING_TOLERANCE = 1e-9
MAX_ROUNDS = 200
TRY_SECONDS = 0.5
GROWTH_MIN = 2_000
NEGLIGIBLE = 1e-9
# Few rows and many columns: the dual simplex is far faster than GLOP's primal default.
GLOP_PARAMETERS = "use_dual_simplex: true perturb_costs_in_dual_simplex: true"


@dataclass(slots=True)
class Relaxation:
    """Result of the relaxation: `bound` is valid for every integer plan when feasible."""

    feasible: bool
    converged: bool
    bound: float
    value: float
    duals: FloatArray
    rc: FloatArray
    rc_aux: FloatArray
    x: FloatArray
    aux_values: FloatArray


@dataclass(slots=True)
class _Master:
    optimal: bool
    infeasible: bool
    x_core: FloatArray
    aux_values: FloatArray
    duals: FloatArray
    value: float


def _add_rows(
    model: ColumnModel, core: IntArray, scales: list[float], phase1: bool, mod: pb.MPModelProto
) -> None:
    n_fixed_vars = len(core) + len(model.aux)
    artificial = n_fixed_vars
    for r, row in enumerate(model.rows):
        scale = scales[r]
        coefficients = row_values(model, row.terms, core) / scale
        # Coefficients many orders below the row's largest only hurt the LP's numerics;
        # bounds stay sound because they are evaluated on the exact coefficients.
        largest = float(np.max(np.abs(coefficients), initial=0.0))
        nonzero = np.flatnonzero(np.abs(coefficients) > NEGLIGIBLE * largest)
        constraint = mod.constraint.add(lower_bound=row.lo / scale, upper_bound=row.hi / scale)
        constraint.var_index.extend(nonzero.tolist())
        constraint.coefficient.extend(coefficients[nonzero].tolist())
        for index, coefficient in row.aux:
            constraint.var_index.append(len(core) + index)
            constraint.coefficient.append(coefficient / scale)
        if not phase1:
            continue
        for sign, side in ((1.0, row.lo), (-1.0, row.hi)):
            if math.isfinite(side):
                constraint.var_index.append(artificial)
                constraint.coefficient.append(sign)
                mod.variable.add(lower_bound=0.0, upper_bound=math.inf, objective_coefficient=-1.0)
                artificial += 1


def _solve_master(
    model: ColumnModel, core: IntArray, scales: list[float], phase1: bool, seconds: float
) -> _Master:
    request = pb.MPModelRequest(
        solver_type=pb.MPModelRequest.GLOP_LINEAR_PROGRAMMING,
        solver_time_limit_seconds=max(seconds, 0.05),
        solver_specific_parameters=GLOP_PARAMETERS,
    )
    mod = request.model
    mod.maximize = True
    weight = 0.0 if phase1 else 1.0
    objective = row_values(model, model.objective, core) * weight
    lower = model.fixed_mask()[core].astype(float)
    add = mod.variable.add
    for c, lo in zip(objective.tolist(), lower.tolist(), strict=True):
        add(lower_bound=lo, upper_bound=1.0, objective_coefficient=c)
    for aux in model.aux:
        add(lower_bound=aux.lo, upper_bound=aux.hi, objective_coefficient=weight * aux.objective)
    _add_rows(model, core, scales, phase1, mod)
    solver = mbh.ModelSolverHelper("glop")
    response = pb.MPSolutionResponse.FromString(
        solver.solve_serialized_request(request.SerializeToString())
    )
    values = np.array(response.variable_value, dtype=float)
    optimal = response.status == pb.MPSOLVER_OPTIMAL
    return _Master(
        optimal=optimal,
        infeasible=response.status == pb.MPSOLVER_INFEASIBLE,
        x_core=values[: len(core)] if optimal else np.zeros(len(core)),
        aux_values=values[len(core) : len(core) + len(model.aux)]
        if optimal
        else np.zeros(len(model.aux)),
        duals=np.array(response.dual_value, dtype=float) if optimal else np.zeros(len(model.rows)),
        value=response.objective_value,
    )


def _grow(in_core: np.ndarray, rc: FloatArray, tolerance: float, core_size: int) -> IntArray:
    """Columns outside the core whose reduced cost is attractive, best first."""
    candidates = np.flatnonzero((rc > tolerance) & ~in_core)
    limit = max(GROWTH_MIN, core_size // 4)
    if len(candidates) > limit:
        best = np.argpartition(-rc[candidates], limit - 1)[:limit]
        candidates = candidates[best]
    return candidates


class _ColumnGeneration:
    """State of one column-generation run (phase 1, then phase 2)."""

    def __init__(self, model: ColumnModel, core: IntArray, separate: Separator | None) -> None:
        self.model = model
        self.separate = separate
        self.in_core = np.zeros(model.n, dtype=bool)
        self.in_core[core] = True
        self.in_core |= model.fixed_mask()
        self.in_core &= ~model.forbidden_mask()
        self.scales = [row_scale(model, row) for row in model.rows]
        objective = row_values(model, model.objective)
        self.objective_scale = max(1.0, float(np.max(np.abs(objective), initial=0.0)))
        # Rows that exclude the origin need phase 1; otherwise try optimising at once
        # (briefly) and fall back to phase 1 when the core has no feasible point.
        self.phase1 = any(row.lo > 0 or row.hi < 0 for row in model.rows)
        self.trying = not self.phase1
        self.last: Relaxation | None = None

    def duals(self, master: _Master) -> FloatArray:
        duals = np.clip(master.duals, -1.0, 1.0) if self.phase1 else master.duals
        scaled: FloatArray = project_duals(self.model.rows, duals) / np.array(self.scales)
        return scaled

    def add_cuts(self, x: FloatArray, aux_values: FloatArray) -> bool:
        if self.phase1 or self.separate is None:
            return False
        cuts = self.separate(x, aux_values)
        self.model.rows.extend(cuts)
        self.scales.extend(row_scale(self.model, row) for row in cuts)
        return bool(cuts)

    def price(self, master: _Master, core: IntArray) -> Relaxation:
        weight = 0.0 if self.phase1 else 1.0
        duals = self.duals(master)
        rc = reduced_costs(self.model, duals, weight)
        rc_aux = aux_reduced_costs(self.model, duals, weight)
        bound = lagrangian_bound(self.model, duals, rc, rc_aux)
        x = np.zeros(self.model.n)
        x[core] = master.x_core
        state = Relaxation(
            True, False, bound, master.value, duals, rc, rc_aux, x, master.aux_values
        )
        if not self.phase1:
            self.last = state
        return state

    def step(self, deadline: Deadline, log: Log | None) -> Relaxation | None:
        """One master solve and pricing round; a Relaxation when the run is over."""
        core = np.flatnonzero(self.in_core)
        seconds = min(deadline.remaining(), TRY_SECONDS) if self.trying else deadline.remaining()
        master = _solve_master(self.model, core, self.scales, self.phase1, seconds)
        if not master.optimal:
            if (master.infeasible or self.trying) and not self.phase1:
                self.phase1, self.trying = True, False
                return None
            return self.last or _unfinished(self.model)
        self.trying = False
        state = self.price(master, core)
        if self.add_cuts(state.x, state.aux_values):
            return None
        if self.phase1 and master.value >= -FEASIBILITY_TOLERANCE:
            self.phase1 = False
            return None
        tolerance = PRICING_TOLERANCE * (1.0 if self.phase1 else self.objective_scale)
        new = _grow(self.in_core | self.model.forbidden_mask(), state.rc, tolerance, len(core))
        if log is not None and not self.phase1:
            log(f"LP bound {state.bound:.9g} (core {len(core)} columns, {len(new)} priced in)")
        if self.phase1 and (state.bound < -INFEASIBILITY_PROOF or len(new) == 0):
            state.feasible, state.converged = False, True
            return state
        if len(new) == 0 or deadline.expired():
            state.converged = len(new) == 0
            return state if not self.phase1 else _unfinished(self.model)
        self.in_core[new] = True
        return None


def _unfinished(model: ColumnModel) -> Relaxation:
    """No usable LP (time out in phase 1): feasible unknown, no finite bound."""
    zeros = np.zeros(model.n)
    empty = np.zeros(len(model.rows))
    return Relaxation(
        True,
        False,
        math.inf,
        math.nan,
        empty,
        zeros,
        np.zeros(len(model.aux)),
        zeros,
        np.zeros(len(model.aux)),
    )


def solve_relaxation(
    model: ColumnModel,
    core: IntArray,
    deadline: Deadline,
    separate: Separator | None = None,
    log: Log | None = None,
) -> Relaxation:
    """Solve the LP relaxation of `model`, growing `core` by pricing; `separate` may add
    cut rows to `model.rows` (they stay valid for the integer search)."""
    run = _ColumnGeneration(model, core, separate)
    for _ in range(MAX_ROUNDS):
        result = run.step(deadline, log)
        if result is not None:
            return result
    return run.last or _unfinished(model)
