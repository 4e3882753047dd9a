"""Use cases of disputes: a merchant (or its partner) reports approved content taken down
before its agreed live days, which puts the deal in dispute and holds its payout; an operator
resolves it by paying the KOL or refunding the merchant part of what the KOL was not yet paid.

Each is one transaction holding the deal's row lock. A refund takes back from the KOL's unpaid
payout (a clawback) only what escrow cannot cover, then goes through Stripe with the deal's
numbered refund key, so a retry after a crash refunds once.
"""

from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import msgspec
import structlog

from contracts.deals import DealStatus
from contracts.delivery import SubmissionStatus
from contracts.disputes import (
    DisputeOpener,
    DisputeOut,
    DisputeOutcome,
    DisputePage,
    DisputeStatus,
    ResolveIn,
    TakedownIn,
)
from contracts.events import DealRefunded, DisputeOpened, DisputeResolved
from services import events, pagination
from services.actors import Caller
from services.deals import service as deals
from services.delivery import service as delivery
from services.disputes import queries, rules
from services.errors import Conflict, Invalid, NotFound
from services.idempotency import idempotent
from services.payments import payouts
from services.payments import service as payments
from services.payments.gateway import StripeGateway

log = structlog.get_logger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def dispute_out(row: asyncpg.Record) -> DisputeOut:
    return msgspec.convert(dict(row), DisputeOut)


@idempotent
async def report_takedown(
    conn: asyncpg.Connection, caller: Caller, deal_id: UUID, data: TakedownIn
) -> DisputeOut:
    now = _now()
    deal = await conn.fetchrow(queries.LOCK_MERCHANT_DEAL, deal_id, caller.merchant_id)
    if deal is None:
        raise NotFound("deal", deal_id)
    found = await delivery.lock_submission(conn, deal_id, data.submission_id)
    rules.check_reportable(deal["status"])
    if found["status"] != SubmissionStatus.APPROVED:
        raise Conflict(f"only approved content can be reported taken down, not {found['status']}")
    rules.check_observed_at(data.observed_at, found["posted_at"], now)
    rules.check_taken_down_early(found["posted_at"], data.observed_at, deal["min_live_days"])
    await delivery.move_submission(conn, found, SubmissionStatus.TAKEN_DOWN)
    opener = DisputeOpener.PARTNER if caller.kind == "partner" else DisputeOpener.MERCHANT
    row = await conn.fetchrow(
        queries.INSERT_TAKEDOWN,
        *(deal_id, found["id"], opener.value, data.note, data.observed_at, deal["status"]),
    )
    await deals.move(conn, deal_id, DealStatus.DISPUTED)
    await payouts.pause_for_dispute(conn, deal_id)
    opened = DisputeOpened(
        dispute_id=row["id"], deal_id=deal_id, submission_id=found["id"], kind=row["kind"],
        opened_by=opener.value, observed_at=data.observed_at,
        prior_status=DealStatus(deal["status"]),
    )  # fmt: skip
    await events.append(
        conn, opened, aggregate_id=row["id"], merchant_id=deal["merchant_id"],
        kol_id=deal["kol_id"],
    )  # fmt: skip
    log.info("dispute_opened", deal_id=str(deal_id), dispute_id=str(row["id"]))
    return dispute_out(row)


