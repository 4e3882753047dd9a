"""Background jobs of conversions: when an order's holding period ends its commission is booked
in the ledger (then settled with the merchant's other commissions)."""

import procrastinate
import structlog

from services.tracking import service

blueprint = procrastinate.Blueprint()
log = structlog.get_logger(__name__)


@blueprint.periodic(cron="*/10 * * * *")
@blueprint.task(name="approve_commissions", pass_context=True, queueing_lock="approve_commissions")
async def approve_commissions(context: procrastinate.JobContext, timestamp: int) -> int:
    async with context.additional_context["pool"].acquire() as conn:
        approved = await service.approve_due(conn)
    log.info("commission_approval_ran", approved=approved, scheduled_for=timestamp)
    return approved
