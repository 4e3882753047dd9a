"""A bound and reduced costs without any LP solver: the Lagrangian dual by subgradient steps.

Used when every LP solver failed on the master (`pricing.lp.LPFailure`). For duals y of
the right signs, L(y) = max over the box of (objective + y·(rhs − rows)) bounds every plan
(`linear.lagrangian_bound`), whatever y is; the subgradient method only searches for a y
with a low L. The step is Polyak's, towards the best plan's value when there is one (5 %
below the bound otherwise), on rows divided by their scale, and the number of steps is
fixed by the work budget, so the result is deterministic.
"""

from __future__ import annotations

import math

import numpy as np

from pricing.clock import Budget
from pricing.linear import (
    ColumnModel,
    FloatArray,
    aux_reduced_costs,
    lagrangian_bound,
    project_duals,
    reduced_costs,
    row_scale,
    row_values,
)
from pricing.relaxation import Relaxation, round_work

MAX_STEPS = 60
SHRINK_AFTER = 5


class _Dual:
    """Evaluations of L at duals y (scaled rows)."""

    def __init__(self, model: ColumnModel) -> None:
        self.model = model
        self.scales = np.array([row_scale(model, row) for row in model.rows])
        self.fixed = model.fixed_mask()
        self.free = ~(self.fixed | model.forbidden_mask())

    def evaluate(self, y: FloatArray) -> tuple[float, FloatArray, FloatArray, FloatArray]:
        """(L(y), rc, rc_aux, the box maximiser x) for scaled duals y."""
        duals = project_duals(self.model.rows, y) / self.scales
        rc = reduced_costs(self.model, duals)
        rc_aux = aux_reduced_costs(self.model, duals)
        x = (self.fixed | (self.free & (rc > 0))).astype(float)
        return lagrangian_bound(self.model, duals, rc, rc_aux), rc, rc_aux, x

    def subgradient(self, y: FloatArray, x: FloatArray, rc_aux: FloatArray) -> FloatArray:
        """∂L/∂y at the box maximiser, with each row divided by its scale."""
        aux = np.array(
            [a.hi if r > 0 else a.lo for a, r in zip(self.model.aux, rc_aux, strict=True)]
        )
        g = np.zeros(len(self.model.rows))
        for r, row in enumerate(self.model.rows):
            activity = float(row_values(self.model, row.terms) @ x)
            activity += math.fsum(b * aux[k] for k, b in row.aux)
            if y[r] > 0 or (y[r] == 0 and activity > row.hi):
                side = row.hi
            elif y[r] < 0 or (y[r] == 0 and activity < row.lo):
                side = row.lo
            else:
                continue
            g[r] = (side - activity) / self.scales[r]
        return g


def lagrangian_relaxation(
    model: ColumnModel, budget: Budget, incumbent: float, notes: list[str]
) -> Relaxation:
    """The best Lagrangian bound found in at most MAX_STEPS steps (and the work budget)."""
    dual = _Dual(model)
    y = np.zeros(len(model.rows))
    best = dual.evaluate(y)
    best_y, current = y, best
    factor, stale = 1.0, 0
    for _ in range(MAX_STEPS):
        if budget.stopped():
            break
        bound, _, rc_aux, x = current
        g = dual.subgradient(y, x, rc_aux)
        # The step is g / |g|², computed on g scaled to a largest entry of 1, so rows whose
        # scale is tiny do not overflow the square.
        largest = float(np.max(np.abs(g))) if len(g) else 0.0
        if largest == 0.0 or not math.isfinite(largest):
            break
        h = g / largest
        target = incumbent if math.isfinite(incumbent) else bound - 0.05 * abs(bound)
        step = factor * (bound - target) / (largest * float(h @ h))
        y = project_duals(model.rows, y - step * h)
        current = dual.evaluate(y)
        budget.work.add(round_work(model, 0) * (len(model.rows) + 1))
        if current[0] < best[0]:
            best, best_y, stale = current, y, 0
        else:
            stale += 1
            if stale >= SHRINK_AFTER:
                factor, stale = factor / 2, 0
    bound, rc, rc_aux, x = best
    duals = project_duals(model.rows, best_y) / dual.scales
    aux = np.array([a.hi if r > 0 else a.lo for a, r in zip(model.aux, rc_aux, strict=True)])
    return Relaxation(True, False, bound, math.nan, duals, rc, rc_aux, x, aux, notes, lp=False)
