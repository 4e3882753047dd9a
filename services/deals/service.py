"""Use cases of deals: made when an offer is accepted, read by both sides and the merchant's
partners, and moved through their lifecycle by one function, `move`, that every other context
calls (funding, delivery, payouts, disputes).

`move` locks the deal, checks the transition against `rules.MOVES` and writes the move's event
in the caller's transaction, so a deal's status changes in exactly one place.
"""

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import structlog

from contracts.deals import DealOut, DealPage, DealStatus
from contracts.events import (
    DealApproved,
    DealCancelled,
    DealClosed,
    DealCreated,
    DealFunded,
    DealPaid,
    DealRefunded,
    DealStatusChanged,
)
from contracts.offers import Breakdown, Side, Terms
from services import events, pagination
from services.actors import Caller
from services.deals import queries, rules
from services.errors import Conflict, NotFound

log = structlog.get_logger(__name__)

# The events that name a move's target themselves; any other move writes `deal.status_changed`.
DealMoveEvent = DealFunded | DealCancelled | DealApproved | DealPaid | DealClosed | DealRefunded


def deal_out(row: Mapping[str, Any], base_url: str) -> DealOut:
    """A deal as both sides see it; its tracking link under the service's public address."""
    url = rules.tracking_url(base_url, row["tracking_code"])
    return msgspec.convert({**row, "tracking_url": url}, DealOut)


async def get(conn: asyncpg.Connection, caller: Caller, deal_id: UUID, base_url: str) -> DealOut:
    row = await conn.fetchrow(queries.FIND_DEAL, deal_id, caller.merchant_id, caller.kol_id)
    if row is None:
        raise NotFound("deal", deal_id)
    return deal_out(row, base_url)


async def check_visible(conn: asyncpg.Connection, caller: Caller, deal_id: UUID) -> None:
    """Raise NotFound unless the caller is a side of the deal (or the merchant's partner)."""
    if await conn.fetchval(queries.VISIBLE, deal_id, caller.merchant_id, caller.kol_id) is None:
        raise NotFound("deal", deal_id)


async def list_deals(
    conn: asyncpg.Connection,
    caller: Caller,
    status: DealStatus | None,
    brief_id: UUID | None,
    limit: int,
    cursor: str | None,
    base_url: str,
) -> DealPage:
    page, next_cursor = await pagination.fetch_page(
        conn,
        queries.LIST_DEALS,
        *(caller.merchant_id, caller.kol_id, status.value if status else None, brief_id),
        limit=limit,
        cursor=cursor,
    )
    return DealPage(items=[deal_out(r, base_url) for r in page], next_cursor=next_cursor)


async def move(
    conn: asyncpg.Connection,
    deal_id: UUID,
    target: DealStatus,
    *,
    expect: Collection[DealStatus] | None = None,
    event: DealMoveEvent | None = None,
    at: datetime | None = None,
) -> asyncpg.Record:
    """Move a deal to `target` inside the caller's transaction and record the move's event
    (`event` when the move has one of its own, else `deal.status_changed`). Raises Conflict
    when the deal is not in one of `expect` or the table forbids the move. `at` is the
    approval time of a move to approved. Returns the moved deal (id, parties, status)."""
    found = await conn.fetchrow(queries.LOCK, deal_id)
    if found is None:
        raise NotFound("deal", deal_id)
    current = DealStatus(found["status"])
    expected = frozenset(expect) if expect is not None else None
    if refusal := rules.move_refusal(current, target, expected):
        raise Conflict(refusal)
    moved = await conn.fetchrow(queries.MOVE, deal_id, target.value, at)
    record = event or DealStatusChanged(
        deal_id=deal_id,
        merchant_id=moved["merchant_id"],
        kol_id=moved["kol_id"],
        previous=current,
        status=target,
    )
    await events.append(
        conn, record, aggregate_id=deal_id, merchant_id=moved["merchant_id"],
        kol_id=moved["kol_id"],
    )  # fmt: skip
    log.info("deal_moved", deal_id=str(deal_id), previous=current.value, status=target.value)
    return moved


async def close_attributed(conn: asyncpg.Connection, now: datetime, limit: int = 500) -> int:
    """Close paid deals whose attribution window has ended; returns how many."""
    async with conn.transaction():
        due = await conn.fetch(queries.ATTRIBUTED, now, limit)
        for row in due:
            closed = DealClosed(
                deal_id=row["id"], merchant_id=row["merchant_id"], kol_id=row["kol_id"]
            )
            await move(conn, row["id"], DealStatus.CLOSED, expect={DealStatus.PAID}, event=closed)
    return len(due)


async def open_deal(
    conn: asyncpg.Connection,
    acceptance: rules.Acceptance,
    terms: Terms,
    numbers: Breakdown,
    proposed_at: datetime,
    accepted_at: datetime,
) -> asyncpg.Record:
    """Make the deal of an accepted revision, inside the acceptance's transaction; returns
    its row.

    Proposing a revision is accepting it, so the proposer accepted when it proposed and the
    other side accepted now. A second deal for the same offer is refused by the database."""
    frozen = rules.frozen_terms(acceptance, terms, numbers)
    digest = rules.fingerprint(frozen)
    by_merchant = acceptance.accepted_by is Side.MERCHANT
    a = acceptance
    row = await conn.fetchrow(
        queries.INSERT_DEAL,
        *(a.offer_id, a.brief_id, a.merchant_id, a.kol_id, a.revision),
        msgspec.to_builtins(frozen),
        digest,
        frozen.currency,
        frozen.merchant_pays,
        accepted_at if by_merchant else proposed_at,
        proposed_at if by_merchant else accepted_at,
    )
    if row is None:
        raise Conflict("this offer already has a deal")
    created = DealCreated(
        deal_id=row["id"], offer_id=a.offer_id, brief_id=a.brief_id, merchant_id=a.merchant_id,
        kol_id=a.kol_id, status=DealStatus(row["status"]), terms_sha256=digest,
        merchant_pays=frozen.merchant_pays, currency=frozen.currency,
    )  # fmt: skip
    await events.append(
        conn, created, aggregate_id=row["id"], merchant_id=a.merchant_id, kol_id=a.kol_id
    )
    log.info("deal_created", deal_id=str(row["id"]), offer_id=str(a.offer_id))
    return row
