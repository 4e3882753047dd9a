"""Planning's pure rules: the size rule, how a plan ends, progress read from the engine's own
log, and the selection that follows an allocation."""

import msgspec
import pytest

from contracts.common import Platform, Tier
from contracts.planning import (
    AllocationPlan,
    AllocationProblem,
    Candidate,
    Diagnosis,
    DiagnosisStatus,
    Objective,
    PlanStatus,
    Segment,
    SegmentPlan,
    SelectionProblem,
    ShareRange,
)
from contracts.plans import PlanState, PlanStopReason
from pricing import PricingError, allocate, select
from pricing.sizing import INLINE_SIZE, fits_inline, solves_inline
from services.errors import Conflict, Invalid
from services.planning import rules


def _selection(n: int, **changes: object) -> SelectionProblem:
    made = [
        Candidate(id=f"c{i}", platform=list(Platform)[i % 3], tier=list(Tier)[i % 2],
                  fee=1_000 + (i * 7_919) % 997, reach=900.0 + (i * 104_729) % 613,
                  conversions=1.0 + (i * 31) % 97 / 10)
        for i in range(n)
    ]  # fmt: skip
    return SelectionProblem(candidates=made, budget=200_000, **changes)  # type: ignore[arg-type]


def test_a_derived_selection_is_judged_by_the_engines_size_rule_before_it_is_read() -> None:
    small = _selection(100, min_reach=10.0, tier_shares={Tier.NANO: ShareRange(min_share=0.5)})
    rows = rules.constraint_rows(small)
    assert rows == 3
    assert fits_inline(len(small.candidates), rows, 20.0) == solves_inline(small)
    columns = INLINE_SIZE // (1 + rows)
    assert fits_inline(columns, rows, 20.0)
    assert not fits_inline(columns + 1, rows, 20.0)


def _plan(status: PlanStatus, gap: float) -> AllocationPlan:
    return AllocationPlan(
        status=status, objective=Objective.MAX_CONVERSIONS, currency=None, segments=[],
        total_spend=0, total_reach=0.0, total_conversions=0.0, total_creators=0, binding=[],
        objective_value=1.0, bound=1.0 + gap, gap=gap,
    )  # fmt: skip


def test_a_plan_ends_as_its_result_says_and_names_why_it_stopped() -> None:
    assert rules.outcome(_plan(PlanStatus.OPTIMAL, 0.0), 0.001) == rules.Outcome(
        PlanState.SOLVED, PlanStopReason.OPTIMAL, None
    )
    assert (
        rules.stop_reason(_plan(PlanStatus.FEASIBLE, 0.0005), 0.001) is PlanStopReason.GAP_REACHED
    )
    assert rules.stop_reason(_plan(PlanStatus.FEASIBLE, 0.01), 0.001) is PlanStopReason.TIME_LIMIT
    proven = Diagnosis(status=DiagnosisStatus.INFEASIBLE, conflicts=[], suggestions=[], detail="")
    assert rules.outcome(proven, 0.001).state is PlanState.INFEASIBLE
    late = Diagnosis(status=DiagnosisStatus.NO_PLAN_FOUND, conflicts=[], suggestions=[], detail="")
    ended = rules.outcome(late, 0.001)
    assert ended.state is PlanState.FAILED
    assert ended.failure is not None and ended.failure.type == "/problems/no-plan-found"


def test_failures_are_problem_objects_naming_the_cause() -> None:
    named = rules.failure_of(PricingError("must_include[2]", "unknown candidate id 'x'"))
    assert (named.type, named.field) == ("/problems/invalid-problem", "must_include[2]")
    invalid = rules.failure_of(Invalid("brief", "nothing matches"))
    assert (invalid.field, invalid.detail) == ("brief", "nothing matches")
    crashed = rules.failure_of(ZeroDivisionError("division by zero"))
    assert crashed.type == "/problems/solver-failed"
    assert crashed.detail == "ZeroDivisionError: division by zero"


@pytest.mark.parametrize("objective", [Objective.MAX_CONVERSIONS, Objective.MAX_REACH])
def test_progress_is_read_from_the_engines_own_lines(objective: Objective) -> None:
    problem = _selection(1_000, min_reach=40_000.0, objective=objective, time_limit_seconds=10)
    tracker = rules.Tracker(objective)
    result = select(problem, tracker.log)
    assert not isinstance(result, Diagnosis)
    seen = tracker.snapshot()
    assert seen["objective_value"] == pytest.approx(result.objective_value, rel=1e-6)
    assert seen["bound"] is not None and seen["bound"] >= result.objective_value * (1 - 1e-9)
    assert seen["gap"] is not None
    tracker.stop()
    with pytest.raises(rules.PlanStopped):
        tracker.log("incumbent 1 (dive) bound 2 gap 50%")


def test_a_spend_to_minimise_is_logged_negated_and_read_back_positive() -> None:
    tracker = rules.Tracker(Objective.MIN_SPEND)
    tracker.log("LP bound -95000")
    assert tracker.snapshot()["objective_value"] is None
    tracker.log("incumbent -100000 (dive) bound -95000 gap 5.0000%")
    tracker.log("nodes 40 bound -96000 incumbent -99000")
    assert tracker.snapshot() == {
        "objective_value": 99_000.0,
        "bound": 96_000.0,
        "gap": pytest.approx(3_000 / 99_000),
    }


def test_a_stopped_tracker_stops_the_engine() -> None:
    tracker = rules.Tracker(Objective.MAX_CONVERSIONS)
    tracker.stop()
    with pytest.raises(rules.PlanStopped):
        select(_selection(500), tracker.log)


def _segment(platform: Platform, tier: Tier) -> Segment:
    return Segment(platform=platform, tier=tier, fee=10_000, reach=1_000.0, audience=100_000.0,
                   cvr=0.01, available=20)  # fmt: skip


def test_the_selection_after_an_allocation_keeps_its_segments_and_counts() -> None:
    segments = [
        _segment(Platform.TIKTOK, Tier.NANO),
        _segment(Platform.TIKTOK, Tier.MICRO),
        _segment(Platform.INSTAGRAM, Tier.NANO),
    ]
    problem = AllocationProblem(
        segments=segments, budget=100_000, min_reach=1_000.0,
        max_creators_per_platform={Platform.TIKTOK: 3},
    )  # fmt: skip
    plan = allocate(problem)
    assert isinstance(plan, AllocationPlan)
    counts = {(s.platform, s.tier): s.creators for s in plan.segments}
    request, keys = rules.selection_after(problem, plan)
    assert keys == tuple(sorted(f"{p}:{t}" for (p, t), n in counts.items() if n))
    for platform in (Platform.TIKTOK, Platform.INSTAGRAM):
        hired = sum(n for (p, _), n in counts.items() if p == platform)
        assert request.max_creators_per_platform.get(platform, 0) == hired
    assert request.max_creators_per_platform[Platform.TIKTOK] <= 3
    assert (request.budget, request.min_reach) == (100_000, 1_000.0)
    idle = SegmentPlan(platform=Platform.TIKTOK, tier=Tier.NANO, creators=0, reach=0.0,
                       conversions=0.0, spend=0)  # fmt: skip
    nobody = msgspec.structs.replace(_plan(PlanStatus.OPTIMAL, 0.0), segments=[idle])
    with pytest.raises(Conflict):
        rules.selection_after(problem, nobody)
