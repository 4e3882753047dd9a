"""Use cases of delivery: the KOL submits each piece of content, the merchant reviews it, the
review window approves what the merchant left unanswered, and the deal is approved (its escrow
released) in the transaction that approves its last piece.

Each use case holds the deal's row lock before touching its submissions, so a review, the
automatic approval and a takedown report of one deal never interleave.
"""

from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import msgspec
import structlog

from contracts.deals import DealStatus, DealTerms
from contracts.delivery import (
    ReviewDecision,
    ReviewIn,
    SubmissionIn,
    SubmissionOut,
    SubmissionPage,
    SubmissionStatus,
)
from contracts.events import (
    DealApproved,
    SubmissionApproved,
    SubmissionChangesRequested,
    SubmissionCreated,
)
from services import events, pagination
from services.actors import Caller
from services.deals import service as deals
from services.delivery import queries, rules
from services.errors import Conflict, DomainError, Invalid, NotFound
from services.idempotency import idempotent
from services.payments import payouts

log = structlog.get_logger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def submission_out(row: asyncpg.Record) -> SubmissionOut:
    return msgspec.convert(dict(row), SubmissionOut)


def _terms(deal: asyncpg.Record) -> DealTerms:
    return msgspec.convert(deal["terms"], DealTerms)


@idempotent
async def submit(
    conn: asyncpg.Connection, caller: Caller, deal_id: UUID, data: SubmissionIn
) -> SubmissionOut:
    now = _now()
    deal = await conn.fetchrow(queries.LOCK_KOL_DEAL, deal_id, caller.kol_id)
    if deal is None:
        raise NotFound("deal", deal_id)
    deliverable = rules.deliverable_of(_terms(deal).deliverables, data.deliverable)
    rules.check_url(deliverable.platform, data.url)
    rules.check_posted_at(data.posted_at, now)
    rules.check_submittable(deal["status"])
    live = await conn.fetchval(queries.COUNT_LIVE, deal_id, data.deliverable, list(rules.LIVE))
    rules.check_room(deliverable, live)
    if await conn.fetchrow(queries.URL_TAKEN, deal_id, data.url) is not None:
        raise Conflict("this URL was already submitted for this deal")
    due = rules.review_due(now, deal["review_days"])
    metrics = msgspec.to_builtins(data.metrics) if data.metrics is not None else None
    row = await conn.fetchrow(
        queries.INSERT_SUBMISSION,
        *(deal_id, data.deliverable, deliverable.platform.value, data.url, data.posted_at),
        metrics,
        due,
    )
    if deal["status"] == DealStatus.FUNDED:
        await deals.move(conn, deal_id, DealStatus.CONTENT_SUBMITTED)
    created = SubmissionCreated(
        submission_id=row["id"], deal_id=deal_id, kol_id=deal["kol_id"],
        deliverable=data.deliverable, platform=deliverable.platform.value, url=data.url,
        posted_at=data.posted_at, review_due_at=due,
    )  # fmt: skip
    await events.append(
        conn, created, aggregate_id=row["id"], merchant_id=deal["merchant_id"],
        kol_id=deal["kol_id"],
    )  # fmt: skip
    log.info("submission_created", deal_id=str(deal_id), submission_id=str(row["id"]))
    return submission_out(row)


async def lock_submission(
    conn: asyncpg.Connection, deal_id: UUID, submission_id: UUID
) -> asyncpg.Record:
    """One of the deal's submissions, locked for a change in the caller's transaction."""
    found = await conn.fetchrow(queries.LOCK_SUBMISSION, submission_id, deal_id)
    if found is None:
        raise NotFound("submission", submission_id)
    return found


async def move_submission(
    conn: asyncpg.Connection, submission: asyncpg.Record, target: SubmissionStatus
) -> asyncpg.Record:
    """Move a locked submission (see `lock_submission`) along `rules.SUBMISSION_MOVES`."""
    current = SubmissionStatus(submission["status"])
    if target not in rules.SUBMISSION_MOVES[current]:
        raise Conflict(f"a {current} submission cannot become {target}")
    moved: asyncpg.Record = await conn.fetchrow(queries.MOVE_SUBMISSION, submission["id"], target)
    return moved


async def list_submissions(
    conn: asyncpg.Connection, caller: Caller, deal_id: UUID, limit: int, cursor: str | None
) -> SubmissionPage:
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        await deals.check_visible(conn, caller, deal_id)
        page, next_cursor = await pagination.fetch_page(
            conn, queries.LIST_SUBMISSIONS, deal_id, limit=limit, cursor=cursor
        )
    return SubmissionPage(items=[submission_out(r) for r in page], next_cursor=next_cursor)


