"""Infeasible problems get a diagnosis: the conflicting constraints, and for each one the
change that makes a plan exist, which is checked by solving the changed problem."""

from __future__ import annotations

import msgspec

from contracts.planning import (
    AllocationPlan,
    AllocationProblem,
    Diagnosis,
    DiagnosisStatus,
    Segment,
    ShareRange,
)
from pricing import allocate


def segments() -> list[Segment]:
    return [
        Segment(
            platform="douyin",
            tier="nano",
            fee=1_000,
            reach=2_000,
            audience=200_000,
            cvr=0.003,
            available=30,
        ),
        Segment(
            platform="douyin",
            tier="macro",
            fee=90_000,
            reach=150_000,
            audience=3_000_000,
            cvr=0.001,
            available=4,
        ),
        Segment(
            platform="weibo",
            tier="mega",
            fee=400_000,
            reach=900_000,
            audience=9_000_000,
            cvr=0.0005,
            available=2,
        ),
    ]


def test_shares_that_cannot_add_up_are_named_with_the_share_each_tier_can_take() -> None:
    problem = AllocationProblem(
        segments=segments(),
        budget=2_000_000,
        min_conversions=10.0,
        tier_shares={"nano": ShareRange(min_share=0.6), "mega": ShareRange(min_share=0.6)},
        time_limit_seconds=5,
    )
    result = allocate(problem)
    assert isinstance(result, Diagnosis)
    assert result.status is DiagnosisStatus.INFEASIBLE
    # Hiring nobody meets both shares; the conversion target is part of the conflict.
    assert sorted(result.conflicts) == [
        "min_conversions",
        "tier_shares.mega.min_share",
        "tier_shares.nano.min_share",
    ]
    shares = [s for s in result.suggestions if s.constraint.startswith("tier_shares")]
    assert all(s.needed is not None for s in shares)
    for suggestion in shares:
        assert suggestion.needed is not None
        assert suggestion.needed < 0.6
        tier = suggestion.constraint.split(".")[1]
        shares = {**problem.tier_shares, tier: ShareRange(min_share=suggestion.needed)}
        plan = allocate(msgspec.structs.replace(problem, tier_shares=shares))
        assert isinstance(plan, AllocationPlan), suggestion


def test_caps_against_a_conversion_target_say_how_many_conversions_are_possible() -> None:
    problem = AllocationProblem(
        segments=segments(),
        budget=10**9,
        min_conversions=1_000.0,
        max_creators_per_platform={"douyin": 3, "weibo": 0},
        time_limit_seconds=5,
    )
    result = allocate(problem)
    assert isinstance(result, Diagnosis)
    assert "min_conversions" in result.conflicts
    by_name = {s.constraint: s for s in result.suggestions}
    possible = by_name["min_conversions"].needed
    assert possible is not None and possible < 1_000.0
    plan = allocate(msgspec.structs.replace(problem, min_conversions=possible))
    assert isinstance(plan, AllocationPlan)
    assert plan.total_conversions >= possible
    for name in result.conflicts:
        suggestion = by_name[name]
        if name.startswith("max_creators_per_platform.") and suggestion.needed is not None:
            caps = {**problem.max_creators_per_platform, name.split(".")[1]: int(suggestion.needed)}
            fixed = allocate(msgspec.structs.replace(problem, max_creators_per_platform=caps))
            assert isinstance(fixed, AllocationPlan), suggestion
