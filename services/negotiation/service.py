"""Use cases of negotiation: invite, apply, counter, accept, decline, withdraw, expire, and
cancel a brief with its open offers.

Each is one transaction. Writes that change what a brief's budget holds lock the brief row
first (always brief before offer), so budget checks cannot race; every offer change is an
UPDATE guarded by status, latest revision, proposer and expiry, so of two concurrent answers
exactly one matches a row and the other gets 409 with the offer as it now is. Creating writes
(invite, apply, counter, accept) honour an idempotency key in the same transaction.
"""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import structlog

from contracts.briefs import BriefOut, BriefStatus, Visibility
from contracts.deals import DealOut
from contracts.events import (
    BriefCancelled,
    OfferAccepted,
    OfferCountered,
    OfferCreated,
    OfferDeclined,
    OfferExpired,
    OfferWithdrawn,
)
from contracts.offers import (
    AnswerIn,
    ApplicationIn,
    Breakdown,
    CounterIn,
    InviteIn,
    OfferOrigin,
    OfferOut,
    OfferStatus,
    Side,
    Terms,
)
from services import events
from services.actors import Caller
from services.briefs import service as briefs
from services.deals import service as deals
from services.deals.rules import Acceptance
from services.errors import Conflict, Invalid, NotFound
from services.idempotency import idempotent
from services.negotiation import offers, queries, rules
from services.negotiation.rules import Action
from services.planning.ratecards import current_rate_card
from services.tracking import links

log = structlog.get_logger(__name__)
OfferEvent = (
    OfferCreated | OfferCountered | OfferAccepted | OfferDeclined | OfferWithdrawn | OfferExpired
)
EXPIRY_BATCH = 500


def _now() -> datetime:
    return datetime.now(UTC)


async def decline(
    conn: asyncpg.Connection, caller: Caller, offer_id: UUID, data: AnswerIn
) -> OfferOut:
    async with conn.transaction():
        return await _close(conn, caller, offer_id, data, Action.DECLINE)


async def withdraw(
    conn: asyncpg.Connection, caller: Caller, offer_id: UUID, data: AnswerIn
) -> OfferOut:
    async with conn.transaction():
        return await _close(conn, caller, offer_id, data, Action.WITHDRAW)


async def expire_due(conn: asyncpg.Connection, batch_size: int = EXPIRY_BATCH) -> int:
    """Expire every open offer past its deadline, a batch per transaction; returns how many."""
    total = 0
    while True:
        async with conn.transaction():
            rows = await conn.fetch(queries.EXPIRE_DUE, batch_size)
            lapsed = [_filed(OfferExpired(**_ids(r), expired_at=r["updated_at"]), r) for r in rows]
            await events.append_many(conn, lapsed)
        total += len(rows)
        if len(rows) < batch_size:
            if total:
                log.info("offers_expired", count=total)
            return total


async def cancel_brief(conn: asyncpg.Connection, caller: Caller, brief_id: UUID) -> BriefOut:
    """Call the campaign off: its open offers are withdrawn by the merchant; deals stand."""
    async with conn.transaction():
        brief = await briefs.start_move(conn, caller, brief_id, BriefStatus.CANCELLED)
        withdrawn = await conn.fetch(queries.WITHDRAW_OPEN_OF_BRIEF, brief_id)
        gone = [_filed(OfferWithdrawn(**_ids(r), withdrawn_by=Side.MERCHANT), r) for r in withdrawn]
        await events.append_many(conn, gone)
        event = BriefCancelled(
            brief_id=brief_id, merchant_id=brief["merchant_id"], withdrawn_offers=len(withdrawn)
        )
        cancelled = await briefs.move(conn, event)
    log.info("brief_cancelled", brief_id=str(brief_id), withdrawn_offers=len(withdrawn))
    return cancelled


@idempotent
async def invite(
    conn: asyncpg.Connection, caller: Caller, brief_id: UUID, data: InviteIn
) -> OfferOut:
    brief = await briefs.lock_for_merchant(conn, caller.merchant_id, brief_id)
    if reason := opening_refusal(OfferOrigin.INVITATION, brief):
        raise Conflict(reason)
    if not await conn.fetchval(queries.KOL_EXISTS, data.kol_id):
        raise NotFound("kol", data.kol_id)
    return await open_offer(conn, caller, brief, data.kol_id, OfferOrigin.INVITATION, data)


@idempotent
async def apply(
    conn: asyncpg.Connection, caller: Caller, brief_id: UUID, data: ApplicationIn
) -> OfferOut:
    assert caller.kol_id is not None
    brief = await briefs.lock_for_kol(conn, caller.kol_id, brief_id)
    if reason := opening_refusal(OfferOrigin.APPLICATION, brief):
        raise Conflict(reason)
    return await open_offer(conn, caller, brief, caller.kol_id, OfferOrigin.APPLICATION, data)