async def review(
    conn: asyncpg.Connection, caller: Caller, deal_id: UUID, submission_id: UUID, data: ReviewIn
) -> SubmissionOut:
    """The merchant approves a submission or sends it back with a reason."""
    if data.decision is ReviewDecision.REQUEST_CHANGES and data.reason is None:
        raise Invalid("reason", "reason is required when requesting changes")
    now = _now()
    async with conn.transaction():
        deal = await conn.fetchrow(queries.LOCK_MERCHANT_DEAL, deal_id, caller.merchant_id)
        if deal is None:
            raise NotFound("deal", deal_id)
        found = await conn.fetchrow(queries.LOCK_SUBMISSION, submission_id, deal_id)
        if found is None:
            raise NotFound("submission", submission_id)
        if found["status"] != SubmissionStatus.SUBMITTED:
            raise Conflict(f"this submission is {found['status']}, not waiting for review")
        if deal["status"] not in rules.REVIEWABLE:
            raise Conflict(f"a {deal['status']} deal takes no review")
        if data.decision is ReviewDecision.APPROVE:
            row = await conn.fetchrow(queries.APPROVE_SUBMISSION, submission_id, now)
            await _approved(conn, deal, [row], auto=False)
            await complete_if_done(conn, deal_id, now)
        else:
            rules.check_changes_allowed(found["review_due_at"], now)
            row = await conn.fetchrow(queries.REQUEST_CHANGES, submission_id, data.reason, now)
            sent_back = SubmissionChangesRequested(
                submission_id=submission_id, deal_id=deal_id, deliverable=row["deliverable"],
                reason=row["reason"],
            )  # fmt: skip
            await events.append(
                conn, sent_back, aggregate_id=submission_id, merchant_id=deal["merchant_id"],
                kol_id=deal["kol_id"],
            )  # fmt: skip
    log.info("submission_reviewed", deal_id=str(deal_id), decision=data.decision.value)
    return submission_out(row)


async def _approved(
    conn: asyncpg.Connection, deal: asyncpg.Record, rows: list[asyncpg.Record], *, auto: bool
) -> None:
    await events.append_many(
        conn,
        [
            (
                SubmissionApproved(
                    submission_id=r["id"],
                    deal_id=deal["id"],
                    deliverable=r["deliverable"],
                    auto=auto,
                ),
                r["id"],
                deal["merchant_id"],
                deal["kol_id"],
            )
            for r in rows
        ],
    )


async def complete_if_done(conn: asyncpg.Connection, deal_id: UUID, now: datetime) -> bool:
    """Approve the deal and release its escrow once every piece is approved; call inside the
    transaction that holds the deal's lock. True when the deal was approved now."""
    deal = await conn.fetchrow(queries.LOCK_DEAL, deal_id)
    if deal is None or deal["status"] != DealStatus.CONTENT_SUBMITTED:
        return False
    rows = await conn.fetch(queries.APPROVED_COUNTS, deal_id)
    counts = {r["deliverable"]: r["approved"] for r in rows}
    if not rules.complete(_terms(deal).deliverables, counts):
        return False
    approved = DealApproved(
        deal_id=deal_id, merchant_id=deal["merchant_id"], kol_id=deal["kol_id"], approved_at=now
    )
    await deals.move(conn, deal_id, DealStatus.APPROVED, event=approved, at=now)
    await payouts.release_deal(conn, deal_id, now)
    log.info("deal_approved", deal_id=str(deal_id))
    return True


async def approve_overdue(conn: asyncpg.Connection, now: datetime, limit: int = 200) -> int:
    """Approve every submission whose review window has ended (one transaction per deal, so
    one deal's failure leaves the others approved); returns how many were approved."""
    approved = 0
    reviewable = list(rules.REVIEWABLE)
    for found in await conn.fetch(queries.DEALS_WITH_OVERDUE, now, reviewable, limit):
        try:
            approved += await _approve_overdue_of(conn, found["deal_id"], now)
        except DomainError as error:
            log.warning("auto_approval_failed", deal_id=str(found["deal_id"]), error=error.detail)
    return approved


async def _approve_overdue_of(conn: asyncpg.Connection, deal_id: UUID, now: datetime) -> int:
    async with conn.transaction():
        deal = await conn.fetchrow(queries.LOCK_DEAL, deal_id)
        if deal is None or deal["status"] not in rules.REVIEWABLE:
            return 0
        rows = await conn.fetch(queries.AUTO_APPROVE, deal_id, now, rules.AUTO_APPROVED)
        await _approved(conn, deal, rows, auto=True)
        await complete_if_done(conn, deal_id, now)
    log.info("submissions_auto_approved", deal_id=str(deal_id), approved=len(rows))
    return len(rows)
