"""Background jobs of delivery: every five minutes, submissions whose review window ended are
approved (releasing the deals they complete)."""

from datetime import UTC, datetime

import procrastinate
import structlog

from services.delivery import service

blueprint = procrastinate.Blueprint()
log = structlog.get_logger(__name__)


@blueprint.periodic(cron="*/5 * * * *")
@blueprint.task(
    name="approve_overdue",
    pass_context=True,
    queueing_lock="approve_overdue",
    retry=procrastinate.RetryStrategy(max_attempts=5, wait=5),
)
async def approve_overdue(context: procrastinate.JobContext, timestamp: int) -> int:
    """Approve overdue submissions; returns how many."""
    async with context.additional_context["pool"].acquire() as conn:
        approved = await service.approve_overdue(conn, datetime.now(UTC))
    log.info("delivery_sweep_ran", approved=approved, scheduled_for=timestamp)
    return approved
