"""Pure rules of a plan's life: whether it is solved while the request waits, how it ends and
why its search stopped, the problem objects of failures, progress read from the engine's log,
and the figures it expects per (platform, tier)."""

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from contracts.common import Platform, Tier
from contracts.plan_requests import SelectionPlanIn
from contracts.planning import (
    AllocationPlan,
    AllocationProblem,
    Candidate,
    Diagnosis,
    DiagnosisStatus,
    Objective,
    PlanStatus,
    SelectionPlan,
    SelectionProblem,
    StopReason,
)
from contracts.plans import PlanProblem, PlanState, PlanStopReason
from pricing import PricingError
from services.errors import Conflict, DomainError, Invalid

Result = AllocationPlan | SelectionPlan | Diagnosis
Problem = AllocationProblem | SelectionProblem
ENDED: Final = frozenset({PlanState.SOLVED, PlanState.INFEASIBLE, PlanState.FAILED,
                          PlanState.CANCELLED})  # fmt: skip
UNFINISHED: Final = frozenset({PlanState.QUEUED, PlanState.RUNNING})

# ---- Inline or on the worker ----------------------------------------------------------------
# The engine's size rule decides (`pricing.solves_inline`, see pricing/README.md): a problem
# that should take about a second at most is solved while the request waits; anything larger
# goes to the worker. A derived selection is judged by its count of matching accounts before
# its candidates are read.
#
# Size does not bound everything: proving a small problem infeasible, and finding the least
# change of each target, may use the whole time limit. So a request waits at most
# INLINE_WAIT_SECONDS of engine time; a plan not finished by then (stopped by that limit) is
# queued with its own time limit instead.
INLINE_WAIT_SECONDS: Final = 3.0


def constraint_rows(problem: Problem) -> int:
    """Rows of the problem besides one per creator: the budget, each target, each bound of a
    tier share, each cap, each per-platform reach target."""
    rows = 1 + (problem.min_reach > 0) + (problem.min_conversions > 0)
    rows += sum((s.min_share > 0) + (s.max_share < 1) for s in problem.tier_shares.values())
    rows += len(problem.max_creators_per_platform) + len(problem.max_creators_per_tier)
    if isinstance(problem, SelectionProblem):
        rows += len(problem.min_reach_per_platform)
    return rows


# ---- How a plan ends ------------------------------------------------------------------------
def stop_reason(plan: AllocationPlan | SelectionPlan, gap_limit: float) -> PlanStopReason:
    """Optimal when the engine proved it; else what the engine says stopped it (the gap limit
    reached, or time ran out), judged from the gap when it says nothing."""
    if plan.status is PlanStatus.OPTIMAL:
        return PlanStopReason.OPTIMAL
    if plan.stop_reason is StopReason.TIME_LIMIT:
        return PlanStopReason.TIME_LIMIT
    if plan.stop_reason is not None or plan.gap <= gap_limit:
        return PlanStopReason.GAP_REACHED
    return PlanStopReason.TIME_LIMIT


@dataclass(frozen=True, slots=True)
class Outcome:
    state: PlanState
    stop_reason: PlanStopReason | None
    failure: PlanProblem | None


def outcome(result: Result, gap_limit: float) -> Outcome:
    """Solved (and why it stopped), infeasible (proven), or failed when time ran out before
    any plan was found."""
    if isinstance(result, Diagnosis):
        if result.status is DiagnosisStatus.INFEASIBLE:
            return Outcome(PlanState.INFEASIBLE, None, None)
        return Outcome(PlanState.FAILED, None, NO_PLAN_IN_TIME)
    return Outcome(PlanState.SOLVED, stop_reason(result, gap_limit), None)


def failure(slug: str, title: str, detail: str, field: str | None = None) -> PlanProblem:
    return PlanProblem(type=f"/problems/{slug}", title=title, detail=detail[:1000], field=field)


NO_PLAN_IN_TIME: Final = failure(
    "no-plan-found",
    "No plan found in time",
    "the time limit passed before any plan was found, which does not prove there is none; "
    "raise time_limit_seconds or loosen the targets",
)


def failure_of(error: BaseException) -> PlanProblem:
    """The problem object of an error met while deriving or solving a plan."""
    if isinstance(error, PricingError):
        return failure("invalid-problem", "The problem is not valid", error.message, error.field)
    if isinstance(error, Invalid):
        field, message = error.errors[0]
        return failure("invalid-problem", "The problem is not valid", message, field)
    if isinstance(error, DomainError):
        return failure(error.type_slug, error.title, error.detail)
    name = type(error).__name__
    return failure("solver-failed", "The plan could not be computed", f"{name}: {error}")


# A plan left running past its time limit plus this margin is ended by the watchdog (its
# worker stopped); the margin covers deriving the problem and saving the answer.
OVERDUE_MARGIN_SECONDS: Final = 120.0
OVERDUE: Final = failure(
    "plan-overdue",
    "The plan ran past its time limit",
    "the plan was still running %s s (its time limit) plus "
    f"{OVERDUE_MARGIN_SECONDS:g} s after it started; its worker probably stopped",
)


