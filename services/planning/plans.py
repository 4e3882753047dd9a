"""Plan rows: saving a plan (ended at once, or queued), ending a running one with the event that
tells of it, and reading rows back as contract structs.

Every end of a plan (solved, infeasible, failed, cancelled) writes `plan.finished` in the
same transaction as the row's change.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from contracts.events import PlanFinished
from contracts.planning import AllocationPlan, Diagnosis, SelectionProblem
from contracts.plans import (
    Derivation,
    PlanKind,
    PlanOut,
    PlanProblem,
    PlanState,
    PlanStopReason,
    PlanSummary,
)
from services import events, pagination
from services.actors import Caller
from services.errors import NotFound
from services.jobs import defer
from services.planning import queries, rules
from services.planning.derivation import StoredCreator
from services.planning.derive import Derived

SOLVE_TASK = "planning:solve_plan"


@dataclass(frozen=True, slots=True)
class Ended:
    """Everything a plan keeps once it has ended."""

    state: PlanState
    result: rules.Result | None = None
    stop_reason: PlanStopReason | None = None
    failure: PlanProblem | None = None
    expected: list[dict[str, Any]] | None = None
    derivation: Derivation | None = None
    rate_card_version: str | None = None
    creators: list[StoredCreator] = field(default_factory=list)

    def values(self) -> tuple[Any, ...]:
        """result, stop_reason, failure, error, expected, derivation, rate_card_version."""
        return (
            None if self.result is None else msgspec.to_builtins(self.result),
            self.stop_reason,
            None if self.failure is None else msgspec.to_builtins(self.failure),
            None if self.failure is None else self.failure.detail,
            self.expected,
            None if self.derivation is None else msgspec.to_builtins(self.derivation),
            self.rate_card_version,
        )


def ended_of(problem: rules.Problem, result: rules.Result, derived: Derived | None) -> Ended:
    """How a solve ended the plan: its state, and once solved its expected figures per
    (platform, tier) and, for a derived selection, the creators it chose, in its order."""
    out = rules.outcome(result, problem.gap_limit)
    expected, creators = None, []
    if isinstance(result, AllocationPlan):
        expected = rules.expected_of_allocation(result)
    elif not isinstance(result, Diagnosis) and isinstance(problem, SelectionProblem):
        expected = rules.expected_of_selection(result, problem.candidates)
        if derived is not None:
            creators = derived.creators(result.selected)
    found = None if derived is None else derived.derivation
    return Ended(
        state=out.state,
        result=result,
        stop_reason=out.stop_reason,
        failure=out.failure,
        expected=expected,
        derivation=found,
        rate_card_version=None if found is None else found.rate_card_version,
        creators=creators,
    )


@dataclass(frozen=True, slots=True)
class NewPlan:
    """Who asks for which plan: the row's fields besides its end."""

    kind: PlanKind
    brief_id: UUID | None
    problem: dict[str, Any]
    time_limit_seconds: float
    source_plan_id: UUID | None = None


async def save_ended(
    conn: asyncpg.Connection, caller: Caller, new: NewPlan, ended: Ended
) -> PlanOut:
    """A plan solved (or refused) while the request waited: one row, its creators, its event."""
    row = await conn.fetchrow(
        queries.INSERT_FINISHED,
        *(caller.merchant_id, new.brief_id, new.kind.value, ended.state.value, new.problem),
        *(caller.user_id, new.time_limit_seconds, new.source_plan_id),
        *ended.values(),
    )
    await _store_creators(conn, row["id"], ended.creators)
    await _finished(conn, row, ended)
    return plan_out({**row, "has_items": bool(ended.creators)})


async def save_queued(conn: asyncpg.Connection, caller: Caller, new: NewPlan) -> PlanOut:
    """A plan for the worker, with its job, in the caller's transaction."""
    row = await conn.fetchrow(
        queries.INSERT_QUEUED,
        *(caller.merchant_id, new.brief_id, new.kind.value, new.problem, caller.user_id),
        *(new.time_limit_seconds, new.source_plan_id),
    )
    await defer(conn, SOLVE_TASK, {"plan_id": str(row["id"])}, queueing_lock=str(row["id"]))
    return plan_out(row)