def opening_refusal(origin: OfferOrigin, brief: asyncpg.Record) -> str:
    return rules.opening_refusal(
        origin,
        BriefStatus(brief["status"]),
        Visibility(brief["visibility"]),
        brief["apply_by"],
        _now(),
    )


async def open_offer(
    conn: asyncpg.Connection,
    caller: Caller,
    brief: asyncpg.Record,
    kol_id: UUID,
    origin: OfferOrigin,
    proposal: InviteIn | ApplicationIn,
) -> OfferOut:
    """Open an offer on the brief locked by the caller's transaction (revision 1); invitations
    from a plan open theirs this way too."""
    side, terms = offers.side_of(caller), proposal.terms
    ready = await conn.fetchval(queries.PAYOUT_READY, kol_id)
    if reason := rules.payout_refusal(brief["payout_ready_required"], ready):
        raise Conflict(reason)
    numbers = await _numbers(conn, brief["id"], brief, terms, side, None)
    values = (origin.value, side.value, numbers.merchant_pays, terms.expires_at)
    offer = await conn.fetchrow(
        queries.INSERT_OFFER, brief["id"], brief["merchant_id"], kol_id, *values
    )
    if offer is None:
        existing = await conn.fetchval(queries.OPEN_OFFER_OF, brief["id"], kol_id)
        reason = "the KOL already has an open offer on the brief"
        raise await offers.conflict(conn, existing, reason) if existing else Conflict(reason)
    await _add_revision(conn, caller, offer["id"], 1, side, terms, numbers, proposal.message)
    event = OfferCreated(
        offer_id=offer["id"],
        brief_id=brief["id"],
        revision=1,
        **_proposed(side, terms, numbers),
        merchant_id=brief["merchant_id"],
        kol_id=kol_id,
        origin=origin,
    )
    await _record(conn, event, offer)
    log.info("offer_created", offer_id=str(offer["id"]), origin=origin, proposed_by=side)
    return await offers.load(conn, offer["id"])


@idempotent
async def counter(
    conn: asyncpg.Connection, caller: Caller, offer_id: UUID, data: CounterIn
) -> OfferOut:
    side = offers.side_of(caller)
    offer = await offers.find_locking_brief(conn, caller, offer_id)
    reason = rules.refusal(
        Action.COUNTER, offers.state(offer), side, data.revision, _now()
    ) or rules.counter_refusal(offer["latest_revision"], offer["max_counter_rounds"])
    if reason:
        raise await offers.conflict(conn, offer_id, reason)
    terms = data.terms
    numbers = await _numbers(conn, offer["brief_id"], offer, terms, side, offer_id)
    values = (side.value, numbers.merchant_pays, terms.expires_at)
    number = await conn.fetchval(queries.COUNTER, offer_id, data.revision, *values)
    if number is None:
        raise await _answered_meanwhile(conn, offer_id, data.revision)
    await _add_revision(conn, caller, offer_id, number, side, terms, numbers, data.message)
    event = OfferCountered(
        offer_id=offer_id,
        brief_id=offer["brief_id"],
        revision=number,
        **_proposed(side, terms, numbers),
    )
    await _record(conn, event, offer)
    log.info("offer_countered", offer_id=str(offer_id), revision=number, proposed_by=side)
    return await offers.load(conn, offer_id)


@idempotent
async def accept(
    conn: asyncpg.Connection, caller: Caller, offer_id: UUID, data: AnswerIn, base_url: str
) -> DealOut:
    """Accept the latest revision: the offer closes and its deal (with its tracking link,
    under `base_url`) is made, both at once."""
    side = offers.side_of(caller)
    offer = await offers.find_locking_brief(conn, caller, offer_id)
    if reason := rules.refusal(Action.ACCEPT, offers.state(offer), side, data.revision, _now()):
        raise await offers.conflict(conn, offer_id, reason)
    revision = await conn.fetchrow(queries.REVISION, offer_id, data.revision)
    terms = msgspec.convert(revision["terms"], Terms)
    numbers = msgspec.convert(revision["breakdown"], Breakdown)
    amount = numbers.merchant_pays
    budget = offer["budget"]
    if reason := await _budget_refusal(conn, offer["brief_id"], budget, offer_id, amount, side):
        raise await offers.conflict(conn, offer_id, reason)
    status = OfferStatus.ACCEPTED.value
    answered = await conn.fetchrow(queries.ANSWER, offer_id, data.revision, side.value, status)
    if answered is None:
        raise await _answered_meanwhile(conn, offer_id, data.revision)
    acceptance = Acceptance(
        offer_id=offer_id,
        revision=data.revision,
        brief_id=answered["brief_id"],
        merchant_id=answered["merchant_id"],
        kol_id=answered["kol_id"],
        accepted_by=side,
    )
    made = await deals.open_deal(
        conn, acceptance, terms, numbers, revision["created_at"], answered["updated_at"]
    )
    code = await links.open_link(conn, made["id"], acceptance.brief_id)
    event = OfferAccepted(
        offer_id=offer_id,
        brief_id=acceptance.brief_id,
        revision=data.revision,
        accepted_by=side,
        deal_id=made["id"],
    )
    await _record(conn, event, answered)
    log.info("offer_accepted", offer_id=str(offer_id), deal_id=str(made["id"]), by=side)
    return deals.deal_out({**made, "tracking_code": code}, base_url)


