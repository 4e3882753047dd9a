"""Use cases of briefs: create, edit, publish, close, read, list; one transaction each.

Also the functions other contexts call on a brief: lock it for a merchant or a KOL, read what
its budget holds, and move its status with the event that tells of it (negotiation cancels a
brief this way, withdrawing its open offers in the same transaction).
"""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import structlog

from contracts.briefs import (
    BriefIn,
    BriefOut,
    BriefPage,
    BriefPatch,
    BriefStatus,
    CommissionOffer,
    DeliveryPolicy,
    Targeting,
    Timeline,
)
from contracts.events import BriefClosed, BriefPublished
from services import events, pagination
from services.actors import Caller
from services.briefs import queries, rules
from services.errors import NotFound
from services.idempotency import idempotent

log = structlog.get_logger(__name__)


def _grouped(row: asyncpg.Record) -> dict[str, Any]:
    """The brief's grouped fields, from the columns that hold them."""
    return {
        "product": {
            "name": row["product_name"],
            "url": row["product_url"],
            "category": row["category"],
            "average_order_value": row["average_order_value"],
        },
        "goals": {"reach": row["goal_reach"], "conversions": row["goal_conversions"]},
        "timeline": {name: row[name] for name in Timeline.__struct_fields__},
        "commission": {name: row[name] for name in CommissionOffer.__struct_fields__},
        "delivery": {name: row[name] for name in DeliveryPolicy.__struct_fields__},
        "targeting": {name: row[name] for name in Targeting.__struct_fields__},
    }


def spec_of(row: asyncpg.Record) -> BriefIn:
    """The merchant's brief as it would be sent again, from its row."""
    fields = dict(row) | _grouped(row)
    return msgspec.convert({name: fields[name] for name in BriefIn.__struct_fields__}, BriefIn)


def brief_out(row: asyncpg.Record) -> BriefOut:
    remaining = row["budget"] - row["committed"] - row["reserved"]
    return msgspec.convert(dict(row) | _grouped(row) | {"remaining": remaining}, BriefOut)


def _values(spec: BriefIn) -> tuple[Any, ...]:
    """The spec in the column order of INSERT_BRIEF and UPDATE_BRIEF (after the ids)."""
    return (
        spec.title,
        spec.description,
        spec.product.name,
        spec.product.url,
        str(spec.product.category),
        spec.product.average_order_value,
        spec.goals.reach,
        spec.goals.conversions,
        spec.budget,
        spec.currency,
        [str(p) for p in spec.platforms],
        [str(t) for t in spec.tiers],
        [str(d) for d in spec.deliverables],
        spec.timeline.apply_by,
        spec.timeline.posting_from,
        spec.timeline.posting_until,
        spec.commission.commission_bp,
        spec.commission.attribution_days,
        str(spec.visibility),
        spec.max_counter_rounds,
        spec.delivery.review_days,
        spec.delivery.min_live_days,
        spec.delivery.payout_hold_days,
        spec.delivery.return_days,
        spec.delivery.click_required,
        list(spec.targeting.regions),
        spec.targeting.min_authenticity,
        spec.targeting.payout_ready_required,
    )


@idempotent
async def create(conn: asyncpg.Connection, caller: Caller, data: BriefIn) -> BriefOut:
    rules.check_brief(data)
    row = await conn.fetchrow(queries.INSERT_BRIEF, caller.merchant_id, *_values(data))
    log.info("brief_created", brief_id=str(row["id"]), merchant_id=str(caller.merchant_id))
    return brief_out(row)


async def get(conn: asyncpg.Connection, caller: Caller, brief_id: UUID) -> BriefOut:
    if caller.kind == "kol":
        row = await conn.fetchrow(queries.FIND_FOR_KOL, brief_id, caller.kol_id)
    else:
        row = await conn.fetchrow(queries.FIND_FOR_MERCHANT, brief_id, caller.merchant_id)
    if row is None:
        raise NotFound("brief", brief_id)
    return brief_out(row)


