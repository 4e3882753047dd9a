"""Local search for tier allocation: one more or one fewer creator in a segment, or both
in two segments at once, evaluated for every segment pair at a time with numpy.

Starting from the rounded linear relaxation it first removes constraint violations, then
climbs while the objective improves. The plan it returns is checked exactly by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pricing.constraints import PLATFORM_INDEX, TIER_INDEX, Limits
from pricing.linear import FloatArray, IntArray

MAX_MOVES = 400
EPSILON = 1e-12


@dataclass(frozen=True, slots=True)
class Tables:
    """Per-column figures of the allocation and the layout of its segments."""

    offsets: IntArray
    available: IntArray
    spend: FloatArray
    reach: FloatArray
    conv: FloatArray
    tier: IntArray  # per segment
    platform: IntArray  # per segment


@dataclass(frozen=True, slots=True)
class _Moves:
    """Candidate moves as changes of k: `delta` has one row per move, one column per
    segment (mostly zeros)."""

    delta: IntArray


PAIR_LIMIT = 80


def _moves(segments: int) -> _Moves:
    """+1 or −1 in one segment; with few segments also +1 in one and −1 in another."""
    eye = np.eye(segments, dtype=np.int64)
    if segments > PAIR_LIMIT:
        return _Moves(np.concatenate([eye, -eye]))
    pairs = (eye[:, None, :] - eye[None, :, :]).reshape(-1, segments)
    pairs = pairs[np.any(pairs != 0, axis=1)]
    return _Moves(np.concatenate([eye, -eye, pairs]))


class LocalSearch:
    def __init__(self, tables: Tables, limits: Limits, objective: FloatArray) -> None:
        self.t = tables
        self.limits = limits
        self.objective = objective
        self.moves = _moves(len(tables.available))
        self.tier_matrix = np.eye(5)[tables.tier]
        self.platform_matrix = np.eye(10)[tables.platform]
        self.share_min = np.zeros(5)
        self.share_max = np.ones(5)
        for tier, share in limits.tier_shares.items():
            self.share_min[TIER_INDEX[tier]] = share.min_share
            self.share_max[TIER_INDEX[tier]] = share.max_share
        self.tier_cap = np.full(5, np.inf)
        for tier, cap in limits.tier_caps.items():
            self.tier_cap[TIER_INDEX[tier]] = cap
        self.platform_cap = np.full(10, np.inf)
        for platform, cap in limits.platform_caps.items():
            self.platform_cap[PLATFORM_INDEX[platform]] = cap

    def _evaluate(self, k: IntArray) -> tuple[FloatArray, FloatArray, IntArray]:
        """Penalty and objective after every move from k (and the moved k's)."""
        new_k = k[None, :] + self.moves.delta
        valid = np.all((new_k >= 0) & (new_k <= self.t.available[None, :]), axis=1)
        columns = self.t.offsets[:-1][None, :] + np.clip(new_k, 0, self.t.available[None, :])
        spend = self.t.spend[columns]
        penalty = self._penalty(
            spend, self.t.reach[columns].sum(axis=1), self.t.conv[columns].sum(axis=1), new_k
        )
        value = self.objective[columns].sum(axis=1)
        penalty = np.where(valid, penalty, np.inf)
        return penalty, value, new_k

    def _penalty(
        self, spend: FloatArray, reach: FloatArray, conv: FloatArray, k: IntArray
    ) -> FloatArray:
        limits = self.limits
        total = spend.sum(axis=1)
        scale = max(float(limits.budget), 1.0)
        penalty = np.maximum(total - limits.budget, 0.0) / scale
        if limits.min_reach > 0:
            penalty += np.maximum(limits.min_reach - reach, 0.0) / limits.min_reach
        if limits.min_conversions > 0:
            penalty += np.maximum(limits.min_conversions - conv, 0.0) / limits.min_conversions
        tier_spend = spend @ self.tier_matrix
        low = np.maximum(self.share_min[None, :] * total[:, None] - tier_spend, 0.0)
        high = np.maximum(tier_spend - self.share_max[None, :] * total[:, None], 0.0)
        penalty += (low + high).sum(axis=1) / scale
        penalty += np.maximum(k @ self.tier_matrix - self.tier_cap, 0.0).sum(axis=1)
        penalty += np.maximum(k @ self.platform_matrix - self.platform_cap, 0.0).sum(axis=1)
        result: FloatArray = penalty
        return result

    def run(self, k: IntArray) -> IntArray:
        """Repair, then climb; returns the last plan reached."""
        current = k.astype(np.int64).copy()
        zero = np.zeros((1, len(current)), dtype=np.int64)
        for _ in range(MAX_MOVES):
            columns = self.t.offsets[:-1] + current
            spend = self.t.spend[columns][None, :]
            here = float(
                self._penalty(
                    spend,
                    self.t.reach[columns].sum(keepdims=True),
                    self.t.conv[columns].sum(keepdims=True),
                    current[None, :] + zero,
                )[0]
            )
            value_here = float(self.objective[columns].sum())
            penalty, value, new_k = self._evaluate(current)
            if here > EPSILON:
                order = np.lexsort((-value, penalty))
                best = int(order[0])
                if penalty[best] >= here - EPSILON:
                    return current
            else:
                gain = np.where(penalty <= EPSILON, value - value_here, -np.inf)
                best = int(np.argmax(gain))
                if gain[best] <= EPSILON * max(1.0, abs(value_here)):
                    return current
            current = new_k[best]
        return current
