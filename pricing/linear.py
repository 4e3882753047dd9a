"""The column model shared by tier allocation and creator selection.

Both problems have many 0/1 columns (a creator, or "k creators of a segment") and few
linear rows. A row's coefficient on column j is a sum of terms
`feature[j] × alpha[group[j]]` (for example `fee[j] × 1` for the budget row, or
`1 × [platform[j] == p]` for a platform cap), so reduced costs of a million columns are a
handful of vectorized numpy operations. A few auxiliary continuous variables (spend per
tier, deduplicated reach per platform) keep the rows sparse.

Duals follow the maximisation convention: reduced cost `rc = c − Σ_r y_r a_r`, with
`y_r >= 0` when the upper side of row r is active and `y_r <= 0` when the lower side is.
For any such y the Lagrangian bound `lagrangian_bound` is a valid upper bound on the
objective of every plan, which is what makes the reported bounds sound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
TermKey = tuple[str, str | None]
RHS_RANGE = 1e6


@dataclass(frozen=True, slots=True)
class Term:
    """`feature[j] × alpha[group[j]]`; without a grouping, `feature[j] × alpha[0]`."""

    feature: str
    grouping: str | None
    alpha: FloatArray


@dataclass(frozen=True, slots=True)
class Aux:
    """A continuous auxiliary variable in [lo, hi] (lo >= 0), modelled in the integer
    search as a whole number of `step`s."""

    name: str
    lo: float
    hi: float
    objective: float = 0.0
    step: float = 1.0


@dataclass(frozen=True, slots=True)
class Row:
    """lo <= Σ_terms + Σ aux coefficient × aux <= hi; `name` is the constraint's field
    path in the problem ("" for rows that only define auxiliaries). When `denominator`
    times every coefficient is a whole number, the integer search keeps the row exact."""

    name: str
    lo: float
    hi: float
    terms: tuple[Term, ...]
    aux: tuple[tuple[int, float], ...] = ()
    denominator: int = 1


@dataclass(slots=True)
class ColumnModel:
    """Maximise Σ objective terms over 0/1 columns and bounded auxiliaries s.t. rows."""

    n: int
    features: dict[str, FloatArray]
    groups: dict[str, tuple[IntArray, int]]
    rows: list[Row]
    objective: tuple[Term, ...]
    aux: list[Aux] = field(default_factory=list)
    fixed: BoolArray | None = None
    forbidden: BoolArray | None = None
    integral_features: frozenset[str] = frozenset({"spend", "count", "one"})
    magnitudes: dict[str, tuple[float, float]] = field(default_factory=dict)
    # The LP solvers to try, in order, once one has failed (shared by restricted copies).
    lp_order: list[int] = field(default_factory=list)

    def fixed_mask(self) -> BoolArray:
        return self.fixed if self.fixed is not None else np.zeros(self.n, dtype=bool)

    def forbidden_mask(self) -> BoolArray:
        return self.forbidden if self.forbidden is not None else np.zeros(self.n, dtype=bool)


def union(size: int, *parts: IntArray) -> IntArray:
    """The sorted distinct column indices of `parts` (among `size` columns)."""
    mask = np.zeros(size, dtype=bool)
    for part in parts:
        mask[part] = True
    return np.flatnonzero(mask)


def term_values(model: ColumnModel, term: Term, idx: IntArray | None = None) -> FloatArray:
    """The term's coefficient on every column (or on columns `idx`)."""
    values = model.features[term.feature]
    if idx is not None:
        values = values[idx]
    if term.grouping is None:
        single: FloatArray = values * term.alpha[0]
        return single
    codes = model.groups[term.grouping][0]
    grouped: FloatArray = values * term.alpha[codes if idx is None else codes[idx]]
    return grouped


def row_values(
    model: ColumnModel, terms: tuple[Term, ...], idx: IntArray | None = None
) -> FloatArray:
    size = model.n if idx is None else len(idx)
    total = np.zeros(size)
    for term in terms:
        total += term_values(model, term, idx)
    return total


