"""Tier allocation: plans keep every constraint, figures are the formulas, and the optimum
is the exact integer optimum (checked against enumeration and dynamic programming)."""

from __future__ import annotations

import math

import msgspec
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from contracts.common import Platform, Tier
from contracts.planning import (
    AllocationPlan,
    AllocationProblem,
    Diagnosis,
    DiagnosisStatus,
    Objective,
    Segment,
    ShareRange,
)
from pricing import PricingError, allocate
from tests.pricing.oracles import (
    allocation_figures,
    broken,
    brute_force_allocation,
    segment_figures,
)
from tests.pricing.strategies import allocation_problems

SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_plan(problem: AllocationProblem, plan: AllocationPlan) -> None:
    """Every reported figure equals the formula recomputed from the plan's k's."""
    ks = [s.creators for s in plan.segments]
    figures = allocation_figures(problem, ks)
    assert broken(problem, figures) == []
    for segment, line in zip(problem.segments, plan.segments, strict=True):
        reach, conversions, spend = segment_figures(segment, line.creators)
        assert (line.platform, line.tier) == (segment.platform, segment.tier)
        assert 0 <= line.creators <= segment.available
        assert line.spend == spend
        assert line.reach == pytest.approx(reach, rel=1e-9, abs=1e-9)
        assert line.conversions == pytest.approx(conversions, rel=1e-9, abs=1e-12)
    assert plan.total_spend == sum(s.spend for s in plan.segments) == figures.spend
    assert plan.total_creators == sum(ks)
    assert plan.total_reach == pytest.approx(math.fsum(s.reach for s in plan.segments), rel=1e-12)
    assert plan.total_conversions == pytest.approx(math.fsum(s.conversions for s in plan.segments))
    if problem.objective is Objective.MIN_SPEND:
        assert plan.bound <= plan.objective_value + 1e-6
    else:
        assert plan.bound >= plan.objective_value - 1e-6 * max(1.0, plan.objective_value)


@SLOW
@given(allocation_problems())
def test_allocation_matches_the_enumerated_integer_optimum(problem: AllocationProblem) -> None:
    result = allocate(problem)
    best = brute_force_allocation(problem)
    if best is None:
        assert isinstance(result, Diagnosis)
        assert result.status is DiagnosisStatus.INFEASIBLE
        return
    assert isinstance(result, AllocationPlan), result
    check_plan(problem, result)
    assert result.objective_value == pytest.approx(best[1], rel=1e-6, abs=1e-6)


@SLOW
@given(allocation_problems(objective=Objective.MAX_CONVERSIONS))
def test_more_budget_never_gives_a_worse_optimum(problem: AllocationProblem) -> None:
    richer = msgspec.structs.replace(problem, budget=problem.budget * 2 + 1)
    first, second = allocate(problem), allocate(richer)
    if isinstance(first, AllocationPlan):
        assert isinstance(second, AllocationPlan)
        assert second.objective_value >= first.objective_value - 1e-6 * max(
            1, first.objective_value
        )


def knapsack_optimum(segments: list[Segment], budget: int) -> float:
    """Exact optimum of a budget-only allocation by dynamic programming over spend."""
    best = np.full(budget + 1, -np.inf)
    best[0] = 0.0
    for segment in segments:
        options = [segment_figures(segment, k) for k in range(segment.available + 1)]
        nxt = np.full(budget + 1, -np.inf)
        for _, conversions, spend in options:
            if spend <= budget:
                nxt[spend:] = np.maximum(nxt[spend:], best[: budget + 1 - spend] + conversions)
        best = nxt
    return float(best.max())


