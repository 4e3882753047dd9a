"""Creator selection: plans keep every constraint, totals are recomputable from the chosen
ids, and the optimum matches HiGHS (plain sums) or enumeration (deduplicated reach)."""

from __future__ import annotations

import itertools
import math

import msgspec
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from contracts.common import Platform, Tier
from contracts.planning import (
    Candidate,
    Diagnosis,
    DiagnosisStatus,
    Objective,
    SelectionPlan,
    SelectionProblem,
    ShareRange,
)
from pricing import PricingError, select
from tests.pricing.oracles import allowed, broken, milp_selection, objective_of, selection_figures
from tests.pricing.strategies import selection_problems

SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_plan(problem: SelectionProblem, plan: SelectionPlan) -> None:
    figures = selection_figures(problem, plan.selected)
    assert broken(problem, figures) == []
    by_id = {c.id: c for c in problem.candidates}
    assert all(allowed(problem, by_id[i]) for i in plan.selected)
    assert set(problem.must_include) <= set(plan.selected)
    assert plan.total_spend == figures.spend
    assert plan.total_creators == len(plan.selected) == len(set(plan.selected))
    assert plan.total_reach == pytest.approx(figures.reach, rel=1e-9, abs=1e-9)
    assert plan.total_conversions == pytest.approx(figures.conversions, rel=1e-9, abs=1e-9)
    assert sum(p.spend for p in plan.platforms) == plan.total_spend
    assert plan.objective_value == pytest.approx(
        objective_of(problem.objective, figures), rel=1e-9, abs=1e-9
    )
    if problem.objective is Objective.MIN_SPEND:
        assert plan.bound <= plan.objective_value + 1e-6
    else:
        assert plan.bound >= plan.objective_value - 1e-9 * max(1.0, plan.objective_value)


def exact_ids(problem: SelectionProblem, ids: list[str]) -> bool:
    by_id = {c.id: c for c in problem.candidates}
    if not all(allowed(problem, by_id[i]) for i in ids):
        return False
    return not broken(problem, selection_figures(problem, ids))


@SLOW
@given(selection_problems())
def test_selection_matches_highs_on_small_catalogs(problem: SelectionProblem) -> None:
    result = select(problem)
    reference = milp_selection(problem)
    if isinstance(result, Diagnosis):
        assert result.status is DiagnosisStatus.INFEASIBLE
        assert reference is None or not exact_ids(problem, reference[1])
        return
    check_plan(problem, result)
    if reference is not None and exact_ids(problem, reference[1]):
        assert result.objective_value == pytest.approx(reference[0], rel=1e-6, abs=1e-6)


@SLOW
@given(selection_problems())
def test_more_budget_never_gives_a_worse_selection(problem: SelectionProblem) -> None:
    if problem.objective is Objective.MIN_SPEND:
        problem = msgspec.structs.replace(problem, objective=Objective.MAX_CONVERSIONS)
    richer = msgspec.structs.replace(problem, budget=problem.budget * 2 + 1)
    first, second = select(problem), select(richer)
    if isinstance(first, SelectionPlan):
        assert isinstance(second, SelectionPlan)
        check_plan(richer, second)
        tolerance = 1e-6 * max(1.0, first.objective_value)
        assert second.objective_value >= first.objective_value - tolerance


def enumerate_optimum(problem: SelectionProblem) -> float | None:
    ids = [c.id for c in problem.candidates]
    minimise = problem.objective is Objective.MIN_SPEND
    best = None
    for size in range(len(ids) + 1):
        for chosen in itertools.combinations(ids, size):
            if not all(allowed(problem, c) for c in problem.candidates if c.id in chosen):
                continue
            if not set(problem.must_include) <= set(chosen):
                continue
            figures = selection_figures(problem, list(chosen))
            if broken(problem, figures):
                continue
            value = objective_of(problem.objective, figures)
            if best is None or (value < best if minimise else value > best):
                best = value
    return best


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(selection_problems(size=9, dedup=True))
def test_deduplicated_reach_matches_enumeration(problem: SelectionProblem) -> None:
    result = select(problem)
    best = enumerate_optimum(problem)
    if best is None:
        assert isinstance(result, Diagnosis)
        return
    assert isinstance(result, SelectionPlan), result
    check_plan(problem, result)
    assert result.objective_value == pytest.approx(best, rel=1e-6, abs=1e-6)


def catalog(n: int, seed: int) -> list[Candidate]:
    rng = np.random.default_rng(seed)
    tiers = rng.choice(5, size=n, p=[0.5, 0.3, 0.12, 0.05, 0.03])
    followers = 10 ** (3 + tiers + rng.uniform(0, 1, n))
    reach = np.rint(followers * rng.uniform(0.05, 0.3, n))
    return [
        Candidate(
            id=f"c{i}",
            platform=list(Platform)[i % 8],
            tier=list(Tier)[tiers[i]],
            fee=int(max(100, reach[i] * rng.uniform(0.5, 1.5))),
            reach=float(reach[i]),
            conversions=round(float(reach[i] * 2e-4 * rng.lognormal(0, 0.5)), 4),
        )
        for i in range(n)
    ]