def _accumulate(weights: dict[TermKey, FloatArray], term: Term, scale: float) -> None:
    key = (term.feature, term.grouping)
    if key in weights:
        weights[key] = weights[key] + scale * term.alpha
    else:
        weights[key] = scale * term.alpha


def reduced_costs(
    model: ColumnModel,
    duals: FloatArray,
    objective_weight: float = 1.0,
    idx: IntArray | None = None,
) -> FloatArray:
    """rc_j = objective_weight × c_j − Σ_r y_r a_rj, for all columns or columns `idx`."""
    weights: dict[TermKey, FloatArray] = {}
    if objective_weight:
        for term in model.objective:
            _accumulate(weights, term, objective_weight)
    for row, dual in zip(model.rows, duals, strict=True):
        if dual:
            for term in row.terms:
                _accumulate(weights, term, -float(dual))
    combined = tuple(Term(f, g, alpha) for (f, g), alpha in weights.items())
    return row_values(model, combined, idx)


def aux_reduced_costs(
    model: ColumnModel, duals: FloatArray, objective_weight: float = 1.0
) -> FloatArray:
    rc = np.array([objective_weight * aux.objective for aux in model.aux], dtype=float)
    for row, dual in zip(model.rows, duals, strict=True):
        for index, coefficient in row.aux:
            rc[index] -= dual * coefficient
    return rc


def project_duals(rows: list[Row], duals: FloatArray) -> FloatArray:
    """Zero the dual of a side that is infinite, so the Lagrangian bound stays finite."""
    projected = np.array(duals, dtype=float)
    for r, row in enumerate(rows):
        if projected[r] > 0 and math.isinf(row.hi):
            projected[r] = 0.0
        if projected[r] < 0 and math.isinf(row.lo):
            projected[r] = 0.0
    return projected


def lagrangian_bound(
    model: ColumnModel, duals: FloatArray, rc: FloatArray, rc_aux: FloatArray
) -> float:
    """max over the box of (objective + y·(rhs − rows)): an upper bound on every plan."""
    parts = [
        float(d * (row.hi if d > 0 else row.lo))
        for row, d in zip(model.rows, duals, strict=True)
        if d
    ]
    fixed = model.fixed_mask()
    free = ~(fixed | model.forbidden_mask())
    parts.append(float(np.maximum(rc[free], 0.0).sum()))
    parts.append(float(rc[fixed].sum()))
    for aux, value in zip(model.aux, rc_aux, strict=True):
        parts.append(max(value * aux.lo, value * aux.hi))
    return math.fsum(parts)


def row_scale(model: ColumnModel, row: Row) -> float:
    """Geometric mean of the smallest and largest coefficient magnitude of the row (an
    auxiliary's coefficient counts once): rows divided by it are well scaled for the LP."""
    low, high = math.inf, 0.0
    for term in row.terms:
        alpha = np.abs(term.alpha)
        alpha = alpha[alpha > 0]
        if alpha.size == 0:
            continue
        feature_low, feature_high = feature_range(model, term.feature)
        low = min(low, feature_low * float(alpha.min()))
        high = max(high, feature_high * float(alpha.max()))
    for _, coefficient in row.aux:
        if coefficient:
            low, high = min(low, abs(coefficient)), max(high, abs(coefficient))
    scale = math.sqrt(low * high) if high > 0 else 1.0
    # Keep the right-hand side within a range the LP solver handles well.
    rhs = max([abs(v) for v in (row.lo, row.hi) if math.isfinite(v)], default=0.0)
    return max(scale, rhs / RHS_RANGE)


def feature_range(model: ColumnModel, feature: str) -> tuple[float, float]:
    """Smallest non-zero and largest magnitude of a feature (cached)."""
    cached = model.magnitudes.get(feature)
    if cached is None:
        values = np.abs(model.features[feature])
        values = values[values > 0]
        cached = (float(values.min()), float(values.max())) if values.size else (math.inf, 0.0)
        model.magnitudes[feature] = cached
    return cached
