"""Use cases of deals so far: made when an offer is accepted, then read by both sides and
the merchant's partners (funding and delivery follow)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import structlog

from contracts.deals import DealOut, DealPage, DealStatus, DealTerms
from contracts.events import DealCreated
from contracts.offers import Breakdown, Side, Terms
from services import events, pagination
from services.actors import Caller
from services.deals import queries, rules
from services.errors import Conflict, NotFound
from services.settings import Settings

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class TrackingLinks:
    """Where deals' tracking links point: the public base URL, set by the app factory."""

    base_url: str = Settings().public_base_url

    def url(self, code: str) -> str:
        return rules.tracking_url(self.base_url, code)


LINKS = TrackingLinks()


def deal_out(row: Mapping[str, Any]) -> DealOut:
    return DealOut(
        id=row["id"],
        offer_id=row["offer_id"],
        brief_id=row["brief_id"],
        merchant_id=row["merchant_id"],
        kol_id=row["kol_id"],
        status=DealStatus(row["status"]),
        terms=msgspec.convert(row["terms"], DealTerms),
        terms_sha256=row["terms_sha256"],
        merchant_accepted_at=row["merchant_accepted_at"],
        kol_accepted_at=row["kol_accepted_at"],
        created_at=row["created_at"],
        tracking_code=row["tracking_code"],
        tracking_url=LINKS.url(row["tracking_code"]),
    )


async def get(conn: asyncpg.Connection, caller: Caller, deal_id: UUID) -> DealOut:
    row = await conn.fetchrow(queries.FIND_DEAL, deal_id, caller.merchant_id, caller.kol_id)
    if row is None:
        raise NotFound("deal", deal_id)
    return deal_out(row)


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
) -> DealPage:
    page, next_cursor = await pagination.fetch_page(
        conn,
        queries.LIST_DEALS,
        *(caller.merchant_id, caller.kol_id, status.value if status else None, brief_id),
        limit=limit,
        cursor=cursor,
    )
    return DealPage(items=[deal_out(r) for r in page], next_cursor=next_cursor)


async def open_deal(
    conn: asyncpg.Connection,
    acceptance: rules.Acceptance,
    terms: Terms,
    numbers: Breakdown,
    proposed_at: datetime,
    accepted_at: datetime,
) -> DealOut:
    """Make the deal of an accepted revision, inside the acceptance's transaction.

    Proposing a revision is accepting it, so the proposer accepted when it proposed and the
    other side accepted now. A second deal for the same offer is refused by the database.
    The deal's tracking link is made with it, pointing at the brief's product page."""
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
    code = await conn.fetchval(
        queries.INSERT_TRACKING_LINK, rules.new_tracking_code(), row["id"], row["brief_id"]
    )
    deal = deal_out(dict(row, tracking_code=code))
    await events.append(
        conn,
        _created(deal, frozen),
        aggregate_id=deal.id,
        merchant_id=deal.merchant_id,
        kol_id=deal.kol_id,
    )
    log.info("deal_created", deal_id=str(deal.id), offer_id=str(acceptance.offer_id))
    return deal


def _created(deal: DealOut, frozen: DealTerms) -> DealCreated:
    return DealCreated(
        deal_id=deal.id,
        offer_id=deal.offer_id,
        brief_id=deal.brief_id,
        merchant_id=deal.merchant_id,
        kol_id=deal.kol_id,
        status=deal.status,
        terms_sha256=deal.terms_sha256,
        merchant_pays=frozen.merchant_pays,
        currency=frozen.currency,
    )
