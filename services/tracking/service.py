"""Use cases of conversions: partners report orders (one or a thousand at a time) and returns;
operators decide held orders; the holding period's end books commissions in the ledger.

A batch is one transaction: its deals are locked (in id order) while it is judged, so the
deals' caps and click bursts are counted exactly even when batches race, and each order's
result is stored with it. A repeated report of a counted order answers with the stored
result; a contradicting one is stored as rejected (`duplicate`). The new reports and their
deals' running totals are written by one statement, their `conversion.recorded` events by
another.
"""

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import structlog

from contracts.deals import DealStatus
from contracts.events import (
    ConversionRecorded,
    ConversionReversed,
    ConversionReviewed,
)
from contracts.tracking import (
    ConversionBatchOut,
    ConversionIn,
    ConversionOut,
    ConversionPage,
    ConversionResult,
    ConversionStatus,
    Reason,
    ReviewDecision,
)
from services import events, pagination
from services.actors import Caller
from services.deals import service as deals
from services.errors import Conflict, NotFound
from services.tracking import queries, rules

log = structlog.get_logger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def conversion_out(row: asyncpg.Record | dict[str, Any]) -> ConversionOut:
    share = rules.kol_share(row["commission"], row["platform_cut"])
    return msgspec.convert({**row, "kol_share": share}, ConversionOut)


def _result(index: int, row: asyncpg.Record | dict[str, Any], duplicate: bool) -> ConversionResult:
    """A new row carries its status and reasons as enums already; a stored one as text."""
    status, reasons = row["status"], row["reasons"]
    return ConversionResult(
        index=index,
        order_id=row["order_id"],
        id=row["id"],
        status=status if isinstance(status, ConversionStatus) else ConversionStatus(status),
        reasons=[r if isinstance(r, Reason) else Reason(r) for r in reasons],
        commission=row["commission"],
        duplicate=duplicate,
    )


async def record(
    conn: asyncpg.Connection,
    merchant_id: UUID,
    items: Sequence[ConversionIn],
    now: datetime | None = None,
) -> ConversionBatchOut:
    """Judge and store a batch; every item gets its own result, in the order sent."""
    now = now or _now()
    async with conn.transaction():
        # A plan cached while the table was small would scan it once it is large.
        await conn.execute(queries.PLAN_EACH_TIME)
        judge = await _judge_for(conn, merchant_id, items, now)
        existing = await conn.fetch(
            queries.EXISTING_ORDERS, merchant_id, list({i.order_id for i in items})
        )
        new, results = _judge(items, judge, existing)
        await _insert(conn, merchant_id, new, now)
    counts = Counter(r.status for r in results)
    log.info("conversions_recorded", merchant_id=str(merchant_id), items=len(items), new=len(new))
    return ConversionBatchOut(results=results, counts=dict(counts))


def _judge(
    items: Sequence[ConversionIn], judge: rules.Judge, existing: list[asyncpg.Record]
) -> tuple[list[dict[str, Any]], list[ConversionResult]]:
    """The batch's new reports to store, and every item's result in order, given the orders'
    stored reports (counted first)."""
    ids = iter(rules.time_ordered_ids(len(items)))
    # Each order's reports: stored ones, then this batch's, the counted one first.
    stored: dict[str, list[dict[str, Any]]] = {}
    for row in existing:
        stored.setdefault(row["order_id"], []).append(dict(row))
    results: list[ConversionResult] = []
    new: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        earlier = stored.get(item.order_id)
        if earlier is None:
            verdict = judge.decide(item)
        else:
            repeat = _repeat_of(item, earlier)
            if repeat is not None:
                results.append(_result(index, repeat, True))
                continue
            verdict = _verdict(item, judge, earlier)
        row = _new_row(item, verdict, next(ids))
        if earlier is None:
            stored[item.order_id] = [row]
        elif verdict.status == ConversionStatus.REJECTED:
            earlier.append(row)
        else:
            earlier.insert(0, row)
        new.append(row)
        results.append(
            ConversionResult(
                index=index,
                order_id=item.order_id,
                id=row["id"],
                status=verdict.status,
                reasons=list(verdict.reasons),
                commission=verdict.commission,
                duplicate=False,
            )
        )
    return new, results


