"""Use cases of the KOL's side of the money: the release of escrow on approval, the payout
when its holding period ends, and what a KOL and an operator see of payouts.

A payout's due date is fixed at release (approval + the brief's holding period) and shown
to the KOL from then on; the worker transfers every payout that has come due once the KOL's
due payouts reach the minimum payout amount; a dispute pauses it, and a failed transfer is
retried and stays visible (`attempts`, `last_error`) until it succeeds. Each transfer is
recorded before it is sent, with a key derived from the payout, so a crash or a lost answer
never pays twice; while its outcome is unconfirmed, no dispute can claw the payout back.
"""

from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import msgspec
import stripe
import structlog

from contracts.deals import DealStatus
from contracts.events import DealPaid, PayoutFailed, PayoutPaused, PayoutScheduled
from contracts.ledger import EntryKind
from contracts.payments import (
    EarningLine,
    EarningsOut,
    PayoutOut,
    PayoutStatus,
)
from services import events, jobs
from services.deals import service as deals
from services.errors import Conflict, NotFound
from services.ledger import rules as ledger_rules
from services.ledger import service as ledger
from services.payments import accounts, operations, queries, rules, views
from services.payments.gateway import StripeGateway
from services.payments.operations import Kind, Operation, Status
from services.settings import Settings

log = structlog.get_logger(__name__)
PAY_OUT_TASK = "payments:pay_out"
DEFAULT_MINIMUM = Settings().minimum_payout


def _now() -> datetime:
    return datetime.now(UTC)


async def release_deal(
    conn: asyncpg.Connection, deal_id: UUID, now: datetime | None = None
) -> PayoutOut:
    """On approval: escrow goes to the KOL's payable (creator fee) and platform revenue
    (platform fee), and the payout is scheduled for the end of the holding period.
    Runs inside the approval's transaction when it has one."""
    now = now or _now()
    async with conn.transaction():
        deal = await conn.fetchrow(queries.LOCK_DEAL, deal_id)
        if deal is None:
            raise NotFound("deal", deal_id)
        if deal["status"] != rules.RELEASABLE:
            raise Conflict(f"a {deal['status']} deal cannot be released")
        if await conn.fetchrow(queries.PAYOUT_OF_DEAL, deal_id) is not None:
            raise Conflict("this deal was already released")
        kol_id, currency, fee = deal["kol_id"], deal["currency"], deal["creator_fee"]
        # A refund decided in a dispute before approval came out of the creator's fee; one
        # still to be confirmed by Stripe keeps its amount in escrow until it is.
        held = await ledger.balance(conn, ledger_rules.escrow(deal_id, currency))
        held -= await conn.fetchval(queries.REFUNDS_UNDER_WAY, deal_id)
        fee = min(fee, held - deal["platform_fee"])
        if fee <= 0:
            raise Conflict("escrow holds nothing left for the creator")
        lines = ledger_rules.release(deal_id, kol_id, currency, fee, deal["platform_fee"])
        await ledger.post(conn, EntryKind.RELEASE, lines, deal_id=deal_id, memo="approved")
        due_at = rules.payout_due(now, deal["payout_hold_days"])
        row = await conn.fetchrow(queries.INSERT_PAYOUT, deal_id, kol_id, fee, currency, due_at)
        scheduled = PayoutScheduled(
            payout_id=row["id"], deal_id=deal_id, kol_id=kol_id, amount=fee,
            currency=currency, due_at=due_at,
        )  # fmt: skip
        await events.append(
            conn, scheduled, aggregate_id=row["id"], merchant_id=deal["merchant_id"], kol_id=kol_id
        )
        await jobs.defer(
            conn, PAY_OUT_TASK, {"payout_id": str(row["id"])},
            queueing_lock=f"payout-{row['id']}", scheduled_at=due_at,
        )  # fmt: skip
    log.info("deal_released", deal_id=str(deal_id), due_at=due_at.isoformat())
    return views.payout_out(row, now)


