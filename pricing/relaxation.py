"""Linear relaxation by column generation, solved on a core of columns (`pricing.lp`).

The master LP holds only a core of columns; reduced costs of all columns are priced with
numpy after each solve and the most attractive ones join the core. Phase 1 minimises
artificial slacks until the core is feasible (or the Lagrangian bound proves no plan
exists); phase 2 maximises the objective. Whenever the loop stops, the Lagrangian bound
over all columns is a valid bound even if the LP was not solved to the end.

Every round is charged to the budget's deterministic work by its size (columns priced,
columns and rows in the master), never by the time it took.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from pricing.clock import Budget
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
from pricing.lp import Master, solve_master

Separator = Callable[[FloatArray, FloatArray], list[Row]]
Log = Callable[[str], None]
FEASIBILITY_TOLERANCE = 1e-7
INFEASIBILITY_PROOF = 1e-6
PRICING_TOLERANCE = 1e-9
MAX_ROUNDS = 200
GROWTH_MIN = 2_000
# Work units of one round: pricing a column over one row term, and one master entry.
PRICING_UNIT = 5e-9
MASTER_UNIT = 1.3e-7


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
    notes: list[str] = field(default_factory=list)
    lp: bool = True  # False: duals from the Lagrangian fallback, not from an LP


def round_work(model: ColumnModel, core_size: int) -> float:
    """Work units of one round: price every column, solve the master on the core."""
    terms = sum(len(row.terms) for row in model.rows) + len(model.objective)
    return PRICING_UNIT * model.n * terms + MASTER_UNIT * core_size * (len(model.rows) + 1)


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
        # (with a deterministic allowance) and fall back to phase 1 when the core has no
        # feasible point.
        self.phase1 = any(row.lo > 0 or row.hi < 0 for row in model.rows)
        self.trying = not self.phase1
        self.last: Relaxation | None = None
        self.notes: list[str] = []

    def duals(self, master: Master) -> FloatArray:
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

    def price(self, master: Master, core: IntArray) -> Relaxation:
        weight = 0.0 if self.phase1 else 1.0
        duals = self.duals(master)
        rc = reduced_costs(self.model, duals, weight)
        rc_aux = aux_reduced_costs(self.model, duals, weight)
        bound = lagrangian_bound(self.model, duals, rc, rc_aux)
        x = np.zeros(self.model.n)
        x[core] = master.x_core
        state = Relaxation(
            True, False, bound, master.value, duals, rc, rc_aux, x, master.aux_values, self.notes
        )
        if not self.phase1:
            self.last = state
        return state

    def step(self, budget: Budget, log: Log | None) -> Relaxation | None:
        """One master solve and pricing round; a Relaxation when the run is over."""
        core = np.flatnonzero(self.in_core)
        master = solve_master(self.model, core, self.scales, self.phase1, budget, self.trying)
        budget.work.add(round_work(self.model, len(core)))
        self.notes.extend(note for note in master.notes if note not in self.notes)
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
        if len(new) == 0 or budget.stopped():
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
    budget: Budget,
    separate: Separator | None = None,
    log: Log | None = None,
) -> Relaxation:
    """Solve the LP relaxation of `model`, growing `core` by pricing; `separate` may add
    cut rows to `model.rows` (they stay valid for the integer search). Raises LPFailure
    when every LP solver fails."""
    run = _ColumnGeneration(model, core, separate)
    for _ in range(MAX_ROUNDS):
        result = run.step(budget, log)
        if result is not None:
            return result
    return run.last or _unfinished(model)