async def finish(conn: asyncpg.Connection, plan_id: UUID, ended: Ended) -> bool:
    """End a running plan; False when it no longer runs (cancelled or overdue meanwhile)."""
    async with conn.transaction():
        row = await conn.fetchrow(queries.FINISH_PLAN, plan_id, ended.state.value, *ended.values())
        if row is None:
            return False
        await conn.execute(queries.DELETE_ITEMS, plan_id)
        await _store_creators(conn, plan_id, ended.creators)
        await _finished(conn, row, ended)
    return True


async def _store_creators(
    conn: asyncpg.Connection, plan_id: UUID, creators: list[StoredCreator]
) -> None:
    if creators:
        await conn.execute(queries.INSERT_ITEMS, plan_id, msgspec.json.encode(creators).decode())


async def _finished(conn: asyncpg.Connection, row: asyncpg.Record, ended: Ended) -> None:
    result = ended.result if not isinstance(ended.result, Diagnosis) else None
    await record_end(
        conn,
        row,
        ended.state,
        ended.stop_reason,
        (result.objective_value, result.bound, result.gap) if result else (None, None, None),
    )


async def record_end(
    conn: asyncpg.Connection,
    row: asyncpg.Record,
    state: PlanState,
    stop_reason: PlanStopReason | None = None,
    figures: tuple[float | None, float | None, float | None] = (None, None, None),
) -> None:
    """The `plan.finished` event of a plan's row (id, merchant_id, brief_id, kind)."""
    value, bound, gap = figures
    event = PlanFinished(
        plan_id=row["id"],
        brief_id=row["brief_id"],
        merchant_id=row["merchant_id"],
        kind=row["kind"],
        status=state.value,
        stop_reason=stop_reason,
        objective_value=value,
        bound=bound,
        gap=gap,
    )
    await events.append(conn, event, aggregate_id=row["id"], merchant_id=row["merchant_id"])


def plan_out(row: Mapping[str, Any]) -> PlanOut:
    """A plan's row with its result under the name of what it is: an allocation or a
    selection once solved, a diagnosis when no plan exists."""
    result, kind, status = row["result"], PlanKind(row["kind"]), PlanState(row["status"])
    solved = status is PlanState.SOLVED and result is not None
    diagnosed = result is not None and "conflicts" in result
    url = f"/v1/plans/{row['id']}"
    derived = {
        "status_url": url,
        "allocation": result if solved and kind is PlanKind.ALLOCATION else None,
        "selection": result if solved and kind is PlanKind.SELECTION else None,
        "diagnosis": result if diagnosed else None,
        "creators_url": f"{url}/creators" if row["has_items"] else None,
    }
    return msgspec.convert(dict(row) | derived, PlanOut)


async def find(conn: asyncpg.Connection, caller: Caller, plan_id: UUID) -> asyncpg.Record:
    """The caller's plan with its problem; 404 when it is not the caller's."""
    row = await conn.fetchrow(queries.FIND_PLAN_PROBLEM, plan_id, caller.merchant_id)
    if row is None:
        raise NotFound("plan", plan_id)
    return row


async def list_of_brief(
    conn: asyncpg.Connection, caller: Caller, brief_id: UUID, limit: int, cursor: str | None
) -> tuple[list[PlanSummary], str | None]:
    rows, next_cursor = await pagination.fetch_page(
        conn, queries.LIST_BRIEF_PLANS, brief_id, caller.merchant_id, limit=limit, cursor=cursor
    )
    items = [
        msgspec.convert(dict(r) | {"status_url": f"/v1/plans/{r['id']}"}, PlanSummary) for r in rows
    ]
    return items, next_cursor
