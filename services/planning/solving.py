"""A queued plan's job, and the watchdog that ends plans nobody is solving.

The job is safe to run twice and ends its plan in every case: it claims the plan (a retry
starts it afresh; an ended plan is left as it ended), derives its problem, solves it off the
event loop while writing its progress every second, and saves the end. Any failure of the
derivation or the solve ends the plan `failed` with a problem object naming the cause; only a
failure to write the end itself is raised, so the job is retried. A plan cancelled (or ended
by the watchdog) while it runs stops its search at the engine's next progress line, and its
answer is discarded.
"""

import asyncio
import contextlib
import functools
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import anyio
import asyncpg
import msgspec
import structlog

from contracts.plan_requests import SelectionPlanIn
from contracts.planning import AllocationProblem, SelectionProblem
from contracts.plans import CatalogSelectionIn, PlanState
from pricing import allocate, select
from services.planning import derive, plans, queries, rules
from services.planning.plans import Ended
from services.planning.ratecards import current_rate_card

log = structlog.get_logger(__name__)
PROGRESS_SECONDS = 1.0
# A queued plan younger than this is never taken for orphaned: its job may be committing.
ORPHAN_GRACE_SECONDS = 60.0


async def run_plan(pool: asyncpg.Pool, plan_id: UUID) -> PlanState | None:
    """Solve a queued plan and save how it ended; None when it had ended already."""
    async with pool.acquire() as conn:
        started = await conn.fetchrow(queries.START_PLAN, plan_id)
    if started is None:
        return None
    bound = log.bind(plan_id=str(plan_id))
    clock = time.perf_counter()
    try:
        async with pool.acquire() as conn:
            problem, derived = await _problem(conn, started)
        bound = bound.bind(derive_seconds=round(time.perf_counter() - clock, 3))
        result = await _solve_watching(pool, plan_id, problem)
        ended = plans.ended_of(problem, result, derived)
    except rules.PlanStopped:
        bound.info("plan_stopped")
        return None
    except asyncpg.DataError as error:
        bound.error("plan_failed", exc_info=error)
        problem_object = rules.failure("value-out-of-range", "A value is out of range", str(error))
        ended = Ended(state=PlanState.FAILED, failure=problem_object)
    except Exception as error:  # every failure of the derivation or the solve ends the plan
        bound.error("plan_failed", exc_info=error)
        ended = Ended(state=PlanState.FAILED, failure=rules.failure_of(error))
    async with pool.acquire() as conn:
        saved = await plans.finish(conn, plan_id, ended)
    bound.info("plan_ended", status=ended.state, saved=saved,
               seconds=round(time.perf_counter() - clock, 3))  # fmt: skip
    return ended.state if saved else None


async def _problem(
    conn: asyncpg.Connection, started: asyncpg.Record
) -> tuple[rules.Problem, derive.Derived | None]:
    """The plan's problem as stored, or derived now from the catalog and the current card."""
    stored: dict[str, Any] = started["problem"]
    if "inline" in stored:
        return msgspec.convert(stored["inline"], SelectionProblem), None
    card = await current_rate_card(conn)
    if "catalog" in stored:
        spec = msgspec.convert(stored["catalog"], CatalogSelectionIn)
        scope = derive.scope_of_filters(spec, card)
        request = SelectionPlanIn(
            budget=spec.budget,
            min_reach=spec.min_reach,
            min_conversions=spec.min_conversions,
            tier_shares=spec.tier_shares,
            max_creators_per_platform=spec.max_creators_per_platform,
            max_creators_per_tier=spec.max_creators_per_tier,
            objective=spec.objective,
            time_limit_seconds=spec.time_limit_seconds,
        )
        goals = derive.given_targets(spec.budget, spec.min_reach, spec.min_conversions)
    elif "brief" in stored:
        request = msgspec.convert(stored["brief"]["request"], SelectionPlanIn)
        brief = await derive.brief_of(conn, started["merchant_id"], started["brief_id"])
        scope = await derive.scope_of_brief(conn, brief, card, stored["brief"]["segments"])
        goals = derive.targets(request, brief, stored["brief"]["given"])
    else:
        return msgspec.convert(stored, AllocationProblem), None
    derived = await derive.selection(conn, card, scope, request, goals)
    return derived.problem, derived


async def _solve_watching(pool: asyncpg.Pool, plan_id: UUID, problem: rules.Problem) -> Any:
    """Solve in a thread while a watcher writes the progress and notices a cancellation."""
    tracker = rules.Tracker(problem.objective)
    solver: Any = allocate if isinstance(problem, AllocationProblem) else select
    watcher = asyncio.create_task(watch(pool, plan_id, tracker))
    try:
        work = functools.partial(solver, problem, tracker.log)
        return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
    finally:
        tracker.stop()
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


async def watch(pool: asyncpg.Pool, plan_id: UUID, tracker: rules.Tracker) -> None:
    """Every second: write the search's progress, and stop the search once the plan no longer
    runs (cancelled, or ended by the watchdog)."""
    while True:
        await asyncio.sleep(PROGRESS_SECONDS)
        document = tracker.snapshot() | {"updated_at": datetime.now(UTC).isoformat()}
        async with pool.acquire() as conn:
            running = await conn.fetchval(queries.SET_PROGRESS, plan_id, document)
        if running is None:
            tracker.stop()
            return


async def end_stuck_plans(conn: asyncpg.Connection) -> int:
    """End plans left running past their time limit plus a margin, and plans whose job no
    longer waits or runs; each with its problem object and its `plan.finished` event."""
    overdue, orphaned = rules.OVERDUE, rules.JOB_ENDED
    async with conn.transaction():
        late = await conn.fetch(
            queries.OVERDUE, rules.OVERDUE_MARGIN_SECONDS, overdue.type, overdue.title,
            overdue.detail,
        )  # fmt: skip
        lost = await conn.fetch(
            queries.ORPHANED, ORPHAN_GRACE_SECONDS, msgspec.to_builtins(orphaned)
        )
        for row in [*late, *lost]:
            await plans.record_end(conn, row, PlanState.FAILED)
    if late or lost:
        log.warning("stuck_plans_ended", overdue=len(late), orphaned=len(lost))
    return len(late) + len(lost)