async def pay_out(
    pool: asyncpg.Pool,
    gateway: StripeGateway,
    payout_id: UUID,
    now: datetime | None = None,
    *,
    minimum: int = DEFAULT_MINIMUM,
) -> PayoutOut:
    """Transfer a due payout (with the KOL's other due payouts) to the KOL's connected account,
    with the deal as transfer group: decided and recorded first, then sent, then booked."""
    now = now or _now()
    await _refresh_readiness(pool, gateway, payout_id)
    async with pool.acquire() as conn, conn.transaction():
        payout = await conn.fetchrow(queries.LOCK_PAYOUT, payout_id)
        if payout is None:
            raise NotFound("payout", payout_id)
        await conn.execute(queries.LOCK_KOL_PAYOUTS, str(payout["kol_id"]))  # one run per KOL
        transfers: list[Operation] = []
        if payout["status"] == "scheduled" and payout["due_at"] <= now:
            if payout["deal_status"] == DealStatus.DISPUTED:
                await _pause(conn, payout)
            else:
                transfers = await _record_due_batch(conn, payout, now, minimum)
    for op in transfers:
        await operations.execute(pool, gateway, op.id, apply_payout)
    async with pool.acquire() as conn:
        return views.payout_out(await conn.fetchrow(queries.LOCK_PAYOUT, payout_id), now)


async def _refresh_readiness(pool: asyncpg.Pool, gateway: StripeGateway, payout_id: UUID) -> None:
    """A KOL who finished onboarding since we last looked can be paid now."""
    async with pool.acquire() as conn:
        account = await conn.fetchrow(queries.ACCOUNT_OF_PAYOUT, payout_id)
    if account is not None and not account["payouts_enabled"]:
        try:
            await accounts.refresh_account(pool, gateway, account["stripe_account_id"])
        except stripe.StripeError as error:  # Stripe away: judge by what we knew
            log.warning("payout_readiness_unknown", payout_id=str(payout_id), error=repr(error))


async def _record_due_batch(
    conn: asyncpg.Connection, payout: asyncpg.Record, now: datetime, minimum: int
) -> list[Operation]:
    """Record a transfer for each of the KOL's due payouts once they reach the minimum."""
    batch = await conn.fetch(queries.DUE_BATCH_OF_KOL, payout["kol_id"], payout["currency"], now)
    if rules.below_minimum(sum(p["amount"] for p in batch), minimum):
        held = f"waits until payouts due reach the minimum of {minimum}"
        await conn.execute(queries.PAYOUT_HELD, payout["id"], held)
        return []
    account = await conn.fetchrow(queries.FIND_PAYOUT_ACCOUNT, payout["kol_id"])
    transfers = []
    for due in batch:
        if account is None or not account["payouts_enabled"]:
            await _failed(conn, due, "the KOL's payout account is not ready")
        elif (op := await _record_transfer(conn, due, account["stripe_account_id"])) is not None:
            transfers.append(op)
    return transfers


async def _record_transfer(
    conn: asyncpg.Connection, payout: asyncpg.Record, destination: str
) -> Operation | None:
    """The payout's transfer, or the one already under way; none while a refund of the deal's
    money is unconfirmed."""
    open_ = await operations.open_of_subject(conn, payout["id"], Kind.PAYOUT)
    if open_ is not None:
        return open_
    refund = await operations.open_of_deal(conn, payout["deal_id"], Kind.REFUND)
    if refund is not None:
        held = f"waits for the refund {refund.id} of this deal to be confirmed"
        await conn.execute(queries.PAYOUT_HELD, payout["id"], held)
        return None
    deal_id, currency, payout_id = payout["deal_id"], payout["currency"], payout["id"]
    key = await operations.next_key(conn, rules.transfer_key(payout_id), payout_id, Kind.PAYOUT)
    params = {
        "amount": payout["amount"],
        "currency": rules.stripe_currency(currency),
        "destination": destination,
        "transfer_group": rules.transfer_group(deal_id),
        "metadata": {"deal_id": str(deal_id), "payout_id": str(payout_id)},
    }
    return await operations.record(
        conn, Kind.PAYOUT, key, params, deal_id=deal_id, subject_id=payout_id,
        amount=payout["amount"], currency=currency, context={"kol_id": str(payout["kol_id"])},
    )  # fmt: skip


