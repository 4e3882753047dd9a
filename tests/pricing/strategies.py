"""Hypothesis strategies for small planning problems (solvable by the reference solvers)."""

from __future__ import annotations

from hypothesis import strategies as st

from contracts.common import Platform, Tier
from contracts.planning import (
    AllocationProblem,
    Candidate,
    Objective,
    Segment,
    SelectionProblem,
    ShareRange,
)

PLATFORMS = [Platform.DOUYIN, Platform.INSTAGRAM, Platform.TIKTOK]
TIERS = [Tier.NANO, Tier.MICRO, Tier.MACRO]


@st.composite
def segments(draw: st.DrawFn) -> Segment:
    audience = draw(st.integers(1_000, 1_000_000))
    return Segment(
        platform=draw(st.sampled_from(PLATFORMS)),
        tier=draw(st.sampled_from(TIERS)),
        fee=draw(st.integers(0, 50_000)),
        reach=draw(st.floats(0.0, 1.0)) * audience,
        audience=float(audience),
        cvr=draw(st.floats(0.0, 0.05)),
        commission_per_conversion=draw(st.sampled_from([0, 0, 300, 2_000])),
        available=draw(st.integers(0, 4)),
    )


@st.composite
def share_ranges(draw: st.DrawFn) -> dict[Tier, ShareRange]:
    tiers = draw(st.lists(st.sampled_from(TIERS), max_size=2, unique=True))
    out = {}
    for tier in tiers:
        low = draw(st.sampled_from([0.0, 0.1, 0.25, 0.4]))
        high = draw(st.sampled_from([0.5, 0.7, 1.0]))
        out[tier] = ShareRange(min_share=low, max_share=high)
    return out


@st.composite
def allocation_problems(draw: st.DrawFn, objective: Objective | None = None) -> AllocationProblem:
    segs = draw(
        st.lists(segments(), min_size=1, max_size=4, unique_by=lambda s: (s.platform, s.tier))
    )
    top = sum(s.fee * s.available for s in segs) + 1
    budget = draw(st.integers(0, int(top * 1.2)))
    reach_total = sum(s.audience for s in segs)
    return AllocationProblem(
        segments=segs,
        budget=budget,
        min_reach=draw(st.sampled_from([0.0, 0.0, 0.05, 0.3])) * reach_total,
        min_conversions=draw(st.sampled_from([0.0, 0.0, 1.0, 20.0])),
        tier_shares=draw(share_ranges()),
        max_creators_per_platform=draw(
            st.dictionaries(st.sampled_from(PLATFORMS), st.integers(0, 6), max_size=2)
        ),
        max_creators_per_tier=draw(
            st.dictionaries(st.sampled_from(TIERS), st.integers(0, 6), max_size=1)
        ),
        objective=objective or draw(st.sampled_from(list(Objective))),
        time_limit_seconds=5.0,
        gap_limit=0.0,
    )


@st.composite
def candidates(draw: st.DrawFn, index: int) -> Candidate:
    tier = draw(st.sampled_from(TIERS))
    size = {Tier.NANO: 1, Tier.MICRO: 5, Tier.MACRO: 40}[tier]
    reach = draw(st.integers(100, 10_000)) * size
    return Candidate(
        id=f"k{index}",
        platform=draw(st.sampled_from(PLATFORMS)),
        tier=tier,
        fee=draw(st.integers(100, 5_000)) * size,
        reach=float(reach),
        conversions=round(reach * draw(st.floats(0.0001, 0.01)), 3),
        authenticity=draw(st.sampled_from([None, 0.5, 0.8, 0.95])),
    )


@st.composite
def selection_problems(draw: st.DrawFn, size: int = 14, dedup: bool = False) -> SelectionProblem:
    n = draw(st.integers(1, size))
    cands = [draw(candidates(i)) for i in range(n)]
    total_fee = sum(c.fee for c in cands)
    total_reach = sum(c.reach for c in cands)
    ids = [c.id for c in cands]
    audience = {p: float(draw(st.integers(20_000, 400_000))) for p in PLATFORMS} if dedup else None
    return SelectionProblem(
        candidates=cands,
        budget=draw(st.integers(0, int(total_fee * 0.8) + 1)),
        min_reach=draw(st.sampled_from([0.0, 0.0, 0.1, 0.3])) * total_reach,
        min_conversions=draw(st.sampled_from([0.0, 0.0, 5.0])),
        audience=audience,
        tier_shares=draw(share_ranges()),
        max_creators_per_platform=draw(
            st.dictionaries(st.sampled_from(PLATFORMS), st.integers(0, 5), max_size=2)
        ),
        must_include=draw(st.lists(st.sampled_from(ids), max_size=1, unique=True)),
        must_exclude=draw(st.lists(st.sampled_from(ids), max_size=2, unique=True)),
        min_authenticity=draw(st.sampled_from([None, None, 0.7])),
        objective=draw(st.sampled_from(list(Objective))),
        time_limit_seconds=5.0,
        gap_limit=0.0,
    )
