"""Reading offers: finding (and locking) an offer for one of its sides, its rows as contract
and rule structs, the whole offer as both sides see it, the 409 that carries it, and the read
use cases (one offer, a page of offers)."""

from uuid import UUID

import asyncpg
import msgspec

from contracts.common import Platform
from contracts.offers import (
    OfferOut,
    OfferPage,
    OfferStatus,
    OfferSummary,
    RevisionOut,
    Side,
)
from services import pagination
from services.actors import Caller
from services.errors import Conflict, NotFound
from services.negotiation import queries, rules


def side_of(caller: Caller) -> Side:
    return Side.KOL if caller.kind == "kol" else Side.MERCHANT


def other(side: Side) -> Side:
    return Side.MERCHANT if side is Side.KOL else Side.KOL


def awaiting(row: asyncpg.Record) -> Side | None:
    """The side that may answer the latest revision, while the offer is open."""
    if row["status"] != OfferStatus.OPEN:
        return None
    return other(Side(row["proposed_by"]))


def offer_out(row: asyncpg.Record) -> OfferOut:
    revisions = msgspec.json.decode(row["revisions"], type=list[RevisionOut])
    return msgspec.convert(
        dict(row) | {"awaiting": awaiting(row), "revisions": revisions}, OfferOut
    )


def summary(row: asyncpg.Record) -> OfferSummary:
    derived = {"awaiting": awaiting(row), "merchant_pays": row["commitment"]}
    return msgspec.convert(dict(row) | derived, OfferSummary)


async def load(conn: asyncpg.Connection, offer_id: UUID) -> OfferOut:
    return offer_out(await conn.fetchrow(queries.OFFER_OUT, offer_id))


async def conflict(conn: asyncpg.Connection, offer_id: UUID, reason: str) -> Conflict:
    """A 409 carrying the offer as it now is, so the client can answer the right revision."""
    return Conflict(reason, current=msgspec.to_builtins(await load(conn, offer_id)))


async def find(conn: asyncpg.Connection, caller: Caller, offer_id: UUID) -> asyncpg.Record:
    """The offer if the caller is one of its two sides; 404 otherwise."""
    return await _found(conn, queries.FIND_OFFER, caller, offer_id)


async def find_locking_brief(
    conn: asyncpg.Connection, caller: Caller, offer_id: UUID
) -> asyncpg.Record:
    """The offer with the terms frame and budget of its brief, whose row is now locked."""
    return await _found(conn, queries.FIND_LOCKING_BRIEF, caller, offer_id)


async def _found(
    conn: asyncpg.Connection, query: str, caller: Caller, offer_id: UUID
) -> asyncpg.Record:
    row = await conn.fetchrow(query, offer_id, caller.merchant_id, caller.kol_id)
    if row is None:
        raise NotFound("offer", offer_id)
    return row


def state(row: asyncpg.Record) -> rules.OfferState:
    return rules.OfferState(
        status=OfferStatus(row["status"]),
        latest_revision=row["latest_revision"],
        proposed_by=Side(row["proposed_by"]),
        expires_at=row["expires_at"],
    )


def frame(brief: asyncpg.Record) -> rules.BriefFrame:
    return rules.BriefFrame(
        currency=brief["currency"],
        platforms=frozenset(Platform(p) for p in brief["platforms"]),
        posting_from=brief["posting_from"],
        posting_until=brief["posting_until"],
        average_order_value=brief["average_order_value"],
        attribution_days=brief["attribution_days"],
    )


async def get(conn: asyncpg.Connection, caller: Caller, offer_id: UUID) -> OfferOut:
    return offer_out(await _found(conn, queries.OFFER_OUT_FOR, caller, offer_id))


async def list_offers(
    conn: asyncpg.Connection,
    caller: Caller,
    status: OfferStatus | None,
    brief_id: UUID | None,
    limit: int,
    cursor: str | None,
) -> OfferPage:
    page, next_cursor = await pagination.fetch_page(
        conn,
        queries.LIST_OFFERS,
        *(caller.merchant_id, caller.kol_id, status.value if status else None, brief_id),
        limit=limit,
        cursor=cursor,
    )
    return OfferPage(items=[summary(r) for r in page], next_cursor=next_cursor)