async def apply_payout(conn: asyncpg.Connection, op: Operation) -> None:
    """Book what Stripe did with a payout's transfer: paid, or failed (retried later)."""
    payout = await conn.fetchrow(queries.LOCK_PAYOUT, op.subject_id)
    if op.status is not Status.SUCCEEDED:
        await _failed(conn, payout, op.error or "the transfer was refused")
        return
    deal_id, currency, transfer_id = payout["deal_id"], payout["currency"], op.stripe_id
    await conn.execute(queries.PAYOUT_PAID, payout["id"], transfer_id)
    lines = ledger_rules.payout(payout["kol_id"], currency, payout["amount"])
    await ledger.post(
        conn, EntryKind.PAYOUT, lines, deal_id=deal_id, memo=f"transfer {transfer_id}",
        external_id=transfer_id,
    )  # fmt: skip
    paid = DealPaid(
        deal_id=deal_id, kol_id=payout["kol_id"], amount=payout["amount"],
        currency=currency, transfer_id=transfer_id or "",
    )  # fmt: skip
    try:
        await deals.move(conn, deal_id, DealStatus.PAID, expect={DealStatus.APPROVED}, event=paid)
    except Conflict as refused:
        log.warning("payout_paid_out_of_state", deal_id=str(deal_id), reason=refused.detail)
    log.info("payout_paid", deal_id=str(deal_id), payout_id=str(payout["id"]))


async def _failed(conn: asyncpg.Connection, payout: asyncpg.Record, error: str) -> None:
    attempts = await conn.fetchval(queries.PAYOUT_ATTEMPT_FAILED, payout["id"], error[:500])
    failed = PayoutFailed(
        payout_id=payout["id"], deal_id=payout["deal_id"], kol_id=payout["kol_id"],
        attempts=attempts, error=error[:500],
    )  # fmt: skip
    await events.append(
        conn, failed, aggregate_id=payout["id"], merchant_id=None, kol_id=failed.kol_id
    )
    log.warning("payout_failed", payout_id=str(payout["id"]), attempts=attempts)


async def _pause(conn: asyncpg.Connection, payout: asyncpg.Record) -> None:
    await conn.execute(queries.PAYOUT_PAUSED, payout["id"])
    paused = PayoutPaused(
        payout_id=payout["id"], deal_id=payout["deal_id"], kol_id=payout["kol_id"],
        reason="the deal is in dispute",
    )  # fmt: skip
    await events.append(
        conn, paused, aggregate_id=payout["id"], merchant_id=None, kol_id=paused.kol_id
    )


async def lock_unpaid_payout(conn: asyncpg.Connection, deal_id: UUID) -> asyncpg.Record | None:
    """The deal's payout if it is still to be paid (scheduled or paused), locked; called with
    the deal's lock held. A transfer of it under way answers 409 rather than waiting."""
    found = await conn.fetchrow(queries.PAYOUT_OF_DEAL, deal_id)
    if found is None:
        return None
    transfer = await operations.open_of_subject(conn, found["id"], Kind.PAYOUT)
    if transfer is not None:
        raise operations.InFlight(transfer, "the KOL's payout for this deal is being transferred")
    try:
        async with conn.transaction():
            payout = await conn.fetchrow(queries.LOCK_PAYOUT_NOWAIT, found["id"])
    except asyncpg.LockNotAvailableError:
        raise Conflict(
            "the KOL's payout for this deal is being transferred right now; try again shortly"
        ) from None
    unpaid = (PayoutStatus.SCHEDULED, PayoutStatus.PAUSED)
    return payout if payout is not None and payout["status"] in unpaid else None