def test_twelve_segments_reach_the_dynamic_programming_optimum() -> None:
    rng = np.random.default_rng(7)
    segments = [
        Segment(
            platform=list(Platform)[i % 10],
            tier=list(Tier)[(i + i // 10) % 5],  # each (platform, tier) once
            fee=int(rng.integers(20, 200)),
            reach=float(rng.integers(500, 5_000)),
            audience=float(rng.integers(20_000, 90_000)),
            cvr=float(rng.uniform(0.001, 0.01)),
            available=int(rng.integers(20, 60)),
        )
        for i in range(12)
    ]
    problem = AllocationProblem(segments=segments, budget=6_000, gap_limit=0.0)
    plan = allocate(problem)
    assert isinstance(plan, AllocationPlan)
    check_plan(problem, plan)
    optimum = knapsack_optimum(segments, problem.budget)
    assert plan.objective_value >= optimum * (1 - 1e-3)
    assert plan.objective_value <= optimum + 1e-6
    assert plan.bound >= optimum - 1e-6


def test_shares_are_met_to_the_minor_unit() -> None:
    segments = [
        Segment(
            platform="douyin",
            tier="nano",
            fee=333,
            reach=900,
            audience=50_000,
            cvr=0.004,
            available=40,
        ),
        Segment(
            platform="douyin",
            tier="mega",
            fee=100_001,
            reach=80_000,
            audience=900_000,
            cvr=0.002,
            available=5,
        ),
    ]
    problem = AllocationProblem(
        segments=segments,
        budget=250_000,
        tier_shares={Tier.NANO: ShareRange(min_share=0.1)},
        gap_limit=0.0,
    )
    plan = allocate(problem)
    assert isinstance(plan, AllocationPlan)
    check_plan(problem, plan)
    nano = plan.segments[0].spend
    assert nano * 10 >= plan.total_spend


@pytest.mark.parametrize("share", [5e-324, 1e-30, 0.12345678901234567])
def test_shares_with_more_digits_than_a_float_holds_still_plan(share: float) -> None:
    segments = [
        Segment(platform="douyin", tier="nano", fee=333, reach=900, audience=50_000,
                cvr=0.004, available=40),
        Segment(platform="douyin", tier="mega", fee=100_001, reach=80_000, audience=900_000,
                cvr=0.002, available=5),
    ]  # fmt: skip
    problem = AllocationProblem(
        segments=segments, budget=250_000, tier_shares={Tier.NANO: ShareRange(max_share=share)}
    )
    plan = allocate(problem)
    assert isinstance(plan, AllocationPlan)
    check_plan(problem, plan)
    assert plan.segments[0].spend <= share * plan.total_spend + 1e-9


def test_a_reach_target_beyond_the_budget_is_diagnosed_with_the_budget_needed() -> None:
    segments = [
        Segment(
            platform="tiktok",
            tier="micro",
            fee=10_000,
            reach=5_000,
            audience=1_000_000,
            cvr=0.01,
            available=100,
        ),
    ]
    problem = AllocationProblem(
        segments=segments, budget=50_000, min_reach=100_000.0, time_limit_seconds=5
    )
    result = allocate(problem)
    assert isinstance(result, Diagnosis)
    assert result.status is DiagnosisStatus.INFEASIBLE
    assert set(result.conflicts) == {"budget", "min_reach"}
    by_name = {s.constraint: s for s in result.suggestions}
    # 20 creators reach 1e6 × (1 − 0.995^20) = 95 389 < 100 000 ≤ 21 creators' reach
    needed_k = next(k for k in range(1, 101) if segment_figures(segments[0], k)[0] >= 100_000)
    assert by_name["budget"].needed == needed_k * 10_000
    assert by_name["min_reach"].needed == pytest.approx(segment_figures(segments[0], 5)[0])


def test_reach_above_audience_is_refused_naming_the_segment() -> None:
    segments = [
        Segment(
            platform="tiktok", tier="micro", fee=1, reach=10.0, audience=5.0, cvr=0.1, available=1
        )
    ]
    with pytest.raises(PricingError) as error:
        allocate(AllocationProblem(segments=segments, budget=10))
    assert error.value.field == "segments[0].reach"


def test_among_plans_of_equal_reach_the_cheaper_one_is_reported() -> None:
    """One creator whose reach is the whole audience reaches everyone; more add nobody."""
    whole = Segment(
        platform="weibo",
        tier="macro",
        fee=50_000,
        reach=400_000.0,
        audience=400_000.0,
        cvr=0.001,
        available=10,
    )
    problem = AllocationProblem(segments=[whole], budget=400_000, objective=Objective.MAX_REACH)
    plan = allocate(problem)
    assert isinstance(plan, AllocationPlan)
    check_plan(problem, plan)
    assert plan.total_reach == 400_000.0
    assert plan.segments[0].creators == 1
    assert plan.total_spend == 50_000
