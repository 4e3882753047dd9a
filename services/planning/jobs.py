"""Background jobs of planning: large selections are solved by the worker, not in a request."""

from uuid import UUID

import procrastinate

from services.planning.service import solve_queued_plan

blueprint = procrastinate.Blueprint()


@blueprint.task(
    name="solve_plan", pass_context=True, retry=procrastinate.RetryStrategy(max_attempts=3)
)
async def solve_plan(context: procrastinate.JobContext, plan_id: str) -> str | None:
    state = await solve_queued_plan(context.additional_context["pool"], UUID(plan_id))
    return None if state is None else state.value