async def pause_for_dispute(conn: asyncpg.Connection, deal_id: UUID) -> bool:
    """A dispute opened on the deal holds its scheduled payout; True when one was paused."""
    payout = await lock_unpaid_payout(conn, deal_id)
    if payout is None or payout["status"] != PayoutStatus.SCHEDULED:
        return False
    await _pause(conn, payout)
    return True


async def resume_after_dispute(
    conn: asyncpg.Connection, deal_id: UUID, merchant_id: UUID, now: datetime
) -> PayoutOut | None:
    """The dispute is over: a paused payout is scheduled again for its promised date (or now,
    when that has passed), and a job pays it then."""
    payout = await lock_unpaid_payout(conn, deal_id)
    if payout is None or payout["status"] != PayoutStatus.PAUSED:
        return None
    row = await conn.fetchrow(queries.PAYOUT_RESUMED, payout["id"])
    due_at = max(row["due_at"], now)
    scheduled = PayoutScheduled(
        payout_id=row["id"], deal_id=deal_id, kol_id=row["kol_id"], amount=row["amount"],
        currency=row["currency"], due_at=row["due_at"],
    )  # fmt: skip
    await events.append(
        conn, scheduled, aggregate_id=row["id"], merchant_id=merchant_id, kol_id=row["kol_id"]
    )
    try:
        async with conn.transaction():
            await jobs.defer(
                conn, PAY_OUT_TASK, {"payout_id": str(row["id"])},
                queueing_lock=f"payout-{row['id']}", scheduled_at=due_at,
            )  # fmt: skip
    except asyncpg.UniqueViolationError:
        pass  # the job deferred at release still waits for the due date and will pay it
    log.info("payout_resumed", deal_id=str(deal_id), payout_id=str(row["id"]))
    return views.payout_out(row, now)


async def reduce_for_clawback(
    conn: asyncpg.Connection, payout: asyncpg.Record, amount: int
) -> asyncpg.Record:
    """Lower an unpaid payout by what a dispute took back; at zero it is cancelled."""
    row = await conn.fetchrow(queries.PAYOUT_REDUCED, payout["id"], amount)
    if row is None:
        raise Conflict("the payout is no longer unpaid or is smaller than the clawback")
    return row


async def pay_due(
    pool: asyncpg.Pool,
    gateway: StripeGateway,
    limit: int = 100,
    *,
    minimum: int = DEFAULT_MINIMUM,
) -> int:
    """Pay every scheduled payout that has come due (the worker's sweep); returns how many paid."""
    now = _now()
    async with pool.acquire() as conn:
        due = await conn.fetch(queries.DUE_PAYOUTS, now, limit)
    paid = 0
    for row in due:
        paid += (await pay_out(pool, gateway, row["id"], now, minimum=minimum)).status == "paid"
    return paid


async def earnings(
    conn: asyncpg.Connection, kol_id: UUID, minimum: int = DEFAULT_MINIMUM
) -> EarningsOut:
    now = _now()
    rows = await conn.fetch(queries.PAYOUTS_OF_KOL, kol_id)
    account = await conn.fetchrow(queries.FIND_PAYOUT_ACCOUNT, kol_id)
    payouts = [views.payout_out(r, now) for r in rows]
    owed: dict[str, int] = {}
    for currency in sorted({p.currency for p in payouts}):
        owed[currency] = await ledger.balance(conn, ledger_rules.payable(kol_id, currency))
    lines = await conn.fetch(queries.EARNING_LINES, kol_id)
    return EarningsOut(
        kol_id=kol_id,
        payout_account_ready=bool(account and account["payouts_enabled"]),
        payouts=payouts,
        owed=owed,
        minimum_payout=minimum,
        lines=[msgspec.convert(dict(r), EarningLine) for r in lines],
    )


async def overdue(conn: asyncpg.Connection, limit: int) -> list[PayoutOut]:
    now = _now()
    return [views.payout_out(r, now) for r in await conn.fetch(queries.OVERDUE_PAYOUTS, now, limit)]