async def _close(
    conn: asyncpg.Connection, caller: Caller, offer_id: UUID, data: AnswerIn, action: Action
) -> OfferOut:
    """Decline (the responder's answer) or withdraw (the proposer's) the named revision."""
    side = offers.side_of(caller)
    offer = await offers.find(conn, caller, offer_id)
    if reason := rules.refusal(action, offers.state(offer), side, data.revision, _now()):
        raise await offers.conflict(conn, offer_id, reason)
    event: OfferDeclined | OfferWithdrawn
    if action is Action.WITHDRAW:
        row = await conn.fetchrow(queries.WITHDRAW, offer_id, data.revision, side.value)
        event = OfferWithdrawn(
            offer_id=offer_id,
            brief_id=offer["brief_id"],
            revision=data.revision,
            withdrawn_by=side,
        )
    else:
        status = OfferStatus.DECLINED.value
        row = await conn.fetchrow(queries.ANSWER, offer_id, data.revision, side.value, status)
        event = OfferDeclined(
            offer_id=offer_id, brief_id=offer["brief_id"], revision=data.revision, declined_by=side
        )
    if row is None:
        raise await _answered_meanwhile(conn, offer_id, data.revision)
    await _record(conn, event, row)
    log.info(f"offer_{rules.MOVES[action].target}", offer_id=str(offer_id), by=side)
    return await offers.load(conn, offer_id)


async def _numbers(
    conn: asyncpg.Connection,
    brief_id: UUID,
    brief: asyncpg.Record,
    terms: Terms,
    side: Side,
    offer_id: UUID | None,
) -> Breakdown:
    """The breakdown of `terms` proposed by `side`; the merchant's must fit its budget."""
    frame = offers.frame(brief)
    rules.check_terms(terms, frame, _now())
    card = await current_rate_card(conn)
    numbers = rules.breakdown(terms, frame, card.take_rate_bp, card.version)
    amount, budget = numbers.merchant_pays, brief["budget"]
    if side is Side.MERCHANT and (
        reason := await _budget_refusal(conn, brief_id, budget, offer_id, amount, side)
    ):
        raise Invalid("terms.fixed_fee", reason)
    return numbers


async def _budget_refusal(
    conn: asyncpg.Connection,
    brief_id: UUID,
    budget: int,
    offer_id: UUID | None,
    amount: int,
    side: Side,
) -> str:
    """Why the brief cannot hold `amount` more. The merchant keeps room for every other open
    offer it proposed; a KOL accepting the merchant's terms only needs the deals to fit."""
    use = await briefs.budget_use(conn, brief_id, offer_id)
    reserved = use.reserved if side is Side.MERCHANT else 0
    return rules.budget_refusal(budget, use.committed, reserved, amount)


async def _add_revision(
    conn: asyncpg.Connection,
    caller: Caller,
    offer_id: UUID,
    number: int,
    side: Side,
    terms: Terms,
    numbers: Breakdown,
    message: str,
) -> None:
    builtins = (msgspec.to_builtins(terms), msgspec.to_builtins(numbers))
    await conn.execute(
        queries.INSERT_REVISION, offer_id, number, side.value, caller.user_id, *builtins, message
    )


def _ids(offer: asyncpg.Record) -> dict[str, Any]:
    """The ids every event of the offer names: the offer, its brief, its latest revision."""
    return {
        "offer_id": offer["id"],
        "brief_id": offer["brief_id"],
        "revision": offer["latest_revision"],
    }


def _proposed(side: Side, terms: Terms, numbers: Breakdown) -> dict[str, Any]:
    """What the events of a new revision tell of it: who proposed it, and its price."""
    return {
        "proposed_by": side,
        "fixed_fee": terms.fixed_fee,
        "merchant_pays": numbers.merchant_pays,
        "currency": terms.currency,
        "expires_at": terms.expires_at,
    }


def _filed(event: OfferEvent, offer: asyncpg.Record) -> tuple[OfferEvent, UUID, UUID, UUID]:
    """The event with the ids the outbox files it under: the offer, its merchant, its KOL."""
    return event, offer["id"], offer["merchant_id"], offer["kol_id"]


async def _record(conn: asyncpg.Connection, event: OfferEvent, offer: asyncpg.Record) -> None:
    await events.append(
        conn,
        event,
        aggregate_id=offer["id"],
        merchant_id=offer["merchant_id"],
        kol_id=offer["kol_id"],
    )


async def _answered_meanwhile(conn: asyncpg.Connection, offer_id: UUID, revision: int) -> Conflict:
    return await offers.conflict(conn, offer_id, f"revision {revision} was answered meanwhile")
