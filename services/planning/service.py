"""Use cases of planning: solve and save allocations and selections, inline or as a job."""

from typing import Any
from uuid import UUID

import anyio
import asyncpg
import msgspec
import structlog

from contracts.planning import (
    AllocationPlan,
    AllocationProblem,
    Diagnosis,
    SelectionPlan,
    SelectionProblem,
)
from contracts.plans import CatalogSelectionIn, PlanKind, PlanOut, PlanState
from pricing.allocation import allocate
from pricing.selection import select
from services.actors import Caller
from services.errors import NotFound
from services.jobs import defer
from services.planning import queries, rules
from services.planning.ratecards import current_rate_card

log = structlog.get_logger(__name__)
SOLVE_TASK = "planning:solve_plan"
Result = AllocationPlan | SelectionPlan | Diagnosis


async def create_allocation(
    conn: asyncpg.Connection, caller: Caller, problem: AllocationProblem, brief_id: UUID | None
) -> PlanOut:
    await _check_brief(conn, caller, brief_id)
    result = await anyio.to_thread.run_sync(allocate, problem)
    return await _save_solved(conn, caller, PlanKind.ALLOCATION, problem, result, brief_id)


async def create_selection(
    conn: asyncpg.Connection, caller: Caller, problem: SelectionProblem, brief_id: UUID | None
) -> PlanOut:
    """Small problems are solved while the request waits; large ones are queued."""
    if len(problem.candidates) <= rules.INLINE_CANDIDATES:
        await _check_brief(conn, caller, brief_id)
        result = await anyio.to_thread.run_sync(select, problem)
        return await _save_solved(conn, caller, PlanKind.SELECTION, problem, result, brief_id)
    return await _queue(conn, caller, {"inline": msgspec.to_builtins(problem)}, brief_id)


async def create_catalog_selection(
    conn: asyncpg.Connection, caller: Caller, spec: CatalogSelectionIn
) -> PlanOut:
    return await _queue(conn, caller, {"catalog": msgspec.to_builtins(spec)}, spec.brief_id)


async def get_plan(conn: asyncpg.Connection, caller: Caller, plan_id: UUID) -> PlanOut:
    row = await conn.fetchrow(queries.FIND_PLAN, plan_id, caller.merchant_id)
    if row is None:
        raise NotFound("plan", plan_id)
    return plan_out(row)


async def _check_brief(conn: asyncpg.Connection, caller: Caller, brief_id: UUID | None) -> None:
    if brief_id is not None and not await conn.fetchval(
        queries.FIND_BRIEF, brief_id, caller.merchant_id
    ):
        raise NotFound("brief", brief_id)


async def _save_solved(
    conn: asyncpg.Connection,
    caller: Caller,
    kind: PlanKind,
    problem: msgspec.Struct,
    result: Result,
    brief_id: UUID | None,
) -> PlanOut:
    """Save a plan solved while the request waited, with its answer, in one row."""
    row = await conn.fetchrow(
        queries.INSERT_SOLVED_PLAN,
        caller.merchant_id,
        brief_id,
        kind.value,
        result.status.value,
        msgspec.to_builtins(problem),
        caller.user_id,
        msgspec.to_builtins(result),
    )
    assert row is not None
    log.info("plan_solved", plan_id=str(row["id"]), kind=kind, status=result.status)
    return plan_out(row)


async def _queue(
    conn: asyncpg.Connection, caller: Caller, problem: dict[str, Any], brief_id: UUID | None
) -> PlanOut:
    await _check_brief(conn, caller, brief_id)
    async with conn.transaction():
        row = await conn.fetchrow(
            queries.INSERT_PLAN,
            caller.merchant_id,
            brief_id,
            PlanKind.SELECTION.value,
            PlanState.QUEUED.value,
            problem,
            caller.user_id,
        )
        assert row is not None
        await defer(conn, SOLVE_TASK, {"plan_id": str(row["id"])}, queueing_lock=str(row["id"]))
    log.info("plan_queued", plan_id=str(row["id"]))
    return plan_out(row)


async def solve_queued_plan(pool: asyncpg.Pool, plan_id: UUID) -> PlanState | None:
    """Run by the worker: build the problem, solve it off the event loop, save the answer."""
    async with pool.acquire() as conn:
        started = await conn.fetchrow(queries.START_PLAN, plan_id)
        if started is None:
            return None
        problem = await _selection_problem(conn, started["problem"])
    try:
        result = await anyio.to_thread.run_sync(select, problem)
    except Exception as error:
        async with pool.acquire() as conn:
            await conn.execute(queries.FINISH_PLAN, plan_id, "failed", None, str(error)[:500])
        log.error("plan_failed", plan_id=str(plan_id), exc_info=error)
        return PlanState.FAILED
    async with pool.acquire() as conn:
        await conn.execute(
            queries.FINISH_PLAN, plan_id, result.status.value, msgspec.to_builtins(result), None
        )
    log.info("plan_solved", plan_id=str(plan_id), status=result.status)
    return PlanState(result.status.value)


async def _selection_problem(conn: asyncpg.Connection, stored: dict[str, Any]) -> SelectionProblem:
    if "inline" in stored:
        return msgspec.convert(stored["inline"], SelectionProblem)
    spec = msgspec.convert(stored["catalog"], CatalogSelectionIn)
    rows = await conn.fetch(
        queries.CATALOG_CANDIDATES,
        spec.platforms,
        spec.tiers,
        spec.categories,
        spec.regions,
        spec.min_followers,
        spec.min_authenticity,
    )
    card = await current_rate_card(conn)
    return rules.catalog_problem(spec, rules.candidates_from_accounts(rows, spec.deliverable, card))


def plan_out(row: asyncpg.Record) -> PlanOut:
    """A plan's row with its result under the name of what it is: an allocation or a
    selection once solved, a diagnosis when no plan exists."""
    result = row["result"]
    kind, status = PlanKind(row["kind"]), PlanState(row["status"])
    solved = status in (PlanState.OPTIMAL, PlanState.FEASIBLE) and result is not None
    diagnosed = status in (PlanState.INFEASIBLE, PlanState.NO_PLAN_FOUND) and result is not None
    derived = {
        "status_url": f"/v1/plans/{row['id']}",
        "allocation": result if solved and kind == PlanKind.ALLOCATION else None,
        "selection": result if solved and kind == PlanKind.SELECTION else None,
        "diagnosis": result if diagnosed else None,
    }
    return msgspec.convert(dict(row) | derived, PlanOut)
