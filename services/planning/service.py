"""Use cases of planning: plan a brief (from the catalog and the current rate card, or from
given numbers), solve explicit allocations and selections, turn an allocation into a
selection, and read, list, adopt and cancel plans.

A plan small enough (`pricing.solves_inline`) is solved while the request waits and saved
ended; a larger one, or one the engine does not finish within `rules.INLINE_WAIT_SECONDS`,
is saved `queued` with its job, in the same transaction.
"""

import dataclasses
from typing import Any
from uuid import UUID

import anyio
import asyncpg
import msgspec
import structlog

import pricing
from contracts.events import PlanAdopted
from contracts.plan_requests import AllocationPlanIn, BriefPlanIn, SelectionPlanIn
from contracts.planning import (
    AllocationPlan,
    AllocationProblem,
    SelectionProblem,
    StopReason,
)
from contracts.plans import (
    CatalogSelectionIn,
    PlanKind,
    PlanOut,
    PlanPage,
    PlanState,
)
from pricing import allocate, select
from pricing.sizing import fits_inline
from services import events
from services.actors import Caller
from services.errors import Conflict, NotFound
from services.idempotency import idempotent
from services.planning import derive, plans, queries, rules
from services.planning.plans import NewPlan
from services.planning.ratecards import current_rate_card

log = structlog.get_logger(__name__)
FROM_ALLOCATION = "from the allocation this selection follows"


async def create_allocation(
    conn: asyncpg.Connection, caller: Caller, problem: AllocationProblem, brief_id: UUID | None
) -> PlanOut:
    """Small problems are solved while the request waits; large ones are queued."""
    await _check_brief(conn, caller, brief_id)
    new = _new(problem, brief_id)
    if pricing.solves_inline(problem):
        return await _solve_now(conn, caller, new, problem)
    return await _queue(conn, caller, new)


async def create_selection(
    conn: asyncpg.Connection, caller: Caller, problem: SelectionProblem, brief_id: UUID | None
) -> PlanOut:
    """Small problems are solved while the request waits; large ones are queued."""
    await _check_brief(conn, caller, brief_id)
    new = _new(problem, brief_id)
    later = dataclasses.replace(new, problem={"inline": new.problem})
    if pricing.solves_inline(problem):
        return await _solve_now(conn, caller, new, problem, later=later)
    return await _queue(conn, caller, later)


async def create_catalog_selection(
    conn: asyncpg.Connection, caller: Caller, spec: CatalogSelectionIn
) -> PlanOut:
    await _check_brief(conn, caller, spec.brief_id)
    problem = {"catalog": msgspec.to_builtins(spec)}
    new = NewPlan(PlanKind.SELECTION, spec.brief_id, problem, spec.time_limit_seconds)
    return await _queue(conn, caller, new)


@idempotent
async def plan_brief(
    conn: asyncpg.Connection, caller: Caller, brief_id: UUID, request: BriefPlanIn
) -> PlanOut:
    """Plan the brief: targets default to the brief; without segments or candidates they are
    derived from the live catalog and the current rate card."""
    return await _plan_brief(conn, caller, brief_id, request)


async def _plan_brief(
    conn: asyncpg.Connection,
    caller: Caller,
    brief_id: UUID,
    request: BriefPlanIn,
    source_plan_id: UUID | None = None,
    segments: tuple[str, ...] = (),
) -> PlanOut:
    assert caller.merchant_id is not None
    brief = await derive.brief_of(conn, caller.merchant_id, brief_id)
    given = FROM_ALLOCATION if source_plan_id else "as given in the request"
    goals = derive.targets(request, brief, given)
    if isinstance(request, AllocationPlanIn) and request.segments is not None:
        problem = _given_allocation(request, goals, brief.currency)
        return await create_allocation(conn, caller, problem, brief_id)
    if isinstance(request, SelectionPlanIn) and request.candidates is not None:
        selection = derive.selection_problem(request, goals, request.candidates, brief.currency)
        return await create_selection(conn, caller, selection, brief_id)
    card = await current_rate_card(conn)
    scope = await derive.scope_of_brief(conn, brief, card, segments)
    if isinstance(request, AllocationPlanIn):
        derived = await derive.allocation(conn, card, scope, request, goals)
        return await _solve_now(
            conn, caller, _new(derived.problem, brief_id), derived.problem, derived
        )
    limit = request.time_limit_seconds or derive.SELECTION_SECONDS
    spec = {"brief": {"request": msgspec.to_builtins(request), "segments": list(segments),
                      "given": given}}  # fmt: skip
    new = NewPlan(PlanKind.SELECTION, brief_id, spec, limit, source_plan_id)
    rows = rules.constraint_rows(derive.selection_problem(request, goals, [], scope.currency))
    if not fits_inline(await derive.count(conn, scope), rows, limit):
        return await _queue(conn, caller, new)
    derived = await derive.selection(conn, card, scope, request, goals)
    return await _solve_now(conn, caller, new, derived.problem, derived)


@idempotent
async def selection_from_allocation(
    conn: asyncpg.Connection, caller: Caller, plan_id: UUID
) -> PlanOut:
    """A selection of the allocation's brief keeping to the segments it hires in, with its
    creators per platform and per tier as caps, and its budget, targets and objective."""
    row = await plans.find(conn, caller, plan_id)
    if row["kind"] != PlanKind.ALLOCATION or row["status"] != PlanState.SOLVED:
        raise Conflict(f"only a solved allocation becomes a selection; this is a {row['status']} "
                       f"{row['kind']}")  # fmt: skip
    if row["brief_id"] is None:
        raise Conflict("the allocation has no brief; plan a brief with POST /v1/briefs/{id}/plans")
    problem = msgspec.convert(row["problem"], AllocationProblem)
    result = msgspec.convert(row["result"], AllocationPlan)
    request, segments = rules.selection_after(problem, result)
    return await _plan_brief(conn, caller, row["brief_id"], request, plan_id, segments)


