"""Background jobs of webhooks. Deliveries themselves are sent by the worker's delivery pump
(`services.webhooks.pump`); these jobs keep the tables tidy: hourly, endpoints failing for
five days are disabled even when nothing new is sent to them; daily, deliveries finished more
than 30 days ago are forgotten."""

from datetime import UTC, datetime

import procrastinate
import structlog

from services.webhooks import attempts, service

blueprint = procrastinate.Blueprint()
log = structlog.get_logger(__name__)


@blueprint.periodic(cron="41 * * * *")
@blueprint.task(name="disable_failing", pass_context=True, queueing_lock="disable_failing")
async def disable_failing(context: procrastinate.JobContext, timestamp: int) -> int:
    async with context.additional_context["pool"].acquire() as conn, conn.transaction():
        disabled = await attempts.disable_failing(conn, datetime.now(UTC))
    log.info("failing_endpoints_checked", disabled=disabled, scheduled_for=timestamp)
    return disabled


@blueprint.periodic(cron="23 3 * * *")
@blueprint.task(name="purge_deliveries", pass_context=True, queueing_lock="purge_deliveries")
async def purge_deliveries(context: procrastinate.JobContext, timestamp: int) -> int:
    async with context.additional_context["pool"].acquire() as conn:
        purged = await service.purge(conn, datetime.now(UTC))
    log.info("webhook_deliveries_purged", rows=purged, scheduled_for=timestamp)
    return purged
