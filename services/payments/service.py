"""Use cases of a deal's money on the merchant's side: fund, cancel (with a full refund before
delivery), the refund an operator's dispute decision makes, and the deal's statement.

Each decision is taken and recorded in one transaction holding the deal's lock; the Stripe
call it needs is made after that transaction commits, and its outcome applied in another
(see `operations`). Requests hold no database connection while Stripe answers.
"""

from typing import Any
from uuid import UUID

import asyncpg
import structlog

from contracts.deals import DealOut, DealStatus
from contracts.events import DealCancelled, DealRefunded
from contracts.ledger import EntryKind
from contracts.payments import DealStatement, FundingOut, FundingStatus
from services import events
from services.actors import Caller
from services.deals import service as deals
from services.errors import Conflict, NotFound
from services.ledger import rules as ledger_rules
from services.ledger import service as ledger
from services.payments import operations, payouts, queries, rules, views
from services.payments.gateway import StripeGateway
from services.payments.operations import Kind, Operation, Status

log = structlog.get_logger(__name__)
MONEY = (Kind.FUNDING, Kind.FUNDING_CANCEL, Kind.REFUND, Kind.PAYOUT)
WAIT = 10.0  # seconds a request waits for a call another request is making


async def fund(
    pool: asyncpg.Pool, gateway: StripeGateway, caller: Caller, deal_id: UUID
) -> FundingOut:
    """The deal's PaymentIntent for creator fee + platform fee, made once."""
    async with pool.acquire() as conn, conn.transaction():
        deal = await _lock_merchant_deal(conn, caller, deal_id)
        if deal["status"] in rules.CLOSED_TO_PAYMENT:
            raise Conflict(f"a {deal['status']} deal takes no payment")
        funding = await conn.fetchrow(queries.FIND_FUNDING, deal_id)
        if funding is None:
            if deal["status"] != rules.FUNDABLE:
                raise Conflict(f"a {deal['status']} deal cannot be funded")
            op = await operations.record(
                conn, Kind.FUNDING, rules.funding_key(deal_id), _intent_params(deal),
                deal_id=deal_id, amount=deal["merchant_pays"], currency=deal["currency"],
            )  # fmt: skip
    if funding is None:
        await _settle(pool, gateway, op, apply_funding)
        async with pool.acquire() as conn:
            funding = await conn.fetchrow(queries.FIND_FUNDING, deal_id)
    secret = funding["client_secret"]
    if secret is None:  # made before client secrets were kept
        secret = (await gateway.retrieve_payment_intent(funding["payment_intent_id"])).client_secret
    return views.funding_out(funding, secret or "")


def _intent_params(deal: asyncpg.Record) -> dict[str, object]:
    return {
        "amount": deal["merchant_pays"],
        "currency": rules.stripe_currency(deal["currency"]),
        "transfer_group": rules.transfer_group(deal["id"]),
        "description": f"kolmarket deal {deal['id']}",
        "metadata": {"deal_id": str(deal["id"]), "merchant_id": str(deal["merchant_id"])},
    }


async def apply_funding(conn: asyncpg.Connection, op: Operation) -> None:
    if op.status is Status.SUCCEEDED and op.result is not None:
        await conn.execute(
            queries.INSERT_FUNDING, op.deal_id, op.stripe_id, op.amount, op.currency,
            op.result.get("client_secret"),
        )  # fmt: skip
        log.info("deal_funding_created", deal_id=str(op.deal_id), payment_intent_id=op.stripe_id)


async def cancel(
    pool: asyncpg.Pool, gateway: StripeGateway, caller: Caller, deal_id: UUID, base_url: str
) -> DealOut:
    """Before funding the deal is cancelled (and its PaymentIntent with it); once funded,
    before delivery, the merchant gets everything in escrow back and the deal is refunded.
    A retry after an unconfirmed refund completes that refund."""
    op: Operation | None = None
    async with pool.acquire() as conn, conn.transaction():
        deal = await _lock_merchant_deal(conn, caller, deal_id)
        pending = await operations.open_of_deal(conn, deal_id, Kind.REFUND, Kind.FUNDING_CANCEL)
        if pending is not None and deal["status"] in (DealStatus.CANCELLED, DealStatus.REFUNDED):
            op = pending  # the cancellation was decided; its call is still to be confirmed
        else:
            if deal["status"] not in rules.CANCELLABLE:
                raise Conflict(f"a {deal['status']} deal can no longer be cancelled")
            await operations.check_clear(conn, deal_id, "the deal cannot be cancelled", *MONEY)
            op = await _decide_cancel(conn, deal)
    if op is not None:
        await _settle(pool, gateway, op, APPLIERS[op.kind], quiet=op.kind is Kind.FUNDING_CANCEL)
    log.info("deal_cancelled", deal_id=str(deal_id))
    async with pool.acquire() as conn:
        return await deals.get(conn, caller, deal_id, base_url)