async def get_plan(conn: asyncpg.Connection, caller: Caller, plan_id: UUID) -> PlanOut:
    return plans.plan_out(await plans.find(conn, caller, plan_id))


async def list_plans(
    conn: asyncpg.Connection, caller: Caller, brief_id: UUID, limit: int, cursor: str | None
) -> PlanPage:
    await _check_brief(conn, caller, brief_id)
    items, next_cursor = await plans.list_of_brief(conn, caller, brief_id, limit, cursor)
    return PlanPage(items=items, next_cursor=next_cursor)


async def adopt(conn: asyncpg.Connection, caller: Caller, plan_id: UUID) -> PlanOut:
    """Make a solved plan its brief's plan of record, in place of the one adopted before."""
    async with conn.transaction():
        row = await plans.find(conn, caller, plan_id)
        if row["brief_id"] is None:
            raise Conflict("a plan without a brief cannot be adopted")
        if row["status"] != PlanState.SOLVED:
            raise Conflict(f"only a solved plan can be adopted; this one is {row['status']}")
        await conn.execute(queries.LOCK_BRIEF, row["brief_id"], caller.merchant_id)
        replaced = await conn.fetch(queries.UNADOPT, row["brief_id"], plan_id)
        adopted = await conn.fetchrow(queries.ADOPT, plan_id, caller.merchant_id)
        if row["adopted_at"] is None:
            event = PlanAdopted(
                plan_id=plan_id,
                brief_id=row["brief_id"],
                merchant_id=row["merchant_id"],
                kind=row["kind"],
                replaced=replaced[0]["id"] if replaced else None,
            )
            await events.append(conn, event, aggregate_id=plan_id, merchant_id=row["merchant_id"])
    log.info("plan_adopted", plan_id=str(plan_id), brief_id=str(row["brief_id"]))
    return plans.plan_out(adopted)


async def cancel(conn: asyncpg.Connection, caller: Caller, plan_id: UUID) -> PlanOut:
    """Stop a queued or running plan; its job ends without saving anything."""
    async with conn.transaction():
        row = await conn.fetchrow(queries.CANCEL_PLAN, plan_id, caller.merchant_id)
        if row is None:
            current = plans.plan_out(await plans.find(conn, caller, plan_id))
            raise Conflict(
                f"the plan is {current.status}; only a queued or running plan can be cancelled",
                current=msgspec.to_builtins(current),
            )
        await plans.record_end(conn, row, PlanState.CANCELLED)
    log.info("plan_cancelled", plan_id=str(plan_id))
    return await get_plan(conn, caller, plan_id)


def _new(problem: rules.Problem, brief_id: UUID | None) -> NewPlan:
    kind = PlanKind.ALLOCATION if isinstance(problem, AllocationProblem) else PlanKind.SELECTION
    return NewPlan(kind, brief_id, msgspec.to_builtins(problem), problem.time_limit_seconds)


def _given_allocation(
    request: AllocationPlanIn, goals: dict[str, Any], currency: str
) -> AllocationProblem:
    assert request.segments is not None
    return AllocationProblem(
        segments=request.segments,
        budget=int(goals["budget"].value),
        currency=currency,
        min_reach=float(goals["min_reach"].value),
        min_conversions=float(goals["min_conversions"].value),
        tier_shares=request.tier_shares,
        max_creators_per_platform=request.max_creators_per_platform,
        max_creators_per_tier=request.max_creators_per_tier,
        objective=request.objective,
        time_limit_seconds=request.time_limit_seconds or derive.ALLOCATION_SECONDS,
    )


async def _check_brief(conn: asyncpg.Connection, caller: Caller, brief_id: UUID | None) -> None:
    if brief_id is not None and not await conn.fetchval(
        queries.FIND_BRIEF, brief_id, caller.merchant_id
    ):
        raise NotFound("brief", brief_id)


async def _solve_now(
    conn: asyncpg.Connection,
    caller: Caller,
    new: NewPlan,
    problem: rules.Problem,
    derived: derive.Derived | None = None,
    *,
    later: NewPlan | None = None,
) -> PlanOut:
    """Solve while the request waits (off the event loop) and save the plan ended; when the
    engine's wait ends before it does, queue the plan (`later`, else `new`) instead."""
    solver: Any = allocate if isinstance(problem, AllocationProblem) else select
    wait = min(problem.time_limit_seconds, rules.INLINE_WAIT_SECONDS)
    trial = msgspec.structs.replace(problem, time_limit_seconds=wait)
    result = await anyio.to_thread.run_sync(solver, trial)
    if wait < problem.time_limit_seconds and result.stop_reason is StopReason.TIME_LIMIT:
        return await _queue(conn, caller, later or new)
    out = await plans.save_ended(conn, caller, new, plans.ended_of(problem, result, derived))
    log.info("plan_solved", plan_id=str(out.id), kind=new.kind, status=out.status)
    return out


async def _queue(conn: asyncpg.Connection, caller: Caller, new: NewPlan) -> PlanOut:
    async with conn.transaction():
        out = await plans.save_queued(conn, caller, new)
    log.info("plan_queued", plan_id=str(out.id), kind=new.kind)
    return out
