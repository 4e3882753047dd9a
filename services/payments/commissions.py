"""Commission settlement: commissions accrue on deals (recorded by tracking through
`accrue`), and on a schedule the merchant's saved card is charged off-session for
everything accrued, then each KOL's share is transferred to their connected account.

A declined charge leaves the settlement `failed` with its error and attempt count, visible to
the merchant, and the next run tries again. Each attempt's idempotency key is the settlement's
id and attempt number, so a crash between Stripe's answer and our commit replays the same
charge, while a retry after a recorded decline is a new charge.
"""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from uuid import UUID

import asyncpg
import stripe
import structlog

from contracts.ledger import EntryKind
from contracts.payments import BillingOut, SettlementOut, SettlementPage
from services.errors import Invalid, NotFound
from services.ledger import rules as ledger_rules
from services.ledger import service as ledger
from services.payments import queries, rules
from services.payments.gateway import StripeGateway
from services.payments.payouts import refresh_account

log = structlog.get_logger(__name__)


async def save_payment_method(
    conn: asyncpg.Connection, gateway: StripeGateway, merchant_id: UUID, payment_method: str
) -> BillingOut:
    """The merchant's Stripe customer (made once) with this card as its default."""
    async with conn.transaction():
        if await conn.fetchrow(queries.LOCK_MERCHANT, merchant_id) is None:
            raise NotFound("merchant", merchant_id)
        billing = await conn.fetchrow(queries.LOCK_BILLING, merchant_id)
        if billing is None:
            params = {"metadata": {"merchant_id": str(merchant_id)}}
            customer = await gateway.create_customer(params, rules.customer_key(merchant_id))
            await conn.execute(queries.INSERT_BILLING, merchant_id, customer.id)
            billing = await conn.fetchrow(queries.LOCK_BILLING, merchant_id)
        try:
            card = await gateway.save_card(billing["stripe_customer_id"], payment_method)
        except stripe.CardError as error:
            raise Invalid("payment_method", error.user_message or "the card was declined") from None
        await conn.execute(queries.SAVE_CARD, merchant_id, card.id)
    last4 = card.card.last4 if card.card else None
    return BillingOut(
        stripe_customer_id=billing["stripe_customer_id"],
        payment_method_id=card.id,
        card_last4=last4,
    )


async def accrue(
    conn: asyncpg.Connection, deal: Mapping[str, Any], amount: int, platform_cut: int
) -> UUID:
    """Record a commission on `deal` (id, merchant_id, kol_id, currency) inside the caller's
    transaction: the merchant owes `amount`, the KOL earns it less `platform_cut`."""
    args = (deal["merchant_id"], deal["kol_id"], deal["currency"], amount, platform_cut)
    accrual_id: UUID = await conn.fetchval(queries.INSERT_ACCRUAL, deal["id"], *args)
    lines = ledger_rules.commission(*args)
    await ledger.post(conn, EntryKind.COMMISSION, lines, deal_id=deal["id"], memo="commission")
    return accrual_id


# Told, in the transfer's transaction, that a commission's KOL share was transferred.
Transferred = Callable[[asyncpg.Connection, UUID, str], Awaitable[None]]


async def _nothing(conn: asyncpg.Connection, accrual_id: UUID, transfer_id: str) -> None:
    return None


async def settle(
    conn: asyncpg.Connection,
    gateway: StripeGateway,
    merchant_id: UUID,
    currency: str,
    on_transferred: Transferred = _nothing,
) -> SettlementOut | None:
    """Charge the merchant for accrued commissions (or retry a failed charge), then transfer
    the KOLs' shares; None when nothing is owed."""
    async with conn.transaction():
        billing = await conn.fetchrow(queries.LOCK_BILLING, merchant_id)
        settlement = await conn.fetchrow(queries.OPEN_SETTLEMENT, merchant_id, currency)
        if settlement is None:
            total = await conn.fetchval(queries.UNSETTLED_TOTAL, merchant_id, currency)
            if total == 0:
                return None
            settlement = await conn.fetchrow(
                queries.INSERT_SETTLEMENT, merchant_id, currency, total
            )
            await conn.execute(queries.CLAIM_ACCRUALS, merchant_id, currency, settlement["id"])
        settlement = await _charge(conn, gateway, billing, settlement)
    if settlement["status"] == "paid":
        await transfer_shares(conn, gateway, merchant_id, on_transferred)
    return _settlement_out(settlement)


