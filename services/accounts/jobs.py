"""Background jobs of accounts."""

import procrastinate
import structlog

from services.accounts import queries

blueprint = procrastinate.Blueprint()
log = structlog.get_logger(__name__)


@blueprint.periodic(cron="17 * * * *")
@blueprint.task(name="purge_rate_limits", pass_context=True, queueing_lock="purge_rate_limits")
async def purge_rate_limits(context: procrastinate.JobContext, timestamp: int) -> int:
    """Forget rate-limit windows older than a day, hourly."""
    async with context.additional_context["pool"].acquire() as conn:
        status = await conn.execute(queries.PURGE_RATE_LIMITS)
    purged = int(status.split()[-1])
    log.info("rate_limits_purged", rows=purged, scheduled_for=timestamp)
    return purged
