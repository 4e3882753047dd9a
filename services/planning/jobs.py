"""Background jobs of planning: plans too large to solve while a request waits, and the
watchdog that ends plans nobody is solving any more (a worker that crashed, a job that gave
up)."""

from uuid import UUID

import procrastinate
import structlog

from services.planning import solving

blueprint = procrastinate.Blueprint()
log = structlog.get_logger(__name__)


@blueprint.task(
    name="solve_plan", pass_context=True, retry=procrastinate.RetryStrategy(max_attempts=3)
)
async def solve_plan(context: procrastinate.JobContext, plan_id: str) -> str | None:
    state = await solving.run_plan(context.additional_context["pool"], UUID(plan_id))
    return None if state is None else state.value


@blueprint.periodic(cron="* * * * *")
@blueprint.task(name="end_stuck_plans", pass_context=True, queueing_lock="end_stuck_plans")
async def end_stuck_plans(context: procrastinate.JobContext, timestamp: int) -> int:
    """Every minute: end plans left running past their time limit, or whose job is gone."""
    async with context.additional_context["pool"].acquire() as conn:
        ended = await solving.end_stuck_plans(conn)
    log.info("stuck_plans_checked", ended=ended, scheduled_for=timestamp)
    return ended