async def _charge(
    conn: asyncpg.Connection,
    gateway: StripeGateway,
    billing: asyncpg.Record | None,
    settlement: asyncpg.Record,
) -> asyncpg.Record:
    sid, amount, currency = settlement["id"], settlement["amount"], settlement["currency"]
    if billing is None or billing["payment_method_id"] is None:
        return await _failed(conn, sid, "no saved payment method", None)
    params = {
        "amount": amount,
        "currency": rules.stripe_currency(currency),
        "customer": billing["stripe_customer_id"],
        "payment_method": billing["payment_method_id"],
        "off_session": True,
        "confirm": True,
        "description": f"kolmarket commissions {sid}",
        "metadata": {"settlement_id": str(sid), "merchant_id": str(settlement["merchant_id"])},
    }
    key = rules.settlement_key(sid, settlement["attempts"] + 1)
    try:
        intent = await gateway.create_payment_intent(params, key)
    except stripe.CardError as error:
        declined = error.error.payment_intent if error.error else None
        return await _failed(
            conn, sid, error.code or "card_declined", declined.id if declined else None
        )
    paid = await conn.fetchrow(queries.SETTLEMENT_PAID, sid, intent.id)
    lines = ledger_rules.settlement(settlement["merchant_id"], currency, amount)
    await ledger.post(conn, EntryKind.SETTLEMENT, lines, memo=f"commissions {sid}")
    log.info("commissions_settled", settlement_id=str(sid), amount=amount)
    return paid


async def _failed(
    conn: asyncpg.Connection, settlement_id: UUID, error: str, intent_id: str | None
) -> asyncpg.Record:
    log.warning("commission_settlement_failed", settlement_id=str(settlement_id), error=error)
    return await conn.fetchrow(queries.SETTLEMENT_FAILED, settlement_id, error[:500], intent_id)


async def transfer_shares(
    conn: asyncpg.Connection,
    gateway: StripeGateway,
    merchant_id: UUID,
    on_transferred: Transferred = _nothing,
) -> int:
    """Transfer each settled commission's KOL share whose KOL can receive payouts; the rest
    stays owed to the KOL (shown in their earnings) until a later run."""
    moved = 0
    async with conn.transaction():
        for share in await conn.fetch(queries.UNTRANSFERRED_SHARES, merchant_id):
            account_id = share["stripe_account_id"]
            if not (
                share["payouts_enabled"] or (await refresh_account(conn, gateway, account_id))[0]
            ):
                continue
            params = {
                "amount": share["share"],
                "currency": rules.stripe_currency(share["currency"]),
                "destination": account_id,
                "transfer_group": rules.transfer_group(share["deal_id"]),
                "metadata": {"deal_id": str(share["deal_id"]), "commission_id": str(share["id"])},
            }
            transfer = await gateway.create_transfer(params, rules.commission_key(share["id"]))
            await conn.execute(queries.SHARE_TRANSFERRED, share["id"], transfer.id)
            await on_transferred(conn, share["id"], transfer.id)
            lines = ledger_rules.payout(share["kol_id"], share["currency"], share["share"])
            await ledger.post(
                conn,
                EntryKind.PAYOUT,
                lines,
                deal_id=share["deal_id"],
                memo=f"commission {transfer.id}",
            )
            moved += 1
    return moved


async def settle_all(
    conn: asyncpg.Connection,
    gateway: StripeGateway,
    on_transferred: Transferred = _nothing,
    limit: int = 200,
) -> int:
    """The scheduled run: every merchant with accrued or failed commissions; returns how many
    settlements were paid."""
    paid = 0
    for row in await conn.fetch(queries.MERCHANTS_TO_SETTLE, limit):
        merchant_id, currency = row["merchant_id"], row["currency"]
        settled = await settle(conn, gateway, merchant_id, currency, on_transferred)
        paid += settled is not None and settled.status == "paid"
    return paid


async def settlements(conn: asyncpg.Connection, merchant_id: UUID) -> SettlementPage:
    rows = await conn.fetch(queries.SETTLEMENTS_OF_MERCHANT, merchant_id)
    return SettlementPage(items=[_settlement_out(r) for r in rows])


def _settlement_out(row: asyncpg.Record) -> SettlementOut:
    return SettlementOut(
        id=row["id"],
        currency=row["currency"],
        amount=row["amount"],
        status=row["status"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        payment_intent_id=row["payment_intent_id"],
        paid_at=row["paid_at"],
        created_at=row["created_at"],
    )
