"""Background jobs of negotiation: offers lapse at their deadline.

Every minute one run expires all open offers past their expiry, in batches that each commit
with their `offer.expired` events. Rows are claimed with SKIP LOCKED, so runs on several
workers (or a run racing a user's answer) never handle an offer twice; a failed run is
retried, and the next minute's run picks up whatever is left.
"""

import procrastinate
import structlog

from services.negotiation import service

blueprint = procrastinate.Blueprint()
log = structlog.get_logger(__name__)


@blueprint.periodic(cron="* * * * *")
@blueprint.task(
    name="expire_offers",
    pass_context=True,
    queueing_lock="expire_offers",
    retry=procrastinate.RetryStrategy(max_attempts=5, wait=5),
)
async def expire_offers(context: procrastinate.JobContext, timestamp: int) -> int:
    """Expire the open offers whose deadline has passed; returns how many."""
    async with context.additional_context["pool"].acquire() as conn:
        expired = await service.expire_due(conn)
    log.info("offer_expiry_ran", expired=expired, scheduled_for=timestamp)
    return expired
