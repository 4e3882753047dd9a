"""Infeasible problems get a diagnosis: the conflicting constraints, and for each one the
change that makes a plan exist, which is checked by solving the changed problem."""

from __future__ import annotations

import itertools

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.planning import (
    AllocationPlan,
    AllocationProblem,
    Diagnosis,
    DiagnosisStatus,
    Segment,
    SelectionProblem,
    ShareRange,
    Suggestion,
)
from pricing import allocate, select
from tests.pricing.oracles import (
    Figures,
    allocation_figures,
    allowed,
    broken,
    selection_figures,
)
from tests.pricing.strategies import allocation_problems, selection_problems


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


# Diagnoses of small problems, checked against enumeration of every plan: whatever a
# diagnosis marks proven must be true, and every `needed` value must make a plan exist.


@st.composite
def conflicting_allocations(draw: st.DrawFn) -> AllocationProblem:
    problem = draw(allocation_problems())
    top = sum(s.fee * s.available for s in problem.segments) + 1
    return msgspec.structs.replace(
        problem,
        budget=draw(st.integers(0, top // 3)),
        min_reach=draw(st.sampled_from([0.0, 0.2, 0.5]))
        * sum(s.audience for s in problem.segments),
        min_conversions=draw(st.sampled_from([0.0, 2.0, 20.0])),
        time_limit_seconds=10.0,
    )


@st.composite
def conflicting_selections(draw: st.DrawFn) -> SelectionProblem:
    problem = draw(selection_problems(size=8, dedup=draw(st.booleans())))
    total_fee = sum(c.fee for c in problem.candidates)
    return msgspec.structs.replace(
        problem,
        budget=draw(st.integers(0, total_fee // 3 + 1)),
        must_include=[],
        min_reach=draw(st.sampled_from([0.0, 0.2, 0.5])) * sum(c.reach for c in problem.candidates),
        time_limit_seconds=10.0,
    )


Problem = AllocationProblem | SelectionProblem


def every_plan(problem: Problem) -> list[Figures]:
    if isinstance(problem, AllocationProblem):
        ranges = [range(s.available + 1) for s in problem.segments]
        return [allocation_figures(problem, list(ks)) for ks in itertools.product(*ranges)]
    ids = [c.id for c in problem.candidates if allowed(problem, c)]
    subsets = itertools.chain.from_iterable(
        itertools.combinations(ids, size) for size in range(len(ids) + 1)
    )
    return [selection_figures(problem, list(chosen)) for chosen in subsets]


def with_constraint(problem: Problem, name: str, value: float | None) -> Problem:
    """`problem` with constraint `name` set to `value` (None: left out)."""
    kind, _, key = name.partition(".")
    if name == "budget":
        return msgspec.structs.replace(problem, budget=10**13 if value is None else int(value))
    if name in ("min_reach", "min_conversions"):
        return msgspec.structs.replace(problem, **{name: value or 0.0})
    if kind == "tier_shares":
        tier, side = key.split(".")
        shares = dict(problem.tier_shares)
        default = 0.0 if side == "min_share" else 1.0
        shares[tier] = msgspec.structs.replace(
            shares[tier], **{side: default if value is None else value}
        )
        return msgspec.structs.replace(problem, tier_shares=shares)
    mapping = dict(getattr(problem, kind))
    if value is None:
        del mapping[key]
    else:
        mapping[key] = value if kind == "min_reach_per_platform" else int(value)
    return msgspec.structs.replace(problem, **{kind: mapping})


def measured(name: str, figures: Figures) -> float | None:
    kind, _, key = name.partition(".")
    if name == "budget":
        return figures.spend
    if name == "min_reach":
        return figures.reach
    if name == "min_conversions":
        return figures.conversions
    if kind == "max_creators_per_platform":
        return figures.platform_creators.get(key, 0)
    if kind == "max_creators_per_tier":
        return figures.tier_creators.get(key, 0)
    if kind == "min_reach_per_platform":
        return figures.platform_reach.get(key, 0.0)
    tier = key.split(".")[0]
    return figures.tier_spend.get(tier, 0) / figures.spend if figures.spend else None


def best_change(name: str, values: list[float]) -> float:
    """The least change: the smallest cost or count, the largest reach, conversions or
    minimum share, the smallest maximum share."""
    smallest = name == "budget" or name.startswith("max_creators") or name.endswith("max_share")
    return min(values) if smallest else max(values)


def check_suggestion(problem: Problem, plans: list[Figures], suggestion: Suggestion) -> None:
    name = suggestion.constraint
    relaxed = with_constraint(problem, name, None)
    feasible = [f for f in plans if not broken(relaxed, f)]
    if suggestion.needed is None:
        assert not (suggestion.proven and feasible), suggestion
        return
    # Reach is a float: the reference formula 1 − (1 − r)^k loses digits to cancellation
    # when r is tiny, where the engine's expm1 and log1p do not; targets get that margin.
    needed = suggestion.needed
    if name in ("min_reach", "min_conversions") or name.startswith("min_reach_per_platform"):
        needed = needed * (1 - 1e-6) - 1e-9
    changed = with_constraint(problem, name, needed)
    assert any(not broken(changed, f) for f in plans), suggestion
    values = [v for v in (measured(name, f) for f in feasible) if v is not None]
    best = best_change(name, values)
    if suggestion.proven:
        assert suggestion.needed == pytest.approx(best, rel=1e-6, abs=1e-6), suggestion
    if suggestion.bound is not None and not name.startswith("tier_shares"):
        slack = 1e-6 * max(1.0, abs(best))
        if name == "budget" or name.startswith("max_creators"):
            assert best >= suggestion.bound - slack, suggestion
        else:
            assert best <= suggestion.bound + slack, suggestion


def check_diagnosis(problem: Problem, result: Diagnosis) -> None:
    plans = every_plan(problem)
    assert result.status is DiagnosisStatus.INFEASIBLE
    assert all(broken(problem, f) for f in plans)
    conflict_only = problem
    for name in [n for n in constraint_names(problem) if n not in result.conflicts]:
        conflict_only = with_constraint(conflict_only, name, None)
    assert all(broken(conflict_only, f) for f in plans), result.conflicts
    for suggestion in result.suggestions:
        check_suggestion(problem, plans, suggestion)


def constraint_names(problem: Problem) -> list[str]:
    names = ["budget"]
    names += [n for n in ("min_reach", "min_conversions") if getattr(problem, n) > 0]
    for tier, share in problem.tier_shares.items():
        names += [f"tier_shares.{tier}.min_share"] if share.min_share > 0 else []
        names += [f"tier_shares.{tier}.max_share"] if share.max_share < 1 else []
    names += [f"max_creators_per_platform.{p}" for p in problem.max_creators_per_platform]
    names += [f"max_creators_per_tier.{t}" for t in problem.max_creators_per_tier]
    targets = getattr(problem, "min_reach_per_platform", {})
    return names + [f"min_reach_per_platform.{p}" for p, v in targets.items() if v > 0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(conflicting_allocations(), conflicting_selections()))
def test_what_a_diagnosis_marks_proven_is_true(problem: Problem) -> None:
    result = allocate(problem) if isinstance(problem, AllocationProblem) else select(problem)
    if not isinstance(result, Diagnosis):
        return
    check_diagnosis(problem, result)
