"""The master LP of column generation, solved by a chain of LP solvers shipped with OR-Tools.

GLOP's dual simplex (with cost perturbation) is tried first: on these shapes (few rows,
many columns) it is up to 100× faster than the primal default. When a solver answers
anything but a solution or an infeasibility proof before the deadline (an abnormal or
imprecise status, values that are not finite), the same LP is retried with GLOP on
unscaled data, then with GLOP on the dual problem, then with PDLP (a first-order method
with a different numerical behaviour). (GLOP's primal simplex is no alternative here: it
takes 100× longer on these shapes.) Which solver answered is recorded, so the plan can say
so, and the first one that worked is tried first for the rest of the search; when all
fail, `LPFailure` tells the search to continue without LP guidance.

Bounds never depend on the solver's accuracy: they are evaluated from the duals on the
exact coefficients (`linear.lagrangian_bound`). Auxiliaries (spend per tier, up to the
budget) are given to the solver in units of their upper bound, so every variable lies in
[0, 1]: a first-order method like PDLP converges a thousand times faster that way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pricing.clock import Budget
from pricing.linear import ColumnModel, FloatArray, IntArray, row_values

NEGLIGIBLE = 1e-9
MIN_SECONDS = 0.001
# Optimising before phase 1 is a guess (the core may have no feasible point): GLOP gets a
# deterministic allowance for it, after which phase 1 starts.
TRY_DETERMINISTIC = 2.0


@dataclass(frozen=True, slots=True)
class Attempt:
    name: str
    solver: str
    parameters: str


_DUAL = "use_dual_simplex: true perturb_costs_in_dual_simplex: true"
ATTEMPTS = (
    Attempt("GLOP dual simplex", "glop", _DUAL),
    Attempt("GLOP dual simplex on unscaled data", "glop", _DUAL + " use_scaling: false"),
    Attempt("GLOP on the dual problem", "glop", "solve_dual_problem: ALWAYS_DO"),
    Attempt("PDLP", "pdlp", ""),
)


class LPFailure(RuntimeError):
    """Every LP solver failed on the same LP (not a time-out)."""

    def __init__(self, failures: list[str]) -> None:
        super().__init__("; ".join(failures))
        self.failures = failures


@dataclass(slots=True)
class Master:
    optimal: bool
    infeasible: bool
    x_core: FloatArray
    aux_values: FloatArray
    duals: FloatArray
    value: float
    notes: list[str] = field(default_factory=list)


def run(request: bytes, solver: str) -> tuple[int, list[float], list[float], float]:
    """Solve a serialized MPModelRequest: (status, values, duals, objective value)."""
    import ortools.linear_solver.linear_solver_pb2 as pb
    from ortools.linear_solver.python import model_builder_helper as mbh

    helper: Any = mbh.ModelSolverHelper(solver)
    response = pb.MPSolutionResponse.FromString(helper.solve_serialized_request(request))
    return (
        response.status,
        list(response.variable_value),
        list(response.dual_value),
        response.objective_value,
    )


def aux_unit(model: ColumnModel) -> FloatArray:
    """The unit each auxiliary is given to the LP solver in: its largest magnitude."""
    units = [max(abs(a.lo), abs(a.hi), 1.0) if math.isfinite(a.hi) else 1.0 for a in model.aux]
    return np.array(units, dtype=float)


def _rows(model: ColumnModel, core: IntArray, scales: list[float], phase1: bool, mod: Any) -> None:
    units = aux_unit(model)
    artificial = len(core) + len(model.aux)
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
            constraint.coefficient.append(coefficient * units[index] / scale)
        if not phase1:
            continue
        for sign, side in ((1.0, row.lo), (-1.0, row.hi)):
            if math.isfinite(side):
                constraint.var_index.append(artificial)
                constraint.coefficient.append(sign)
                mod.variable.add(lower_bound=0.0, upper_bound=math.inf, objective_coefficient=-1.0)
                artificial += 1


def _model(model: ColumnModel, core: IntArray, scales: list[float], phase1: bool) -> Any:
    import ortools.linear_solver.linear_solver_pb2 as pb

    request = pb.MPModelRequest()
    mod = request.model
    mod.maximize = True
    weight = 0.0 if phase1 else 1.0
    objective = row_values(model, model.objective, core) * weight
    lower = model.fixed_mask()[core].astype(float)
    add = mod.variable.add
    for c, lo in zip(objective.tolist(), lower.tolist(), strict=True):
        add(lower_bound=lo, upper_bound=1.0, objective_coefficient=c)
    for aux, unit in zip(model.aux, aux_unit(model), strict=True):
        add(
            lower_bound=aux.lo / unit,
            upper_bound=aux.hi / unit,
            objective_coefficient=weight * aux.objective * unit,
        )
    _rows(model, core, scales, phase1, mod)
    return request


def _serialized(request: Any, attempt: Attempt, seconds: float, trying: bool) -> bytes:
    import ortools.linear_solver.linear_solver_pb2 as pb

    types = {"glop": pb.MPModelRequest.GLOP_LINEAR_PROGRAMMING}
    request.solver_type = types.get(attempt.solver, pb.MPModelRequest.PDLP_LINEAR_PROGRAMMING)
    request.solver_time_limit_seconds = max(seconds, MIN_SECONDS)
    extra = (
        f" max_deterministic_time: {TRY_DETERMINISTIC}"
        if trying and attempt.solver == "glop"
        else ""
    )
    request.solver_specific_parameters = attempt.parameters + extra
    data: bytes = request.SerializeToString()
    return data


def solve_master(
    model: ColumnModel,
    core: IntArray,
    scales: list[float],
    phase1: bool,
    budget: Budget,
    trying: bool = False,
) -> Master:
    """The master LP on `core`; retried with the next solver on a failure. A time-out (or,
    when `trying`, GLOP's deterministic allowance running out) is not a failure: the
    answer is then simply not optimal."""
    import ortools.linear_solver.linear_solver_pb2 as pb

    request = _model(model, core, scales, phase1)
    failures: list[str] = []
    order = model.lp_order or list(range(len(ATTEMPTS)))
    for index in order:
        attempt = ATTEMPTS[index]
        seconds = budget.seconds()
        if seconds <= 0.0:
            break
        status, values, duals, value = run(
            _serialized(request, attempt, seconds, trying), attempt.solver
        )
        if status == pb.MPSOLVER_INFEASIBLE:
            return _unsolved(model, core, infeasible=True)
        finite = all(math.isfinite(v) for v in values) and all(math.isfinite(d) for d in duals)
        if status == pb.MPSOLVER_OPTIMAL and finite and len(duals) == len(model.rows):
            notes = [_recovered(attempt, failures)] if failures else []
            if failures:
                model.lp_order[:] = [index, *(i for i in order if i != index)]
            return _solved(model, core, values, duals, value, notes)
        # Out of time, or (when trying) out of GLOP's allowance: not a failure.
        stopped = status in (pb.MPSOLVER_FEASIBLE, pb.MPSOLVER_NOT_SOLVED)
        if budget.deadline.expired() or (trying and stopped):
            return _unsolved(model, core, infeasible=False)
        reason = pb.MPSolverResponseStatus.Name(status) if finite else "values not finite"
        failures.append(f"{attempt.name}: {reason}")
    if failures and not budget.deadline.expired():
        raise LPFailure(failures)
    return _unsolved(model, core, infeasible=False)


def _recovered(attempt: Attempt, failures: list[str]) -> str:
    return f"the linear relaxation was solved by {attempt.name} after {'; '.join(failures)}"


def _solved(
    model: ColumnModel,
    core: IntArray,
    values: list[float],
    duals: list[float],
    value: float,
    notes: list[str],
) -> Master:
    array = np.array(values, dtype=float)
    return Master(
        optimal=True,
        infeasible=False,
        x_core=np.clip(array[: len(core)], 0.0, 1.0),
        aux_values=array[len(core) : len(core) + len(model.aux)] * aux_unit(model),
        duals=np.array(duals, dtype=float),
        value=value,
        notes=notes,
    )


def _unsolved(model: ColumnModel, core: IntArray, infeasible: bool) -> Master:
    return Master(
        optimal=False,
        infeasible=infeasible,
        x_core=np.zeros(len(core)),
        aux_values=np.zeros(len(model.aux)),
        duals=np.zeros(len(model.rows)),
        value=math.nan,
    )
