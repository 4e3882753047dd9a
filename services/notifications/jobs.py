"""Background jobs of notifications. Notifications themselves are made, and their mails sent,
by the worker's notifier (`services.notifications.runner`); these jobs look at the clock:
every five minutes, offers expiring and review windows closing within 24 hours remind whoever
must act; daily at 07:00 UTC, the digests gather the waiting non-urgent mails; daily, the
notifications older than `NOTIFICATION_RETENTION_DAYS` are deleted."""

from datetime import UTC, datetime

import procrastinate
import structlog

from services.notifications import digest, reminders, service

blueprint = procrastinate.Blueprint()
log = structlog.get_logger(__name__)


@blueprint.periodic(cron="*/5 * * * *")
@blueprint.task(
    name="remind",
    pass_context=True,
    queueing_lock="remind",
    retry=procrastinate.RetryStrategy(max_attempts=5, wait=5),
)
async def remind(context: procrastinate.JobContext, timestamp: int) -> int:
    """Record the reminders now due; returns the notifications recorded."""
    settings = context.additional_context["settings"]
    async with context.additional_context["pool"].acquire() as conn:
        made = await reminders.remind(conn, settings, datetime.now(UTC))
    log.info("reminders_ran", notifications=made, scheduled_for=timestamp)
    return made


@blueprint.periodic(cron="0 7 * * *")
@blueprint.task(
    name="send_digests",
    pass_context=True,
    queueing_lock="send_digests",
    retry=procrastinate.RetryStrategy(max_attempts=5, wait=60),
)
async def send_digests(context: procrastinate.JobContext, timestamp: int) -> int:
    """Gather each waiting digest into its mail; returns the mails recorded."""
    settings = context.additional_context["settings"]
    async with context.additional_context["pool"].acquire() as conn:
        made = await digest.gather(conn, settings, datetime.now(UTC))
    log.info("digests_ran", mails=made, scheduled_for=timestamp)
    return made


@blueprint.periodic(cron="23 4 * * *")
@blueprint.task(name="purge_notifications", pass_context=True, queueing_lock="purge_notifications")
async def purge_notifications(context: procrastinate.JobContext, timestamp: int) -> int:
    """Delete notifications older than `NOTIFICATION_RETENTION_DAYS`, daily."""
    days = context.additional_context["settings"].notification_retention_days
    async with context.additional_context["pool"].acquire() as conn:
        purged = await service.purge(conn, days)
    log.info("notifications_purged", rows=purged, retention_days=days, scheduled_for=timestamp)
    return purged
