"""Use cases of briefs: create, edit, publish, close, cancel, read, list; one transaction each."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import structlog

from contracts.briefs import (
    BriefIn,
    BriefOut,
    BriefPage,
    BriefPatch,
    BriefStatus,
    CommissionOffer,
    DeliveryPolicy,
    Goals,
    Product,
    Timeline,
    Visibility,
)
from contracts.common import Deliverable, Platform, Tier
from contracts.events import BriefCancelled, BriefClosed, BriefPublished, OfferWithdrawn
from contracts.kols import Category
from contracts.offers import Side
from services import events, pagination
from services.actors import Caller
from services.briefs import queries, rules
from services.errors import NotFound
from services.idempotency import idempotent
from services.negotiation import queries as offer_queries

log = structlog.get_logger(__name__)


def spec_of(row: asyncpg.Record) -> BriefIn:
    """The merchant's brief as it would be sent again, from its row."""
    return BriefIn(
        title=row["title"],
        description=row["description"],
        product=Product(
            name=row["product_name"],
            url=row["product_url"],
            category=Category(row["category"]),
            average_order_value=row["average_order_value"],
        ),
        goals=Goals(reach=row["goal_reach"], conversions=row["goal_conversions"]),
        budget=row["budget"],
        currency=row["currency"],
        platforms=[Platform(p) for p in row["platforms"]],
        tiers=[Tier(t) for t in row["tiers"]],
        deliverables=[Deliverable(d) for d in row["deliverables"]],
        timeline=Timeline(
            apply_by=row["apply_by"],
            posting_from=row["posting_from"],
            posting_until=row["posting_until"],
        ),
        commission=CommissionOffer(
            commission_bp=row["commission_bp"], attribution_days=row["attribution_days"]
        ),
        visibility=Visibility(row["visibility"]),
        max_counter_rounds=row["max_counter_rounds"],
        delivery=DeliveryPolicy(
            review_days=row["review_days"],
            min_live_days=row["min_live_days"],
            payout_hold_days=row["payout_hold_days"],
            return_days=row["return_days"],
            click_required=row["click_required"],
        ),
    )


def brief_out(row: asyncpg.Record) -> BriefOut:
    spec = spec_of(row)
    committed, reserved = row["committed"], row["reserved"]
    return BriefOut(
        id=row["id"],
        merchant_id=row["merchant_id"],
        status=BriefStatus(row["status"]),
        **{name: getattr(spec, name) for name in BriefIn.__struct_fields__},
        committed=committed,
        reserved=reserved,
        remaining=row["budget"] - committed - reserved,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        published_at=row["published_at"],
        closed_at=row["closed_at"],
    )


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


async def _locked(conn: asyncpg.Connection, caller: Caller, brief_id: UUID) -> asyncpg.Record:
    row = await conn.fetchrow(queries.LOCK_FOR_MERCHANT, brief_id, caller.merchant_id)
    if row is None:
        raise NotFound("brief", brief_id)
    return row


async def update(
    conn: asyncpg.Connection, caller: Caller, brief_id: UUID, patch: BriefPatch
) -> BriefOut:
    async with conn.transaction():
        row = await _locked(conn, caller, brief_id)
        spec = rules.patched(spec_of(row), patch, BriefStatus(row["status"]))
        updated = await conn.fetchrow(
            queries.UPDATE_BRIEF, brief_id, caller.merchant_id, *_values(spec)
        )
    log.info("brief_updated", brief_id=str(brief_id), budget=spec.budget)
    return brief_out(updated)


async def publish(conn: asyncpg.Connection, caller: Caller, brief_id: UUID) -> BriefOut:
    async with conn.transaction():
        row = await _locked(conn, caller, brief_id)
        rules.check_transition(BriefStatus(row["status"]), BriefStatus.OPEN)
        spec = spec_of(row)
        rules.check_publishable(spec, datetime.now(UTC))
        updated = await _set_status(conn, caller, brief_id, BriefStatus.OPEN)
        event = BriefPublished(
            brief_id=brief_id,
            merchant_id=row["merchant_id"],
            budget=spec.budget,
            currency=spec.currency,
        )
        await events.append(conn, event, aggregate_id=brief_id, merchant_id=row["merchant_id"])
    log.info("brief_published", brief_id=str(brief_id))
    return updated


async def close(conn: asyncpg.Connection, caller: Caller, brief_id: UUID) -> BriefOut:
    async with conn.transaction():
        row = await _locked(conn, caller, brief_id)
        rules.check_transition(BriefStatus(row["status"]), BriefStatus.CLOSED)
        updated = await _set_status(conn, caller, brief_id, BriefStatus.CLOSED)
        event = BriefClosed(brief_id=brief_id, merchant_id=row["merchant_id"])
        await events.append(conn, event, aggregate_id=brief_id, merchant_id=row["merchant_id"])
    log.info("brief_closed", brief_id=str(brief_id))
    return updated


async def cancel(conn: asyncpg.Connection, caller: Caller, brief_id: UUID) -> BriefOut:
    """Call the campaign off: its open offers are withdrawn by the merchant; deals stand."""
    async with conn.transaction():
        row = await _locked(conn, caller, brief_id)
        rules.check_transition(BriefStatus(row["status"]), BriefStatus.CANCELLED)
        withdrawn = await conn.fetch(offer_queries.WITHDRAW_OPEN_OF_BRIEF, brief_id)
        await events.append_many(
            conn,
            [
                (
                    OfferWithdrawn(
                        offer_id=o["id"],
                        brief_id=brief_id,
                        revision=o["latest_revision"],
                        withdrawn_by=Side.MERCHANT,
                    ),
                    o["id"],
                    o["merchant_id"],
                    o["kol_id"],
                )
                for o in withdrawn
            ],
        )
        updated = await _set_status(conn, caller, brief_id, BriefStatus.CANCELLED)
        event = BriefCancelled(
            brief_id=brief_id, merchant_id=row["merchant_id"], withdrawn_offers=len(withdrawn)
        )
        await events.append(conn, event, aggregate_id=brief_id, merchant_id=row["merchant_id"])
    log.info("brief_cancelled", brief_id=str(brief_id), withdrawn_offers=len(withdrawn))
    return updated


async def _set_status(
    conn: asyncpg.Connection, caller: Caller, brief_id: UUID, status: BriefStatus
) -> BriefOut:
    return brief_out(
        await conn.fetchrow(queries.SET_STATUS, brief_id, caller.merchant_id, status.value)
    )
