"""Why no plan exists: the constraints that conflict, and the least change of each one
that makes the problem feasible on its own (`pricing.suggestions`).

The conflict set is found by deletion: a constraint is left out of the set when the
problem is proven infeasible without it, so the constraints that remain are proven to
conflict together. Each constraint whose removal was shown to allow a plan is proven
necessary; when a check was cut short by the time limit, the constraint stays in the set
and the diagnosis says its necessity was not determined.

The diagnosis shares the call's budget: one deadline covers solve and diagnosis. Its
checks are limited in deterministic work (each feasibility check a share of the time
limit, the suggestions what is left of it), so an idle and a busy machine reach the same
diagnosis unless the deadline ends first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from contracts.planning import (
    Diagnosis,
    DiagnosisStatus,
    SelectionProblem,
    StopReason,
    Suggestion,
)
from pricing.clock import Budget
from pricing.linear import BoolArray
from pricing.planner import Outcome, Planner
from pricing.relaxation import Log
from pricing.suggestions import UNDETERMINED, suggestion, undetermined

if TYPE_CHECKING:
    from pricing.selection import Catalog

CHECK_SHARE = 0.1
MIN_CHECK = 0.2


def _feasible(planner: Planner, dropped: frozenset[str], budget: Budget) -> bool | None:
    """True/False when proven, None when not determined within the budget."""
    outcome = planner.solve(budget, dropped, first_plan=True)
    if outcome.x is not None:
        return True
    return False if outcome.infeasible else None


def conflict_set(planner: Planner, budget: Budget, units: float) -> tuple[list[str], list[str]]:
    """A set of constraints proven to conflict, and those of its members whose necessity
    was not determined. Shares and caps are tried first and the budget last, so the
    explanation prefers budget and targets."""
    names = planner.limits.names()
    needed, unsure = list(names), []
    for name in reversed(names):
        if budget.stopped():
            unsure.append(name)
            continue
        trial = [n for n in needed if n != name]
        dropped = frozenset(n for n in names if n not in trial)
        verdict = _feasible(planner, dropped, budget.part(units))
        if verdict is False:
            needed = trial
        elif verdict is None:
            unsure.append(name)
    return needed, [name for name in needed if name in unsure]


def _no_plan(outcome: Outcome) -> Diagnosis:
    return Diagnosis(
        status=DiagnosisStatus.NO_PLAN_FOUND,
        conflicts=[],
        suggestions=[],
        detail=(
            "no plan was found within time_limit_seconds and infeasibility was not "
            "proven; allow more time"
        ),
        stop_reason=StopReason.TIME_LIMIT,
        notes=list(outcome.notes),
    )


def diagnose(
    planner: Planner, outcome: Outcome, budget: Budget, log: Log | None = None
) -> Diagnosis:
    """Explain a problem for which the search returned no plan, within the same budget."""
    if not outcome.infeasible:
        return _no_plan(outcome)
    limit = budget.deadline.seconds
    allowance = max(0.0, limit - budget.work.spent)
    diagnosis = budget.part(allowance)
    units = max(MIN_CHECK, CHECK_SHARE * limit)
    # The conflict set may use half of the allowance; the suggestions get the rest.
    conflicts, unsure = conflict_set(planner, diagnosis.part(allowance / 2), units)
    if log is not None:
        log(f"conflicting constraints: {', '.join(conflicts)}")
    suggestions = []
    for count, name in enumerate(conflicts):
        if diagnosis.stopped():
            suggestions.append(undetermined(planner, name))
            continue
        part = diagnosis.part(diagnosis.work.left() / (len(conflicts) - count))
        suggestions.append(suggestion(planner, name, part))
    described = " and ".join(conflicts) if conflicts else "the data (available creators)"
    detail = (
        f"no plan meets {described} together (proven); a suggestion with a `needed` value "
        "resolves the conflict on its own, the others keep every other constraint"
    )
    if unsure:
        detail += f"; whether the conflict needs {', '.join(unsure)} was {UNDETERMINED}"
    complete = not unsure and not diagnosis.stopped()
    return Diagnosis(
        status=DiagnosisStatus.INFEASIBLE,
        conflicts=conflicts,
        suggestions=suggestions,
        detail=detail,
        stop_reason=StopReason.COMPLETED if complete else StopReason.TIME_LIMIT,
        notes=list(outcome.notes),
    )


def must_include_conflict(
    problem: SelectionProblem, catalog: Catalog, clash: BoolArray
) -> Diagnosis:
    """must_include names creators that must_exclude or min_authenticity rule out."""
    listed = set(problem.must_exclude)
    indices = np.flatnonzero(clash)
    excluded = [catalog.ids[i] for i in indices if catalog.ids[i] in listed]
    weak = [i for i in indices if catalog.ids[i] not in listed]
    conflicts, suggestions = ["must_include"], []
    if excluded:
        conflicts.append("must_exclude")
        text = f"remove {', '.join(excluded[:10])} from must_include or from must_exclude"
        suggestions.append(
            Suggestion(
                constraint="must_exclude", current=None, needed=None, detail=text, proven=True
            )
        )
    if weak:
        conflicts.append("min_authenticity")
        scores = catalog.authenticity[weak]
        needed = None if bool(np.isnan(scores).any()) else float(scores.min())
        names = ", ".join(catalog.ids[i] for i in weak[:10])
        text = (
            f"{names} score below min_authenticity or have no score; whether the rest then "
            "has a plan was not checked"
        )
        suggestions.append(
            Suggestion(
                constraint="min_authenticity",
                current=problem.min_authenticity,
                needed=needed,
                detail=text,
            )
        )
    return Diagnosis(
        status=DiagnosisStatus.INFEASIBLE,
        conflicts=conflicts,
        suggestions=suggestions,
        detail="must_include names creators that other constraints exclude",
        stop_reason=StopReason.COMPLETED,
    )
