"""Background jobs of payments: each payout is transferred when its holding period ends; every
minute the calls to Stripe whose outcome is unknown are settled; daily the ledger is compared
with Stripe.

Release defers `pay_out` for the payout's due date; a sweep every ten minutes pays anything
due that a failed or lost job left behind, so a due date is kept even after a failure. A
failed transfer stays scheduled with its error and is tried again by the next sweep. Every
job is safe to run twice: each transfer is recorded once, under a key derived from its
payout, before it is sent.
"""

from uuid import UUID

import procrastinate
import structlog

from services.payments import payouts, reconcile

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
    pool, gateway = context.additional_context["pool"], context.additional_context["gateway"]
    payout = await payouts.pay_out(pool, gateway, UUID(payout_id), minimum=_minimum(context))
    return payout.status.value


@blueprint.periodic(cron="*/10 * * * *")
@blueprint.task(name="pay_due_payouts", pass_context=True, queueing_lock="pay_due_payouts")
async def pay_due_payouts(context: procrastinate.JobContext, timestamp: int) -> int:
    pool, gateway = context.additional_context["pool"], context.additional_context["gateway"]
    paid = await payouts.pay_due(pool, gateway, minimum=_minimum(context))
    log.info("payout_sweep_ran", paid=paid, scheduled_for=timestamp)
    return paid


@blueprint.periodic(cron="* * * * *")
@blueprint.task(name="settle_operations", pass_context=True, queueing_lock="settle_operations")
async def settle_operations(context: procrastinate.JobContext, timestamp: int) -> int:
    """Ask Stripe about every call whose answer was lost, and book what it did."""
    pool, gateway = context.additional_context["pool"], context.additional_context["gateway"]
    settled = await reconcile.settle_due(pool, gateway)
    if settled:
        log.info("payment_operations_settled", settled=settled, scheduled_for=timestamp)
    return settled


@blueprint.periodic(cron="30 4 * * *")
@blueprint.task(name="reconcile", pass_context=True, queueing_lock="reconcile")
async def reconcile_ledger(context: procrastinate.JobContext, timestamp: int) -> int:
    """Daily: compare the ledger with Stripe; each difference is logged as an error."""
    pool, gateway = context.additional_context["pool"], context.additional_context["gateway"]
    return len(await reconcile.run_audit(pool, gateway))
