"""Background jobs of payments: each payout is transferred when its holding period ends.

Release defers `pay_out` for the payout's due date; a sweep every ten minutes pays anything
due that a failed or lost job left behind, so a due date is kept even after a failure. A
failed transfer stays scheduled with its error and is tried again by the next sweep.
"""

from uuid import UUID

import procrastinate
import structlog

from services.payments import payouts

blueprint = procrastinate.Blueprint()
log = structlog.get_logger(__name__)


def _minimum(context: procrastinate.JobContext) -> int:
    minimum: int = context.additional_context["settings"].minimum_payout
    return minimum


@blueprint.task(
    name="pay_out",
    pass_context=True,
    retry=procrastinate.RetryStrategy(max_attempts=10, exponential_wait=5),
)
async def pay_out(context: procrastinate.JobContext, payout_id: str) -> str:
    gateway, minimum = context.additional_context["gateway"], _minimum(context)
    async with context.additional_context["pool"].acquire() as conn:
        payout = await payouts.pay_out(conn, gateway, UUID(payout_id), minimum=minimum)
    return payout.status.value


@blueprint.periodic(cron="*/10 * * * *")
@blueprint.task(name="pay_due_payouts", pass_context=True, queueing_lock="pay_due_payouts")
async def pay_due_payouts(context: procrastinate.JobContext, timestamp: int) -> int:
    gateway, minimum = context.additional_context["gateway"], _minimum(context)
    async with context.additional_context["pool"].acquire() as conn:
        paid = await payouts.pay_due(conn, gateway, minimum=minimum)
    log.info("payout_sweep_ran", paid=paid, scheduled_for=timestamp)
    return paid
