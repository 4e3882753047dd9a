"""Background jobs of deals: every five minutes, paid deals whose attribution window has ended
are closed (no more orders count towards them)."""

from datetime import UTC, datetime

import procrastinate
import structlog

from services.deals import service

blueprint = procrastinate.Blueprint()
log = structlog.get_logger(__name__)


@blueprint.periodic(cron="*/5 * * * *")
@blueprint.task(
    name="close_attributed",
    pass_context=True,
    queueing_lock="close_attributed",
    retry=procrastinate.RetryStrategy(max_attempts=5, wait=5),
)
async def close_attributed(context: procrastinate.JobContext, timestamp: int) -> int:
    """Close the paid deals whose attribution window has ended; returns how many."""
    async with context.additional_context["pool"].acquire() as conn:
        closed = await service.close_attributed(conn, datetime.now(UTC))
    log.info("deal_closing_ran", closed=closed, scheduled_for=timestamp)
    return closed
