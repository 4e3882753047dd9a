"""Use cases of the KOL's side of the money: a payout account (Stripe Connect Express), the
release of escrow on approval, the payout when its holding period ends, and what a KOL and
an operator see of payouts.

A payout's due date is fixed at release (approval + the brief's holding period) and shown
to the KOL from then on; the worker transfers every payout that has come due once the KOL's
due payouts reach the minimum payout amount; a dispute pauses it, and a failed transfer is
retried and stays visible (`attempts`, `last_error`) until it succeeds. The transfer's
idempotency key is the payout's id, so a retry after a crash never pays twice.
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
    PayoutAccountIn,
    PayoutAccountOut,
    PayoutOut,
    PayoutStatus,
)
from services import events, jobs
from services.deals import service as deals
from services.errors import Conflict, NotFound
from services.ledger import rules as ledger_rules
from services.ledger import service as ledger
from services.payments import queries, rules, views
from services.payments.gateway import StripeGateway
from services.settings import Settings

log = structlog.get_logger(__name__)
PAY_OUT_TASK = "payments:pay_out"
DEFAULT_MINIMUM = Settings().minimum_payout


def _now() -> datetime:
    return datetime.now(UTC)


async def open_payout_account(
    conn: asyncpg.Connection, gateway: StripeGateway, kol_id: UUID, data: PayoutAccountIn
) -> PayoutAccountOut:
    """The KOL's Express account (made once) and a fresh onboarding link while not ready."""
    async with conn.transaction():
        if await conn.fetchrow(queries.LOCK_KOL, kol_id) is None:
            raise NotFound("kol", kol_id)
        row = await conn.fetchrow(queries.FIND_PAYOUT_ACCOUNT, kol_id)
        if row is None:
            params = {
                "type": "express",
                "country": data.country,
                "metadata": {"kol_id": str(kol_id)},
            }
            params["capabilities"] = {"transfers": {"requested": True}}
            account = await gateway.create_account(params, rules.payout_account_key(kol_id))
            ready, submitted = bool(account.payouts_enabled), bool(account.details_submitted)
            await conn.execute(queries.INSERT_PAYOUT_ACCOUNT, kol_id, account.id, ready, submitted)
            row = await conn.fetchrow(queries.FIND_PAYOUT_ACCOUNT, kol_id)
    url = None
    if not row["payouts_enabled"]:
        link = await gateway.create_account_link(
            {"account": row["stripe_account_id"], "type": "account_onboarding"}
            | {"return_url": data.return_url, "refresh_url": data.refresh_url}
        )
        url = link.url
    return _account_out(row, url)


async def payout_account(
    conn: asyncpg.Connection, gateway: StripeGateway, kol_id: UUID
) -> PayoutAccountOut:
    """The KOL's payout readiness, refreshed from Stripe."""
    row = await conn.fetchrow(queries.FIND_PAYOUT_ACCOUNT, kol_id)
    if row is None:
        raise NotFound("payout account")
    ready, submitted = await refresh_account(conn, gateway, row["stripe_account_id"])
    return PayoutAccountOut(
        stripe_account_id=row["stripe_account_id"], ready=ready, details_submitted=submitted
    )


async def refresh_account(
    conn: asyncpg.Connection, gateway: StripeGateway, account_id: str
) -> tuple[bool, bool]:
    """Stripe is the source of truth of readiness; keep our copy of it current."""
    account = await gateway.retrieve_account(account_id)
    ready, submitted = bool(account.payouts_enabled), bool(account.details_submitted)
    await conn.execute(queries.UPDATE_PAYOUT_ACCOUNT, account_id, ready, submitted)
    return ready, submitted


