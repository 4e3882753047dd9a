"""Use cases of conversions: partners report orders (one or a thousand at a time) and returns;
operators decide held orders; the holding period's end books commissions in the ledger.

A batch (`batches.record`) is one transaction that judges each order once and stores it with
its result and its event; caps and click bursts are counted exactly even when batches race.
"""

from datetime import UTC, datetime
from operator import itemgetter
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import structlog

from contracts.events import ConversionReversed, ConversionReviewed
from contracts.tracking import (
    ConversionIn,
    ConversionOut,
    ConversionPage,
    ConversionReviewDecision,
    ConversionStatus,
)
from services import events, pagination
from services.actors import Caller
from services.deals import service as deals
from services.errors import Conflict, NotFound
from services.tracking import queries, rules
from services.tracking.batches import record

log = structlog.get_logger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def conversion_out(row: asyncpg.Record | dict[str, Any]) -> ConversionOut:
    share = rules.kol_share(row["commission"], row["platform_cut"])
    return msgspec.convert({**row, "kol_share": share}, ConversionOut)


async def record_one(
    conn: asyncpg.Connection, merchant_id: UUID, item: ConversionIn
) -> tuple[ConversionOut, bool]:
    """One order; also says whether it was new (a repeat answers with the stored report)."""
    result = (await record(conn, merchant_id, [item])).results[0]
    row = await conn.fetchrow(queries.FIND_CONVERSION, result.id, merchant_id, None)
    return conversion_out(row), not result.duplicate


async def reverse(
    conn: asyncpg.Connection, merchant_id: UUID, conversion_id: UUID, reason: str
) -> ConversionOut:
    """A return: a counted order whose commission is not booked yet stops counting."""
    now = _now()
    async with conn.transaction():
        row = await conn.fetchrow(queries.LOCK_CONVERSION, conversion_id, merchant_id)
        if row is None:
            raise NotFound("conversion", conversion_id)
        status = ConversionStatus(row["status"])
        if status == ConversionStatus.REVERSED:
            return conversion_out(row)
        if status not in rules.REVERSIBLE:
            raise Conflict(_not_reversible(status, row["decided_at"]))
        reversed_row = await _stop_counting(conn, row, reason, now)
        event = ConversionReversed(
            conversion_id=row["id"], merchant_id=merchant_id, deal_id=row["deal_id"],
            order_id=row["order_id"], commission=row["commission"], reason=reason,
        )  # fmt: skip
        await events.append(conn, event, aggregate_id=row["id"], merchant_id=merchant_id)
    log.info("conversion_reversed", conversion_id=str(conversion_id))
    return conversion_out(reversed_row)


def _not_reversible(status: ConversionStatus, decided_at: datetime | None) -> str:
    if status == ConversionStatus.REJECTED:
        return "a rejected conversion never counted, so there is nothing to reverse"
    when = decided_at.date().isoformat() if decided_at else "earlier"
    return (
        f"this conversion's holding period ended and its commission was {status.value} on "
        f"{when}; a later return is settled in a dispute"
    )


async def _stop_counting(
    conn: asyncpg.Connection, row: asyncpg.Record, reason: str, now: datetime
) -> asyncpg.Record:
    if row["commission"]:
        await conn.execute(queries.SUBTRACT_COUNTED, row["deal_id"], row["commission"])
    return await conn.fetchrow(queries.REVERSE, row["id"], reason, now)


async def review(
    conn: asyncpg.Connection, conversion_id: UUID, decision: ConversionReviewDecision, note: str
) -> ConversionOut:
    """An operator's decision on a held order: approve lets it count (pending until its
    holding period ends); reject takes it out, freeing the deal's cap."""
    now = _now()
    async with conn.transaction():
        row = await conn.fetchrow(queries.LOCK_CONVERSION, conversion_id, None)
        if row is None:
            raise NotFound("conversion", conversion_id)
        if row["status"] != ConversionStatus.HELD:
            raise Conflict(f"only a held conversion is reviewed; this one is {row['status']}")
        if decision == ConversionReviewDecision.REJECT and row["commission"]:
            await conn.execute(queries.SUBTRACT_COUNTED, row["deal_id"], row["commission"])
        target = "pending" if decision == ConversionReviewDecision.APPROVE else "rejected"
        updated = await conn.fetchrow(queries.REVIEWED, conversion_id, target, now, note)
        reviewed = ConversionReviewed(
            conversion_id=conversion_id, merchant_id=row["merchant_id"], deal_id=row["deal_id"],
            order_id=row["order_id"], status=target, note=note,
        )  # fmt: skip
        await events.append(
            conn, reviewed, aggregate_id=conversion_id, merchant_id=row["merchant_id"]
        )
    log.info("conversion_reviewed", conversion_id=str(conversion_id), decision=decision.value)
    return conversion_out(updated)


async def get(conn: asyncpg.Connection, caller: Caller, conversion_id: UUID) -> ConversionOut:
    row = await conn.fetchrow(
        queries.FIND_CONVERSION, conversion_id, caller.merchant_id, caller.kol_id
    )
    if row is None:
        raise NotFound("conversion", conversion_id)
    return conversion_out(row)


async def list_conversions(
    conn: asyncpg.Connection,
    caller: Caller,
    deal_id: UUID | None,
    status: ConversionStatus | None,
    order_id: str | None,
    limit: int,
    cursor: str | None,
) -> ConversionPage:
    """The caller's conversions, newest first: a merchant's (or its partner's), or those of a
    KOL's deals; narrowed to one deal, one status or one order."""
    if order_id is not None:
        return _one_order(await _order_reports(conn, caller, order_id), deal_id, status)
    if deal_id is not None:
        await deals.check_visible(conn, caller, deal_id)
        query, owner = queries.DEAL_CONVERSIONS, deal_id
    elif caller.merchant_id is not None:
        query, owner = queries.MERCHANT_CONVERSIONS, caller.merchant_id
    else:
        query, owner = queries.KOL_CONVERSIONS, caller.kol_id
    state = status.value if status else None
    page, next_cursor = await pagination.fetch_page(
        conn, query, owner, state, limit=limit, cursor=cursor, time_column="received_at"
    )
    return ConversionPage(items=[conversion_out(r) for r in page], next_cursor=next_cursor)


async def _order_reports(
    conn: asyncpg.Connection, caller: Caller, order_id: str
) -> list[asyncpg.Record]:
    if caller.merchant_id is not None:
        rows = await conn.fetch(queries.EXISTING_ORDERS, caller.merchant_id, [order_id])
        return sorted(rows, key=itemgetter("received_at", "id"), reverse=True)
    return list(await conn.fetch(queries.KOL_ORDER_REPORTS, caller.kol_id, order_id))


def _one_order(
    rows: list[asyncpg.Record], deal_id: UUID | None, status: ConversionStatus | None
) -> ConversionPage:
    """An order has a handful of reports: one page, filtered here."""
    items = [
        conversion_out(r)
        for r in rows
        if deal_id in (None, r["deal_id"]) and status in (None, r["status"])
    ]
    return ConversionPage(items=items, next_cursor=None)


async def held(conn: asyncpg.Connection, limit: int, cursor: str | None) -> ConversionPage:
    """The operators' review queue, oldest first."""
    page, next_cursor = await pagination.fetch_page(
        conn, queries.HELD, limit=limit, cursor=cursor, time_column="received_at"
    )
    return ConversionPage(items=[conversion_out(r) for r in page], next_cursor=next_cursor)