JOB_ENDED: Final = failure(
    "plan-job-ended",
    "The plan's job ended without ending the plan",
    "the worker gave up on the plan's job (it failed or was aborted every time it ran)",
)


# ---- Progress from the engine's log ---------------------------------------------------------
INCUMBENT = re.compile(r"incumbent (\S+) .*bound (\S+)")
NODES = re.compile(r"bound (\S+) incumbent (\S+)")
LP_BOUND = re.compile(r"LP bound (\S+)")


class PlanStopped(Exception):
    """Raised into the engine's search (through its log) when the plan no longer runs."""


class Tracker:
    """Reads the best value and the bound from the engine's progress lines (the engine maximises
    internally: a spend to minimise is logged negated); `stop()` makes the next line raise
    `PlanStopped`, which ends the search."""

    def __init__(self, objective: Objective) -> None:
        self.sign = -1.0 if objective is Objective.MIN_SPEND else 1.0
        self.value: float | None = None
        self.bound: float | None = None
        self.stopped = False

    def log(self, message: str) -> None:
        if self.stopped:
            raise PlanStopped("the plan was cancelled or ended while it ran")
        if found := INCUMBENT.search(message):
            self._read(found.group(1), found.group(2))
        elif found := NODES.search(message):
            self._read(found.group(2), found.group(1))
        elif found := LP_BOUND.search(message):
            self._read(None, found.group(1))

    def _read(self, value: str | None, bound: str) -> None:
        numbers = [_number(v) for v in (value, bound)]
        if numbers[0] is not None:
            self.value = self.sign * numbers[0]
        if numbers[1] is not None:
            self.bound = self.sign * numbers[1]

    def stop(self) -> None:
        self.stopped = True

    def snapshot(self) -> dict[str, float | None]:
        gap = None
        if self.value is not None and self.bound is not None:
            scale = max(abs(self.value), abs(self.bound))
            gap = 0.0 if scale == 0 else abs(self.bound - self.value) / scale
        return {"objective_value": self.value, "bound": self.bound, "gap": gap}


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


# ---- Expected figures per (platform, tier) --------------------------------------------------
Key = tuple[Platform, Tier]


def expected_of_allocation(plan: AllocationPlan) -> list[dict[str, Any]]:
    """The plan's creators, spend, reach and conversions summed per (platform, tier)."""
    return _summed((s.platform, s.tier, s.creators, s.spend, s.reach, s.conversions)
                   for s in plan.segments if s.creators)  # fmt: skip


def expected_of_selection(
    plan: SelectionPlan, candidates: Iterable[Candidate]
) -> list[dict[str, Any]]:
    """The chosen candidates' fees, reach and conversions summed per (platform, tier)."""
    chosen = set(plan.selected)
    return _summed((c.platform, c.tier, 1, c.fee, c.reach, c.conversions)
                   for c in candidates if c.id in chosen)  # fmt: skip


def _summed(
    lines: Iterable[tuple[Platform, Tier, int, int, float, float]],
) -> list[dict[str, Any]]:
    sums: dict[Key, list[Any]] = defaultdict(lambda: [0, 0, 0.0, 0.0])
    for platform, tier, *figures in lines:
        line = sums[(platform, tier)]
        line[:] = [a + b for a, b in zip(line, figures, strict=True)]
    return [
        {"platform": p, "tier": t, "creators": n, "spend": spend, "reach": reach,
         "conversions": conversions}
        for (p, t), (n, spend, reach, conversions) in sorted(sums.items())
    ]  # fmt: skip


# ---- From an allocation to a selection ------------------------------------------------------
def selection_after(
    problem: AllocationProblem, plan: AllocationPlan
) -> tuple[SelectionPlanIn, tuple[str, ...]]:
    """The selection that follows an allocation: candidates only from the segments it hires
    in, at most its creators per platform and per tier, with its budget, targets, shares and
    objective. The engine caps platforms and tiers, not segments: when the allocation hires in
    two tiers of each of two platforms, the selection may trade creators between those four
    segments within the same platform and tier totals."""
    per_platform: Counter[Platform] = Counter()
    per_tier: Counter[Tier] = Counter()
    keys = []
    for s in plan.segments:
        if s.creators:
            per_platform[s.platform] += s.creators
            per_tier[s.tier] += s.creators
            keys.append(f"{s.platform}:{s.tier}")
    if not keys:
        raise Conflict("the allocation hires no creator; there is nobody to select")
    request = SelectionPlanIn(
        budget=problem.budget,
        min_reach=problem.min_reach,
        min_conversions=problem.min_conversions,
        tier_shares=problem.tier_shares,
        max_creators_per_platform={
            p: min(n, problem.max_creators_per_platform.get(p, n)) for p, n in per_platform.items()
        },
        max_creators_per_tier={
            t: min(n, problem.max_creators_per_tier.get(t, n)) for t, n in per_tier.items()
        },
        objective=problem.objective,
    )
    return request, tuple(sorted(keys))