def test_two_thousand_candidates_with_caps_and_shares_match_highs() -> None:
    cands = catalog(2_000, 3)
    problem = SelectionProblem(
        candidates=cands,
        budget=sum(c.fee for c in cands) // 20,
        min_reach=0.0,
        tier_shares={Tier.NANO: ShareRange(min_share=0.1), Tier.MEGA: ShareRange(max_share=0.3)},
        max_creators_per_platform={Platform.DOUYIN: 30, Platform.WEIBO: 25},
        gap_limit=1e-4,
        time_limit_seconds=20,
    )
    plan = select(problem)
    assert isinstance(plan, SelectionPlan)
    check_plan(problem, plan)
    value, ids = milp_selection(problem)
    assert exact_ids(problem, ids)
    assert plan.objective_value >= value * (1 - 1e-3)
    assert plan.bound >= value * (1 - 1e-6)


def test_a_per_platform_reach_target_is_met_on_deduplicated_reach() -> None:
    cands = catalog(300, 5)
    audience = {p: 2_000_000.0 for p in Platform}
    problem = SelectionProblem(
        candidates=cands,
        budget=sum(c.fee for c in cands) // 5,
        audience=audience,
        min_reach_per_platform={Platform.DOUYIN: 150_000.0},
        objective=Objective.MIN_SPEND,
    )
    plan = select(problem)
    assert isinstance(plan, SelectionPlan)
    check_plan(problem, plan)
    douyin = [c for c in cands if c.id in plan.selected and c.platform == Platform.DOUYIN]
    deduplicated = 2_000_000.0 * (1 - math.prod(1 - c.reach / 2_000_000.0 for c in douyin))
    assert deduplicated >= 150_000.0
    assert deduplicated < math.fsum(c.reach for c in douyin)


def test_must_include_and_must_exclude_are_respected() -> None:
    cands = catalog(200, 9)
    problem = SelectionProblem(
        candidates=cands,
        budget=sum(c.fee for c in cands) // 4,
        must_include=["c3", "c7"],
        must_exclude=["c1", "c2", "c4"],
    )
    plan = select(problem)
    assert isinstance(plan, SelectionPlan)
    check_plan(problem, plan)


def test_must_include_of_an_excluded_creator_is_diagnosed() -> None:
    cands = catalog(20, 1)
    problem = SelectionProblem(
        candidates=cands, budget=10**9, must_include=["c3"], must_exclude=["c3"]
    )
    result = select(problem)
    assert isinstance(result, Diagnosis)
    assert result.conflicts == ["must_include", "must_exclude"]


def test_a_budget_too_small_for_the_conversion_target_is_diagnosed() -> None:
    cands = catalog(50, 2)
    problem = SelectionProblem(
        candidates=cands, budget=1_000, min_conversions=5.0, time_limit_seconds=5
    )
    result = select(problem)
    assert isinstance(result, Diagnosis)
    assert "min_conversions" in result.conflicts and "budget" in result.conflicts
    by_name = {s.constraint: s for s in result.suggestions}
    cheapest = milp_selection(
        msgspec.structs.replace(problem, budget=10**12, objective=Objective.MIN_SPEND)
    )
    assert cheapest is not None
    assert by_name["budget"].needed == pytest.approx(cheapest[0])


def test_duplicate_ids_and_unknown_must_include_are_refused() -> None:
    cands = catalog(3, 1)
    twice = [*cands, msgspec.structs.replace(cands[0])]
    with pytest.raises(PricingError) as error:
        select(SelectionProblem(candidates=twice, budget=10))
    assert error.value.field == "candidates[3].id"
    with pytest.raises(PricingError) as error:
        select(SelectionProblem(candidates=cands, budget=10, must_include=["nobody"]))
    assert error.value.field == "must_include[0]"


def test_deduplicated_reach_counts_each_person_once() -> None:
    cands = [
        Candidate(id="a", platform="tiktok", tier="nano", fee=100, reach=1_000.0, conversions=1.0),
        Candidate(id="b", platform="tiktok", tier="micro", fee=500, reach=8_000.0, conversions=4.0),
    ]
    problem = SelectionProblem(
        candidates=cands, budget=1_000, audience={"tiktok": 5_000.0}, objective="max_reach"
    )
    plan = select(problem)
    assert isinstance(plan, SelectionPlan)
    # b alone covers the whole audience: nobody is counted twice, and a, who adds nobody,
    # is left out (among plans of equal reach the cheaper one is reported).
    assert plan.selected == ["b"]
    assert plan.total_reach == pytest.approx(5_000.0)
    assert plan.total_spend == 500
    assert plan.objective == Objective.MAX_REACH


def test_a_budget_only_selection_has_a_plan_even_with_little_time() -> None:
    """Many identical candidates make the proof slow; the merchant still gets a plan."""
    candidates = [
        Candidate(
            id=f"c{i}",
            platform=Platform.TIKTOK,
            tier=Tier.NANO,
            fee=10_000 + 37 * (i % 101),
            reach=3_000.0 + 11 * (i % 97),
            conversions=5.0 + (i % 13) / 3,
        )
        for i in range(20_500)
    ]
    problem = SelectionProblem(candidates=candidates, budget=2_000_000, time_limit_seconds=0.2)
    plan = select(problem)
    assert isinstance(plan, SelectionPlan)
    chosen = {c.id: c for c in candidates if c.id in set(plan.selected)}
    assert sum(c.fee for c in chosen.values()) == plan.total_spend <= 2_000_000
    assert plan.bound >= plan.objective_value > 0
