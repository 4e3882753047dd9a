"""Deduplicated reach per platform (Sainsbury): rows, tangent cuts and exact totals.

With w_i = −ln(1 − r_i) and y_p = Σ_{i chosen on p} w_i, the platform's reach is
f_p(y_p) = audience_p × (1 − exp(−y_p)), concave and increasing. A reach target on one
platform is the linear row y_p >= −ln(1 − target / audience_p). A total reach target, or
maximising total reach, uses tangents of f (valid outer approximations: the bound stays
sound) added where the current solution needs them.
"""

from __future__ import annotations

import math

import numpy as np

from contracts.common import Platform
from pricing.constraints import MIN_REACH, PLATFORM_INDEX, PLATFORMS, platform_reach_name
from pricing.linear import Aux, ColumnModel, FloatArray, IntArray, Row, Term
from pricing.relaxation import Separator

MAX_WEIGHT = 40.0  # w of a creator covering the whole audience (exp(−40) ≈ 4e-18)
INITIAL_TANGENTS = (0.0, 0.1, 0.5, 1.0, 2.0, 4.0)
CUT_TOLERANCE = 1e-6


def _one_hot(index: int, value: float = 1.0) -> FloatArray:
    alpha = np.zeros(len(PLATFORMS))
    alpha[index] = value
    return alpha


class DedupReach:
    """Reach figures of the candidates for the platforms that have an audience."""

    def __init__(
        self, audience: dict[Platform, float], platform: IntArray, reach: FloatArray
    ) -> None:
        self.audience = np.zeros(len(PLATFORMS))
        for p, size in audience.items():
            self.audience[PLATFORM_INDEX[p]] = size
        self.has = self.audience > 0
        self.active = bool(self.has.any())
        self.platform = platform
        covered = self.has[platform]
        safe_audience = np.where(covered, self.audience[platform], 1.0)
        share = np.where(covered, np.minimum(reach / safe_audience, 1.0), 0.0)
        with np.errstate(divide="ignore"):
            self.weights = np.minimum(-np.log1p(-share), MAX_WEIGHT)
        self.plain_reach = np.where(covered, 0.0, reach)

    def covers(self, platform: Platform) -> bool:
        return bool(self.has[PLATFORM_INDEX[platform]])

    def reach_of(self, index: int, y: float) -> float:
        return float(self.audience[index] * -math.expm1(-y))

    def platform_reach(self, chosen: IntArray) -> dict[Platform, float]:
        """Exact reach per platform of the chosen columns (fsum, then the formula)."""
        result = {}
        codes = self.platform[chosen]
        for i, platform in enumerate(PLATFORMS):
            members = chosen[codes == i]
            if self.has[i]:
                result[platform] = self.reach_of(i, math.fsum(self.weights[members].tolist()))
            else:
                result[platform] = math.fsum(self.plain_reach[members].tolist())
        return result

    def platform_rows(self, targets: dict[Platform, float], dropped: frozenset[str]) -> list[Row]:
        rows = []
        for platform, target in targets.items():
            name = platform_reach_name(platform)
            i = PLATFORM_INDEX[platform]
            if target <= 0 or name in dropped or not self.has[i]:
                continue
            if target < self.audience[i]:
                threshold = -math.log1p(-target / self.audience[i])
            else:  # the whole audience cannot be reached: an unreachable threshold
                threshold = float(self.weights[self.platform == i].sum()) + 1.0
            rows.append(Row(name, threshold, math.inf, (Term("w", "platform", _one_hot(i)),)))
        return rows

    def total_reach_cut(self, target: float, y0: FloatArray | None) -> Row:
        """Σ_p f_p(y_p) + plain reach >= target, linearised at y0 (valid: f is concave)."""
        y0 = np.zeros(len(PLATFORMS)) if y0 is None else y0
        slope = np.where(self.has, self.audience * np.exp(-y0), 0.0)
        value = np.where(self.has, self.audience * -np.expm1(-y0), 0.0)
        lo = target - math.fsum(value.tolist()) + math.fsum((slope * y0).tolist())
        terms = (Term("w", "platform", slope), Term("plain_reach", None, np.ones(1)))
        return Row(MIN_REACH, lo, math.inf, terms)

    def tangent(self, index: int, aux_index: int, y0: float) -> Row:
        """z_p <= f_p(y0) + f_p'(y0) (y_p − y0)."""
        size = self.audience[index]
        slope = size * math.exp(-y0)
        hi = size * -math.expm1(-y0) - slope * y0
        return Row(
            "",
            -math.inf,
            hi,
            (Term("w", "platform", _one_hot(index, -slope)),),
            ((aux_index, 1.0),),
        )

    def reach_objective(self) -> tuple[tuple[Term, ...], list[Aux], list[Row]]:
        """Maximise Σ z_p + plain reach, with z_p under tangents of f_p."""
        aux: list[Aux] = []
        rows: list[Row] = []
        for k, i in enumerate(np.flatnonzero(self.has)):
            size = float(self.audience[i])
            step = 2.0 ** math.floor(math.log2(size / 2.0**40))
            aux.append(Aux(f"reach.{PLATFORMS[i]}", 0.0, size, objective=1.0, step=step))
            rows.extend(self.tangent(int(i), k, y0) for y0 in INITIAL_TANGENTS)
        return (Term("plain_reach", None, np.ones(1)),), aux, rows

    def separator(self, model: ColumnModel, total_target: float) -> Separator:
        """Cuts at the LP point: tangents where z_p overshoots f_p(y_p), and a total reach
        cut when the true total reach misses the target."""
        reach_aux = {
            int(np.flatnonzero(self.has)[k]): index
            for k, index in enumerate(
                i for i, a in enumerate(model.aux) if a.name.startswith("reach.")
            )
        }

        def separate(x: FloatArray, aux_values: FloatArray) -> list[Row]:
            weighted = self.weights * x
            y = np.bincount(self.platform, weights=weighted, minlength=len(PLATFORMS)).astype(float)
            cuts = []
            for i, index in reach_aux.items():
                exact = self.reach_of(i, float(y[i]))
                if (
                    index < len(aux_values)
                    and aux_values[index] > exact + CUT_TOLERANCE * self.audience[i]
                ):
                    cuts.append(self.tangent(i, index, float(y[i])))
            if total_target > 0:
                parts = [float(self.plain_reach @ x)]
                parts.extend(self.reach_of(int(i), float(y[i])) for i in np.flatnonzero(self.has))
                if math.fsum(parts) < total_target * (1 - CUT_TOLERANCE):
                    cuts.append(self.total_reach_cut(total_target, y))
            return cuts

        return separate