async def resolve(
    conn: asyncpg.Connection, gateway: StripeGateway, dispute_id: UUID, data: ResolveIn
) -> DisputeOut:
    """An operator's decision; the deal goes back to where it was, or to refunded when the
    refund left nothing for the KOL."""
    _check_amount(data)
    now = _now()
    async with conn.transaction():
        dispute = await conn.fetchrow(queries.LOCK_DISPUTE, dispute_id)
        if dispute is None:
            raise NotFound("dispute", dispute_id)
        if dispute["status"] != DisputeStatus.OPEN:
            raise Conflict("this dispute was already resolved")
        deal = await conn.fetchrow(queries.LOCK_DEAL, dispute["deal_id"])
        if deal["status"] != DealStatus.DISPUTED:
            raise Conflict(f"the deal is {deal['status']}, not disputed")
        target, clawback = DealStatus(dispute["prior_status"]), 0
        refunded = None
        if data.refund_amount is not None:
            clawback, refunded = await payments.refund_in_dispute(
                conn, gateway, deal["id"], data.refund_amount
            )
            target = DealStatus.REFUNDED if refunded else target
        else:
            await _restore_content(conn, dispute)
        await _finish(conn, deal, target, now, refunded)
        row = await conn.fetchrow(
            queries.RESOLVE, dispute_id, data.outcome.value, data.refund_amount, data.note, now
        )
        resolved = DisputeResolved(
            dispute_id=dispute_id, deal_id=deal["id"], outcome=data.outcome.value,
            refund_amount=data.refund_amount or 0, clawback=clawback,
            currency=deal["currency"], deal_status=target,
        )  # fmt: skip
        await events.append(
            conn, resolved, aggregate_id=dispute_id, merchant_id=deal["merchant_id"],
            kol_id=deal["kol_id"],
        )  # fmt: skip
    log.info("dispute_resolved", dispute_id=str(dispute_id), outcome=data.outcome.value)
    return dispute_out(row)


def _check_amount(data: ResolveIn) -> None:
    refunding = data.outcome is DisputeOutcome.REFUND
    if refunding and data.refund_amount is None:
        raise Invalid("refund_amount", "refund_amount is required for a refund")
    if not refunding and data.refund_amount is not None:
        raise Invalid("refund_amount", "refund_amount is only given with the outcome refund")


async def _restore_content(conn: asyncpg.Connection, dispute: asyncpg.Record) -> None:
    """Decided for the KOL: the reported content counts as delivered again."""
    if dispute["submission_id"] is not None:
        found = await delivery.lock_submission(conn, dispute["deal_id"], dispute["submission_id"])
        await delivery.move_submission(conn, found, SubmissionStatus.APPROVED)


async def _finish(
    conn: asyncpg.Connection,
    deal: asyncpg.Record,
    target: DealStatus,
    now: datetime,
    refunded: DealRefunded | None,
) -> None:
    deal_id = deal["id"]
    await deals.move(conn, deal_id, target, expect={DealStatus.DISPUTED}, event=refunded)
    if target is DealStatus.REFUNDED:
        return
    await payouts.resume_after_dispute(conn, deal_id, deal["merchant_id"], now)
    if target is DealStatus.CONTENT_SUBMITTED:
        await delivery.complete_if_done(conn, deal_id, now)


async def get(conn: asyncpg.Connection, dispute_id: UUID) -> DisputeOut:
    row = await conn.fetchrow(queries.FIND_DISPUTE, dispute_id)
    if row is None:
        raise NotFound("dispute", dispute_id)
    return dispute_out(row)


async def list_disputes(
    conn: asyncpg.Connection, status: DisputeStatus | None, limit: int, cursor: str | None
) -> DisputePage:
    """Every dispute (the operators' queue), newest first."""
    return await _page(conn, status, None, limit, cursor)


async def deal_disputes(
    conn: asyncpg.Connection, caller: Caller, deal_id: UUID, limit: int, cursor: str | None
) -> DisputePage:
    """The disputes of one deal, for either side of it."""
    await deals.check_visible(conn, caller, deal_id)
    return await _page(conn, None, deal_id, limit, cursor)


async def _page(
    conn: asyncpg.Connection,
    status: DisputeStatus | None,
    deal_id: UUID | None,
    limit: int,
    cursor: str | None,
) -> DisputePage:
    page, next_cursor = await pagination.fetch_page(
        conn,
        queries.LIST_DISPUTES,
        *(status.value if status else None, deal_id),
        limit=limit,
        cursor=cursor,
    )
    return DisputePage(items=[dispute_out(r) for r in page], next_cursor=next_cursor)