async def _decide_cancel(conn: asyncpg.Connection, deal: asyncpg.Record) -> Operation | None:
    deal_id = deal["id"]
    if deal["status"] == DealStatus.AWAITING_FUNDING:
        cancelled = DealCancelled(deal_id=deal_id, merchant_id=deal["merchant_id"])
        await deals.move(conn, deal_id, DealStatus.CANCELLED, event=cancelled)
        funding = await conn.fetchrow(queries.FIND_FUNDING, deal_id)
        if funding is None:
            return None
        # A payment that still arrives is refunded when its webhook lands.
        params = {"payment_intent": funding["payment_intent_id"]}
        return await operations.record(
            conn, Kind.FUNDING_CANCEL, rules.cancel_key(deal_id), params, deal_id=deal_id
        )
    held = await ledger.balance(conn, ledger_rules.escrow(deal_id, deal["currency"]))
    await deals.move(conn, deal_id, DealStatus.REFUNDED, expect={DealStatus.FUNDED})
    return await record_refund(conn, deal, held, "cancelled") if held > 0 else None


async def record_refund(
    conn: asyncpg.Connection, deal: asyncpg.Record, amount: int, reason: str
) -> Operation:
    """Decide to give `amount` of the deal's escrow back to the merchant's card, in the
    caller's transaction holding the deal's lock; the refund is booked when Stripe confirms
    it (`apply_refund`)."""
    deal_id = deal["id"]
    funding = await conn.fetchrow(queries.FIND_FUNDING, deal_id)
    number = await conn.fetchval(queries.COUNT_REFUND_OPERATIONS, deal_id) + 1
    params: dict[str, Any] = {"payment_intent": funding["payment_intent_id"], "amount": amount}
    params["metadata"] = {"deal_id": str(deal_id), "reason": reason}
    return await operations.record(
        conn, Kind.REFUND, rules.refund_key(deal_id, number), params, deal_id=deal_id,
        amount=amount, currency=deal["currency"],
        context={"reason": reason, "merchant_id": str(deal["merchant_id"])},
    )  # fmt: skip


async def apply_refund(conn: asyncpg.Connection, op: Operation) -> None:
    """Book a refund Stripe made: the refunds row, the ledger entry and its event."""
    if op.status is not Status.SUCCEEDED:
        log.error("refund_refused", operation_id=str(op.id), deal_id=str(op.deal_id),
                  error=op.error)  # fmt: skip
        return
    assert op.deal_id is not None and op.amount is not None and op.currency is not None
    reason, refund_id = op.context["reason"], op.stripe_id
    await conn.execute(queries.INSERT_REFUND, op.deal_id, op.amount, refund_id, reason)
    lines = ledger_rules.refund(op.deal_id, op.currency, op.amount)
    await ledger.post(
        conn, EntryKind.REFUND, lines, deal_id=op.deal_id, memo=f"refund {refund_id} ({reason})",
        external_id=refund_id,
    )  # fmt: skip
    merchant_id = UUID(op.context["merchant_id"])
    refunded = DealRefunded(
        deal_id=op.deal_id, merchant_id=merchant_id, amount=op.amount, currency=op.currency,
        full=reason == "cancelled", stripe_refund_id=refund_id or "",
    )  # fmt: skip
    await events.append(conn, refunded, aggregate_id=op.deal_id, merchant_id=merchant_id)
    log.info("deal_refunded", deal_id=str(op.deal_id), amount=op.amount, reason=reason)


async def apply_funding_cancel(conn: asyncpg.Connection, op: Operation) -> None:
    if op.status is Status.FAILED:
        # Already paid (or being paid): the payment's webhook refunds the cancelled deal.
        log.warning("funding_cancel_refused", deal_id=str(op.deal_id), error=op.error)


