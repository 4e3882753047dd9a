"""Background jobs of accounts: forgetting old rate-limit windows and login failures, and
purging the audit log past its retention."""

import procrastinate
import structlog

from services import audit
from services.accounts import login_limits, queries

blueprint = procrastinate.Blueprint()
log = structlog.get_logger(__name__)


@blueprint.periodic(cron="17 * * * *")
@blueprint.task(name="purge_rate_limits", pass_context=True, queueing_lock="purge_rate_limits")
async def purge_rate_limits(context: procrastinate.JobContext, timestamp: int) -> int:
    """Forget rate-limit windows and login failures older than a day, and addresses not
    logged in from for 90 days, hourly."""
    async with context.additional_context["pool"].acquire() as conn:
        status = await conn.execute(queries.PURGE_RATE_LIMITS)
        purged = int(status.split()[-1]) + await login_limits.purge(conn)
    log.info("rate_limits_purged", rows=purged, scheduled_for=timestamp)
    return purged


@blueprint.periodic(cron="41 3 * * *")
@blueprint.task(name="purge_audit_log", pass_context=True, queueing_lock="purge_audit_log")
async def purge_audit_log(context: procrastinate.JobContext, timestamp: int) -> int:
    """Delete audit entries older than `AUDIT_RETENTION_DAYS`, daily."""
    days = context.additional_context["settings"].audit_retention_days
    async with context.additional_context["pool"].acquire() as conn:
        purged = await audit.purge(conn, days)
    log.info("audit_log_purged", rows=purged, retention_days=days, scheduled_for=timestamp)
    return purged
