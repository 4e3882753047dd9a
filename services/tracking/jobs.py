"""Background jobs of tracked orders' commissions: when an order's holding period ends its
commission is booked in the ledger; daily, the commissions are settled (the merchant's saved
card charged, each KOL's share transferred) and their orders marked paid."""

import procrastinate
import structlog

from services.tracking import commissions

blueprint = procrastinate.Blueprint()
log = structlog.get_logger(__name__)


@blueprint.periodic(cron="*/10 * * * *")
@blueprint.task(name="approve_commissions", pass_context=True, queueing_lock="approve_commissions")
async def approve_commissions(context: procrastinate.JobContext, timestamp: int) -> int:
    async with context.additional_context["pool"].acquire() as conn:
        approved = await commissions.approve_due(conn)
    log.info("commission_approval_ran", approved=approved, scheduled_for=timestamp)
    return approved


@blueprint.periodic(cron="0 3 * * *")
@blueprint.task(name="settle_commissions", pass_context=True, queueing_lock="settle_commissions")
async def settle_commissions(context: procrastinate.JobContext, timestamp: int) -> int:
    """Daily: charge each merchant's saved card for accrued commissions and retry failures."""
    gateway = context.additional_context["gateway"]
    async with context.additional_context["pool"].acquire() as conn:
        paid = await commissions.settle_all(conn, gateway)
    log.info("commission_settlement_ran", paid=paid, scheduled_for=timestamp)
    return paid
