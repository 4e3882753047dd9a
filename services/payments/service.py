"""Use cases of a deal's money on the merchant's side: fund, cancel (with a full refund before
delivery), the refund path an operator's dispute decision uses, and the deal's statement.

Each is one transaction holding the deal's row lock; the Stripe call happens inside it, with
an idempotency key derived from our ids, so a retry after a crash between Stripe's answer and
our commit gets the same PaymentIntent or refund back instead of a second one.
"""

from uuid import UUID

import asyncpg
import stripe
import structlog

from contracts.deals import DealOut, DealStatus
from contracts.events import DealCancelled, DealRefunded
from contracts.ledger import EntryKind
from contracts.payments import DealStatement, FundingOut, FundingStatus, RefundOut
from services import events
from services.actors import Caller
from services.deals import queries as deal_queries
from services.deals import service as deals
from services.errors import Conflict, NotFound
from services.ledger import rules as ledger_rules
from services.ledger import service as ledger
from services.payments import queries, rules, views
from services.payments.gateway import StripeGateway

log = structlog.get_logger(__name__)


async def fund(
    conn: asyncpg.Connection, gateway: StripeGateway, caller: Caller, deal_id: UUID
) -> FundingOut:
    """The deal's PaymentIntent for creator fee + platform fee, made once."""
    async with conn.transaction():
        deal = await conn.fetchrow(queries.LOCK_MERCHANT_DEAL, deal_id, caller.merchant_id)
        if deal is None:
            raise NotFound("deal", deal_id)
        if deal["status"] in rules.CLOSED_TO_PAYMENT:
            raise Conflict(f"a {deal['status']} deal takes no payment")
        funding = await conn.fetchrow(queries.FIND_FUNDING, deal_id)
        if funding is not None:
            intent = await gateway.retrieve_payment_intent(funding["payment_intent_id"])
            return views.funding_out(funding, intent.client_secret or "")
        if deal["status"] != rules.FUNDABLE:
            raise Conflict(f"a {deal['status']} deal cannot be funded")
        intent = await gateway.create_payment_intent(
            _intent_params(deal), rules.funding_key(deal_id)
        )
        await conn.execute(
            queries.INSERT_FUNDING, deal_id, intent.id, deal["merchant_pays"], deal["currency"]
        )
    log.info("deal_funding_created", deal_id=str(deal_id), payment_intent_id=intent.id)
    return FundingOut(
        deal_id=deal_id,
        payment_intent_id=intent.id,
        client_secret=intent.client_secret or "",
        amount=deal["merchant_pays"],
        currency=deal["currency"],
        status=FundingStatus.PENDING,
    )


def _intent_params(deal: asyncpg.Record) -> dict[str, object]:
    return {
        "amount": deal["merchant_pays"],
        "currency": rules.stripe_currency(deal["currency"]),
        "transfer_group": rules.transfer_group(deal["id"]),
        "description": f"kolmarket deal {deal['id']}",
        "metadata": {"deal_id": str(deal["id"]), "merchant_id": str(deal["merchant_id"])},
    }


async def cancel(
    conn: asyncpg.Connection, gateway: StripeGateway, caller: Caller, deal_id: UUID
) -> DealOut:
    """Before funding the deal is simply cancelled; once funded, before delivery, the merchant
    gets everything in escrow back."""
    async with conn.transaction():
        deal = await conn.fetchrow(queries.LOCK_MERCHANT_DEAL, deal_id, caller.merchant_id)
        if deal is None:
            raise NotFound("deal", deal_id)
        if deal["status"] not in rules.CANCELLABLE:
            raise Conflict(f"a {deal['status']} deal can no longer be cancelled")
        if deal["status"] == DealStatus.AWAITING_FUNDING:
            await _cancel_payment(conn, gateway, deal_id)
            await _move(conn, deal_id, DealStatus.AWAITING_FUNDING, DealStatus.CANCELLED)
            cancelled = DealCancelled(deal_id=deal_id, merchant_id=deal["merchant_id"])
            await events.append(
                conn, cancelled, aggregate_id=deal_id, merchant_id=cancelled.merchant_id
            )
        else:
            held = await ledger.balance(conn, ledger_rules.escrow(deal_id, deal["currency"]))
            if held > 0:
                await refund(conn, gateway, deal, held, "cancelled")
            await _move(conn, deal_id, DealStatus.FUNDED, DealStatus.REFUNDED)
    log.info("deal_cancelled", deal_id=str(deal_id))
    return await deals.get(conn, caller, deal_id)


async def _cancel_payment(conn: asyncpg.Connection, gateway: StripeGateway, deal_id: UUID) -> None:
    """An unpaid deal's PaymentIntent is cancelled, so the merchant can no longer pay it."""
    funding = await conn.fetchrow(queries.FIND_FUNDING, deal_id)
    if funding is None:
        return
    try:
        await gateway.cancel_payment_intent(funding["payment_intent_id"], rules.cancel_key(deal_id))
    except stripe.InvalidRequestError:
        raise Conflict(
            "the merchant's payment is already under way; cancel once it is confirmed"
        ) from None


async def refund(
    conn: asyncpg.Connection,
    gateway: StripeGateway,
    deal: asyncpg.Record,
    amount: int,
    reason: str,
) -> RefundOut:
    """Give `amount` of the deal's escrow back to the merchant's card, inside the caller's
    transaction holding the deal's lock (a cancellation, or an operator's dispute decision)."""
    deal_id = deal["id"]
    funding = await conn.fetchrow(queries.FIND_FUNDING, deal_id)
    number = await conn.fetchval(queries.COUNT_REFUNDS, deal_id) + 1
    params = {"payment_intent": funding["payment_intent_id"], "amount": amount}
    params["metadata"] = {"deal_id": str(deal_id), "reason": reason}
    made = await gateway.create_refund(params, rules.refund_key(deal_id, number))
    row = await conn.fetchrow(queries.INSERT_REFUND, deal_id, amount, made.id, reason)
    currency = deal["currency"]
    await ledger.post(
        conn, EntryKind.REFUND, ledger_rules.refund(deal_id, currency, amount), deal_id=deal_id,
        memo=f"refund {made.id} ({reason})",
    )  # fmt: skip
    refunded = DealRefunded(
        deal_id=deal_id,
        merchant_id=deal["merchant_id"],
        amount=amount,
        currency=currency,
        full=reason == "cancelled",
        stripe_refund_id=made.id,
    )
    await events.append(conn, refunded, aggregate_id=deal_id, merchant_id=deal["merchant_id"])
    log.info("deal_refunded", deal_id=str(deal_id), amount=amount, reason=reason)
    return views.refund_out(row, currency)


async def _move(conn: asyncpg.Connection, deal_id: UUID, source: str, target: str) -> None:
    if await conn.fetchrow(deal_queries.MOVE, deal_id, [source], target) is None:
        raise Conflict(f"the deal is no longer {source}")


async def statement(conn: asyncpg.Connection, caller: Caller, deal_id: UUID) -> DealStatement:
    """Every journal entry of the deal with its totals, for either side of it."""
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
    return views.statement(deal, entries, payout, refunds, held)
