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
from contracts.payments import DealStatement, FundingOut, FundingStatus
from services import events
from services.actors import Caller
from services.deals import service as deals
from services.errors import Conflict, NotFound
from services.ledger import rules as ledger_rules
from services.ledger import service as ledger
from services.payments import payouts, queries, rules, views
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
    conn: asyncpg.Connection, gateway: StripeGateway, caller: Caller, deal_id: UUID, base_url: str
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
            cancelled = DealCancelled(deal_id=deal_id, merchant_id=deal["merchant_id"])
            await deals.move(conn, deal_id, DealStatus.CANCELLED, event=cancelled)
        else:
            held = await ledger.balance(conn, ledger_rules.escrow(deal_id, deal["currency"]))
            refunded = await refund(conn, gateway, deal, held, "cancelled") if held > 0 else None
            await deals.move(
                conn, deal_id, DealStatus.REFUNDED, expect={DealStatus.FUNDED}, event=refunded
            )
    log.info("deal_cancelled", deal_id=str(deal_id))
    return await deals.get(conn, caller, deal_id, base_url)


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
) -> DealRefunded:
    """Give `amount` of the deal's escrow back to the merchant's card, inside the caller's
    transaction holding the deal's lock (a cancellation, or an operator's dispute decision).
    Returns the refund's event for the caller to record: with the deal's move to refunded
    when it empties the deal, on its own otherwise."""
    deal_id = deal["id"]
    funding = await conn.fetchrow(queries.FIND_FUNDING, deal_id)
    number = await conn.fetchval(queries.COUNT_REFUNDS, deal_id) + 1
    params = {"payment_intent": funding["payment_intent_id"], "amount": amount}
    params["metadata"] = {"deal_id": str(deal_id), "reason": reason}
    made = await gateway.create_refund(params, rules.refund_key(deal_id, number))
    await conn.execute(queries.INSERT_REFUND, deal_id, amount, made.id, reason)
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
    log.info("deal_refunded", deal_id=str(deal_id), amount=amount, reason=reason)
    return refunded


async def refund_in_dispute(
    conn: asyncpg.Connection, gateway: StripeGateway, deal_id: UUID, amount: int
) -> tuple[int, DealRefunded | None]:
    """An operator's dispute decision refunds `amount` to the merchant, clawing back from the
    KOL's unpaid payout what escrow lacks; inside the caller's transaction. Returns the
    clawback, and the refund's event when nothing is left for the KOL (to be recorded with
    the deal's move to refunded)."""
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
    refunded = await refund(conn, gateway, deal, amount, "dispute")
    if plan.escrow_after == 0 and plan.payout_after == 0:
        return plan.clawback, refunded
    await events.append(conn, refunded, aggregate_id=deal_id, merchant_id=deal["merchant_id"])
    return plan.clawback, None


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