async def list_briefs(
    conn: asyncpg.Connection,
    caller: Caller,
    status: BriefStatus | None,
    limit: int,
    cursor: str | None,
) -> BriefPage:
    if caller.kind == "kol":
        page, next_cursor = await pagination.fetch_page(
            conn, queries.LIST_FOR_KOL, caller.kol_id,
            limit=limit, cursor=cursor, time_column="published_at",
        )  # fmt: skip
    else:
        state = status.value if status else None
        page, next_cursor = await pagination.fetch_page(
            conn, queries.LIST_FOR_MERCHANT, caller.merchant_id, state, limit=limit, cursor=cursor
        )
    return BriefPage(items=[brief_out(r) for r in page], next_cursor=next_cursor)


async def lock_for_merchant(
    conn: asyncpg.Connection, merchant_id: UUID | None, brief_id: UUID
) -> asyncpg.Record:
    """The merchant's brief, its row locked until the transaction ends; 404 if not its own."""
    row = await conn.fetchrow(queries.LOCK_FOR_MERCHANT, brief_id, merchant_id)
    if row is None:
        raise NotFound("brief", brief_id)
    return row


async def lock_for_kol(conn: asyncpg.Connection, kol_id: UUID, brief_id: UUID) -> asyncpg.Record:
    """A brief the KOL may see, its row locked until the transaction ends; 404 otherwise."""
    row = await conn.fetchrow(queries.LOCK_FOR_KOL, brief_id, kol_id)
    if row is None:
        raise NotFound("brief", brief_id)
    return row


async def budget_use(
    conn: asyncpg.Connection, brief_id: UUID, leaving_out: UUID | None
) -> rules.BudgetUse:
    """What the brief's budget holds now, leaving out the offer `leaving_out` (the one being
    changed) from what is reserved. Read after the brief's lock, so it sees every change
    committed before."""
    row = await conn.fetchrow(queries.BUDGET_USE, brief_id, leaving_out)
    return rules.BudgetUse(committed=row["committed"], reserved=row["reserved"])


async def update(
    conn: asyncpg.Connection, caller: Caller, brief_id: UUID, patch: BriefPatch
) -> BriefOut:
    async with conn.transaction():
        row = await lock_for_merchant(conn, caller.merchant_id, brief_id)
        spec = rules.patched(spec_of(row), patch, BriefStatus(row["status"]))
        updated = await conn.fetchrow(
            queries.UPDATE_BRIEF, brief_id, caller.merchant_id, *_values(spec)
        )
    log.info("brief_updated", brief_id=str(brief_id), budget=spec.budget)
    return brief_out(updated)


async def start_move(
    conn: asyncpg.Connection, caller: Caller, brief_id: UUID, target: BriefStatus
) -> asyncpg.Record:
    """Lock the merchant's brief and check that it may become `target`; its row as it is."""
    row = await lock_for_merchant(conn, caller.merchant_id, brief_id)
    rules.check_transition(BriefStatus(row["status"]), target)
    return row


async def move(conn: asyncpg.Connection, event: rules.BriefEvent) -> BriefOut:
    """Give the brief locked by `start_move` the status `event` tells of, and record it."""
    target = rules.STATUS_AFTER[type(event)]
    row = await conn.fetchrow(queries.SET_STATUS, event.brief_id, event.merchant_id, target.value)
    await events.append(conn, event, aggregate_id=event.brief_id, merchant_id=event.merchant_id)
    return brief_out(row)


async def publish(conn: asyncpg.Connection, caller: Caller, brief_id: UUID) -> BriefOut:
    async with conn.transaction():
        row = await start_move(conn, caller, brief_id, BriefStatus.OPEN)
        spec = spec_of(row)
        rules.check_publishable(spec, datetime.now(UTC))
        event = BriefPublished(
            brief_id=brief_id,
            merchant_id=row["merchant_id"],
            budget=spec.budget,
            currency=spec.currency,
        )
        updated = await move(conn, event)
    log.info("brief_published", brief_id=str(brief_id))
    return updated


async def close(conn: asyncpg.Connection, caller: Caller, brief_id: UUID) -> BriefOut:
    async with conn.transaction():
        row = await start_move(conn, caller, brief_id, BriefStatus.CLOSED)
        updated = await move(conn, BriefClosed(brief_id=brief_id, merchant_id=row["merchant_id"]))
    log.info("brief_closed", brief_id=str(brief_id))
    return updated