def _account_out(row: asyncpg.Record, url: str | None) -> PayoutAccountOut:
    return PayoutAccountOut(
        stripe_account_id=row["stripe_account_id"],
        ready=row["payouts_enabled"],
        details_submitted=row["details_submitted"],
        onboarding_url=url,
    )


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
        # A refund decided in a dispute before approval came out of the creator's fee.
        held = await ledger.balance(conn, ledger_rules.escrow(deal_id, currency))
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
    conn: asyncpg.Connection,
    gateway: StripeGateway,
    payout_id: UUID,
    now: datetime | None = None,
    *,
    minimum: int = DEFAULT_MINIMUM,
) -> PayoutOut:
    """Transfer a due payout to the KOL's connected account, with the deal as transfer group."""
    now = now or _now()
    async with conn.transaction():
        payout = await conn.fetchrow(queries.LOCK_PAYOUT, payout_id)
        if payout is None:
            raise NotFound("payout", payout_id)
        await conn.execute(queries.LOCK_KOL, payout["kol_id"])  # one payout run per KOL at once
        if payout["status"] != "scheduled" or payout["due_at"] > now:
            return views.payout_out(payout, now)
        if payout["deal_status"] == DealStatus.DISPUTED:
            await _pause(conn, payout)
        else:
            await _pay_due_batch(conn, gateway, payout, now, minimum)
        return views.payout_out(await conn.fetchrow(queries.LOCK_PAYOUT, payout_id), now)


async def _pay_due_batch(
    conn: asyncpg.Connection,
    gateway: StripeGateway,
    payout: asyncpg.Record,
    now: datetime,
    minimum: int,
) -> None:
    """Transfer all the KOL's due payouts together once they reach the minimum payout."""
    batch = await conn.fetch(queries.DUE_BATCH_OF_KOL, payout["kol_id"], payout["currency"], now)
    if rules.below_minimum(sum(p["amount"] for p in batch), minimum):
        held = f"waits until payouts due reach the minimum of {minimum}"
        await conn.execute(queries.PAYOUT_HELD, payout["id"], held)
        return
    for due in batch:
        await _transfer(conn, gateway, due)


async def _transfer(
    conn: asyncpg.Connection, gateway: StripeGateway, payout: asyncpg.Record
) -> None:
    account = await conn.fetchrow(queries.FIND_PAYOUT_ACCOUNT, payout["kol_id"])
    if account is not None and not account["payouts_enabled"]:
        await refresh_account(conn, gateway, account["stripe_account_id"])
        account = await conn.fetchrow(queries.FIND_PAYOUT_ACCOUNT, payout["kol_id"])
    if account is None or not account["payouts_enabled"]:
        await _failed(conn, payout, "the KOL's payout account is not ready")
        return
    deal_id, currency = payout["deal_id"], payout["currency"]
    params = {
        "amount": payout["amount"],
        "currency": rules.stripe_currency(currency),
        "destination": account["stripe_account_id"],
        "transfer_group": rules.transfer_group(deal_id),
        "metadata": {"deal_id": str(deal_id), "payout_id": str(payout["id"])},
    }
    try:
        transfer = await gateway.create_transfer(params, rules.transfer_key(payout["id"]))
    except stripe.StripeError as error:
        await _failed(conn, payout, error.user_message or type(error).__name__)
        return
    await conn.execute(queries.PAYOUT_PAID, payout["id"], transfer.id)
    lines = ledger_rules.payout(payout["kol_id"], currency, payout["amount"])
    await ledger.post(
        conn, EntryKind.PAYOUT, lines, deal_id=deal_id, memo=f"transfer {transfer.id}"
    )
    paid = DealPaid(
        deal_id=deal_id, kol_id=payout["kol_id"], amount=payout["amount"],
        currency=currency, transfer_id=transfer.id,
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
    conn: asyncpg.Connection,
    gateway: StripeGateway,
    limit: int = 100,
    *,
    minimum: int = DEFAULT_MINIMUM,
) -> int:
    """Pay every scheduled payout that has come due (the worker's sweep); returns how many paid."""
    now = _now()
    paid = 0
    for row in await conn.fetch(queries.DUE_PAYOUTS, now, limit):
        paid += (await pay_out(conn, gateway, row["id"], now, minimum=minimum)).status == "paid"
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
