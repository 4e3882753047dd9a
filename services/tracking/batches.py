"""Recording a batch of orders: each order judged once, in the order sent, against its deal,
its click and the order's earlier reports, and stored with its result and its event.

A batch is one transaction, tried optimistically first: its deals are read with a shared lock
(none changes state meanwhile) and without locking their running totals, the orders are judged
and stored, and only then are the deals' tracking links locked, in deal id order, to add the
commissions to their running totals. Two batches on the same deals therefore overlap in all
but their last statements. Before adding, the batch checks that what its judgement read is
still so (the running total of each capped deal, the orders of each click); if another batch
changed it meanwhile, or counted one of the same orders first (the unique index refuses the
insert), the transaction is rolled back and the batch is judged again with the links locked
from the start, so caps and click bursts are counted exactly and a raced order is answered as
a repeat or a duplicate. A repeated report of a counted order answers with the stored result;
a contradicting one is stored as rejected (`duplicate`).
"""

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import structlog

from contracts.deals import DealStatus
from contracts.events import ConversionRecorded
from contracts.tracking import (
    ConversionBatchOut,
    ConversionIn,
    ConversionResult,
    ConversionStatus,
    Reason,
)
from services import events
from services.errors import Conflict
from services.tracking import queries, rules

log = structlog.get_logger(__name__)

ATTEMPTS = 3  # an optimistic try, then tries with the links locked from the start
RETRIED = (asyncpg.UniqueViolationError, asyncpg.DeadlockDetectedError)


class _Changed(Exception):
    """What a batch was judged on changed before it locked its deals' links."""


async def record(
    conn: asyncpg.Connection,
    merchant_id: UUID,
    items: Sequence[ConversionIn],
    now: datetime | None = None,
) -> ConversionBatchOut:
    """Judge and store a batch; every item gets its own result, in the order sent."""
    now = now or datetime.now(UTC)
    for attempt in range(ATTEMPTS):
        try:
            async with conn.transaction():
                new, results = await _attempt(conn, merchant_id, items, now, attempt > 0)
        except (_Changed, *RETRIED) as exc:
            log.info("conversion_batch_judged_again", reason=type(exc).__name__, attempt=attempt)
            continue
        counts = Counter(r.status for r in results)
        log.info(
            "conversions_recorded", merchant_id=str(merchant_id), items=len(items), new=len(new)
        )
        return ConversionBatchOut(results=results, counts=dict(counts))
    raise Conflict("some of these orders were reported at the same moment; send them again")


async def _attempt(
    conn: asyncpg.Connection,
    merchant_id: UUID,
    items: Sequence[ConversionIn],
    now: datetime,
    locked: bool,
) -> tuple[list[dict[str, Any]], list[ConversionResult]]:
    """One try, in the caller's transaction: `locked` takes the deals' links before reading."""
    # A plan cached while the table was small would scan it once it is large.
    await conn.execute(queries.PLAN_EACH_TIME)
    read = await _read(conn, merchant_id, items, locked)
    new, results = _judge(items, read.judge(now), read.existing)
    # In order id order, so two batches claiming some of the same orders take their unique
    # index entries in one order and wait for each other rather than deadlock.
    rows = sorted(new, key=itemgetter("order_id"))
    await _store(conn, merchant_id, rows, now)
    if not locked:
        await _lock_and_check(conn, read, rows)
    totals: dict[UUID, int] = defaultdict(int)
    for row in rows:
        if row["commission"]:
            totals[row["deal_id"]] += row["commission"]
    if totals:
        await conn.execute(queries.ADD_COUNTED, list(totals), list(totals.values()))
    return new, results


@dataclass(slots=True)
class _Read:
    """What a batch's judgement reads: its links, clicks and deals, each click's counted
    orders, and the stored reports of its orders (counted first)."""

    links: dict[str, UUID]
    clicks: dict[UUID, rules.Click]
    deals: dict[UUID, rules.DealFacts]
    click_orders: dict[UUID, list[datetime]]
    existing: list[asyncpg.Record]

    def judge(self, now: datetime) -> rules.Judge:
        """A judge of its own (it adds the batch's orders to the clicks' as it goes)."""
        orders = {click: list(times) for click, times in self.click_orders.items()}
        return rules.Judge(now, self.links, self.clicks, self.deals, defaultdict(list, orders))


async def _read(
    conn: asyncpg.Connection, merchant_id: UUID, items: Sequence[ConversionIn], locked: bool
) -> _Read:
    codes = list({i.tracking_code for i in items if i.tracking_code})
    click_ids = list({i.click_id for i in items if i.click_id})
    links = {r["code"]: r["deal_id"] for r in await conn.fetch(queries.LINKS, merchant_id, codes)}
    clicks = {
        r["id"]: rules.Click(r["deal_id"], r["clicked_at"])
        for r in (await conn.fetch(queries.CLICKS, merchant_id, click_ids) if click_ids else [])
    }
    deal_ids = list(set(links.values()) | {c.deal_id for c in clicks.values()})
    rows = await conn.fetch(queries.DEAL_FACTS, deal_ids, merchant_id) if deal_ids else []
    counted = await _lock(conn, deal_ids) if locked and deal_ids else {}
    deals = {r["id"]: _facts(r, counted.get(r["id"], r["commission_counted"])) for r in rows}
    existing = await conn.fetch(
        queries.EXISTING_ORDERS, merchant_id, list({i.order_id for i in items})
    )
    return _Read(links, clicks, deals, await _click_orders(conn, list(clicks), []), existing)


async def _lock(conn: asyncpg.Connection, deal_ids: list[UUID]) -> dict[UUID, int]:
    """Lock the deals' links (in deal id order); their running totals of counted commission."""
    return {
        r["deal_id"]: r["commission_counted"]
        for r in await conn.fetch(queries.LOCK_LINKS, deal_ids)
    }


async def _click_orders(
    conn: asyncpg.Connection, click_ids: list[UUID], leaving_out: list[UUID]
) -> dict[UUID, list[datetime]]:
    """Each click's counted orders (when they happened), but those of `leaving_out`."""
    orders: dict[UUID, list[datetime]] = defaultdict(list)
    if click_ids:
        for r in await conn.fetch(queries.CLICK_ORDERS, click_ids, leaving_out):
            orders[r["click_id"]].append(r["occurred_at"])
    return orders


async def _lock_and_check(
    conn: asyncpg.Connection, read: _Read, rows: list[dict[str, Any]]
) -> None:
    """Lock the batch's links, then check that no other batch changed what the judgement
    read: a capped deal's running total, a click's counted orders."""
    counted = await _lock(conn, list(read.deals)) if read.deals else {}
    for deal_id, deal in read.deals.items():
        if deal.commission_cap is not None and counted.get(deal_id) != deal.commission_counted:
            raise _Changed
    if read.clicks:
        now = await _click_orders(conn, list(read.clicks), [r["id"] for r in rows])
        if {c: sorted(t) for c, t in now.items()} != {
            c: sorted(t) for c, t in read.click_orders.items()
        }:
            raise _Changed


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


def _facts(row: asyncpg.Record, counted: int) -> rules.DealFacts:
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
        commission_counted=counted,
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


async def _store(
    conn: asyncpg.Connection, merchant_id: UUID, rows: list[dict[str, Any]], now: datetime
) -> None:
    """Insert the new reports and their events."""
    if rows:
        document = msgspec.json.encode(rows).decode()
        await conn.execute(queries.INSERT_CONVERSIONS, merchant_id, now, document)
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