async def _judge_for(
    conn: asyncpg.Connection, merchant_id: UUID, items: Sequence[ConversionIn], now: datetime
) -> rules.Judge:
    codes = list({i.tracking_code for i in items if i.tracking_code})
    click_ids = list({i.click_id for i in items if i.click_id})
    links = {r["code"]: r["deal_id"] for r in await conn.fetch(queries.LINKS, merchant_id, codes)}
    clicks = {
        r["id"]: rules.Click(r["deal_id"], r["clicked_at"])
        for r in (await conn.fetch(queries.CLICKS, merchant_id, click_ids) if click_ids else [])
    }
    deal_ids = list(set(links.values()) | {c.deal_id for c in clicks.values()})
    deals = {
        r["id"]: _facts(r)
        for r in (await conn.fetch(queries.LOCK_DEALS, deal_ids, merchant_id) if deal_ids else [])
    }
    click_orders: dict[UUID, list[datetime]] = defaultdict(list)
    if clicks:
        for r in await conn.fetch(queries.CLICK_ORDERS, list(clicks)):
            click_orders[r["click_id"]].append(r["occurred_at"])
    return rules.Judge(now, links, clicks, deals, click_orders)


def _facts(row: asyncpg.Record) -> rules.DealFacts:
    return rules.DealFacts(
        id=row["id"],
        kol_id=row["kol_id"],
        status=DealStatus(row["status"]),
        currency=row["currency"],
        commission_bp=row["commission_bp"],
        commission_cap=row["commission_cap"],
        take_rate_bp=row["take_rate_bp"],
        attribution_days=row["attribution_days"],
        created_at=row["created_at"],
        approved_at=row["approved_at"],
        return_days=row["return_days"],
        click_required=row["click_required"],
        kol_buyer_ref=row["kol_buyer_ref"],
        commission_counted=row["commission_counted"],
    )


def _repeat_of(item: ConversionIn, earlier: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The stored report this one repeats exactly (the counted one first), if any. A report
    rejected for a reason time may undo (a clock ahead of ours, a click not yet recorded) is
    judged again instead."""
    return next(
        (row for row in earlier if rules.same_order(item, row) and not rules.retryable(row)),
        None,
    )


def _verdict(
    item: ConversionIn, judge: rules.Judge, earlier: list[dict[str, Any]]
) -> rules.Verdict:
    """A new report of an order reported before: a duplicate if the order already counts."""
    counted = next((row for row in earlier if row["status"] != "rejected"), None)
    if counted is None:
        return judge.decide(item)
    return rules.Verdict(
        counted["deal_id"], ConversionStatus.REJECTED, (Reason.DUPLICATE,), 0, 0, None
    )


def _new_row(item: ConversionIn, verdict: rules.Verdict, id_: UUID) -> dict[str, Any]:
    """The stored form of a new report (what INSERT_CONVERSIONS reads, and what a repeat of it
    later in the batch is compared with and answered from)."""
    return {
        "id": id_,
        "order_id": item.order_id,
        "deal_id": verdict.deal_id,
        "click_id": item.click_id,
        "tracking_code": item.tracking_code,
        "amount": item.amount,
        "currency": item.currency,
        "occurred_at": item.occurred_at,
        "buyer_ref": item.buyer_ref,
        "status": verdict.status,
        "reasons": verdict.reasons,
        "commission": verdict.commission,
        "platform_cut": verdict.platform_cut,
        "hold_until": verdict.hold_until,
    }


async def _insert(
    conn: asyncpg.Connection, merchant_id: UUID, rows: list[dict[str, Any]], now: datetime
) -> None:
    """Store the new reports with their deals' running totals and their events."""
    if not rows:
        return
    # In order id order, so two batches claiming some of the same orders take their unique
    # index entries in one order and wait for each other rather than deadlock.
    rows = sorted(rows, key=itemgetter("order_id"))
    try:
        await conn.fetchval(
            queries.INSERT_CONVERSIONS, merchant_id, now, msgspec.json.encode(rows).decode()
        )
    except asyncpg.UniqueViolationError:
        # Another batch counted one of these orders between our read and our write.
        raise Conflict(
            "some of these orders were reported at the same moment; send them again"
        ) from None
    await events.append_many(conn, [_recorded(merchant_id, row) for row in rows])


def _recorded(
    merchant_id: UUID, row: dict[str, Any]
) -> tuple[ConversionRecorded, UUID, UUID, None]:
    recorded = ConversionRecorded(
        conversion_id=row["id"], merchant_id=merchant_id, deal_id=row["deal_id"],
        order_id=row["order_id"], amount=row["amount"], currency=row["currency"],
        status=row["status"], reasons=list(row["reasons"]), commission=row["commission"],
    )  # fmt: skip
    return recorded, row["id"], merchant_id, None


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
    conn: asyncpg.Connection, conversion_id: UUID, decision: ReviewDecision, note: str
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
        if decision == ReviewDecision.REJECT and row["commission"]:
            await conn.execute(queries.SUBTRACT_COUNTED, row["deal_id"], row["commission"])
        target = "pending" if decision == ReviewDecision.APPROVE else "rejected"
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