async def record_dispute_refund(
    conn: asyncpg.Connection, deal_id: UUID, amount: int
) -> tuple[Operation, int, bool]:
    """An operator's dispute decision refunds `amount` to the merchant, clawing back from the
    KOL's unpaid payout what escrow lacks; inside the caller's transaction, which holds the
    deal's lock. Returns the refund to make, the clawback, and whether nothing is left for
    the KOL."""
    await operations.check_clear(conn, deal_id, "the refund must wait", *MONEY)
    deal = await conn.fetchrow(queries.LOCK_DEAL, deal_id)
    currency = deal["currency"]
    held = await ledger.balance(conn, ledger_rules.escrow(deal_id, currency))
    released = await conn.fetchrow(queries.PAYOUT_OF_DEAL, deal_id) is not None
    payout = await payouts.lock_unpaid_payout(conn, deal_id)
    unpaid_payout = payout["amount"] if payout is not None else 0
    plan = rules.plan_refund(amount, held, unpaid_payout, released, deal["platform_fee"])
    if plan.clawback:
        assert payout is not None
        lines = ledger_rules.clawback(deal_id, deal["kol_id"], currency, plan.clawback)
        await ledger.post(
            conn, EntryKind.CLAWBACK, lines, deal_id=deal_id, memo="dispute: takedown refund"
        )
        await payouts.reduce_for_clawback(conn, payout, plan.clawback)
    op = await record_refund(conn, deal, amount, "dispute")
    return op, plan.clawback, plan.escrow_after == 0 and plan.payout_after == 0


async def settle_refund(pool: asyncpg.Pool, gateway: StripeGateway, op: Operation) -> None:
    """Make a recorded refund; 503 when Stripe's answer is not known yet."""
    await _settle(pool, gateway, op, apply_refund)


async def _settle(
    pool: asyncpg.Pool,
    gateway: StripeGateway,
    op: Operation,
    apply: operations.Applier,
    *,
    quiet: bool = False,
) -> Operation:
    """Execute `op` now; an unconfirmed outcome answers 503 (unless `quiet`), a refusal 409."""
    done = await operations.execute(pool, gateway, op.id, apply, wait=WAIT)
    if done.status is Status.FAILED and not quiet:
        raise Conflict(f"the payment provider refused the {done.kind}: {done.error}")
    if not done.settled and not quiet:
        raise operations.Unsettled(done)
    return done


async def _lock_merchant_deal(
    conn: asyncpg.Connection, caller: Caller, deal_id: UUID
) -> asyncpg.Record:
    deal = await conn.fetchrow(queries.LOCK_MERCHANT_DEAL, deal_id, caller.merchant_id)
    if deal is None:
        raise NotFound("deal", deal_id)
    return deal


async def statement(conn: asyncpg.Connection, caller: Caller, deal_id: UUID) -> DealStatement:
    """Every journal entry of the deal with its totals, and every call to Stripe about its
    money with its outcome, for either side of it."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        deal = await conn.fetchrow(
            queries.FIND_VISIBLE_DEAL, deal_id, caller.merchant_id, caller.kol_id
        )
        if deal is None:
            raise NotFound("deal", deal_id)
        entries = await ledger.deal_entries(conn, deal_id)
        payout = await conn.fetchrow(queries.PAYOUT_OF_DEAL, deal_id)
        refunds = await conn.fetch(queries.REFUNDS_OF_DEAL, deal_id)
        held = await ledger.balance(conn, ledger_rules.escrow(deal_id, deal["currency"]))
        money = await operations.of_deal(conn, deal_id)
        funding = await funding_status(conn, deal_id)
    return views.statement(deal, entries, payout, refunds, held, money, funding)


async def funding_status(conn: asyncpg.Connection, deal_id: UUID) -> FundingStatus | None:
    """The state of the deal's funding, `unknown` while its PaymentIntent is unconfirmed."""
    found = await conn.fetchrow(queries.FIND_FUNDING, deal_id)
    if found is not None:
        return FundingStatus(found["status"])
    op = await operations.open_of_deal(conn, deal_id, Kind.FUNDING)
    return FundingStatus.UNKNOWN if op is not None else None


APPLIERS: dict[Kind, operations.Applier] = {
    Kind.FUNDING: apply_funding,
    Kind.FUNDING_CANCEL: apply_funding_cancel,
    Kind.REFUND: apply_refund,
}
