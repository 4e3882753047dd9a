"""Commission settlement: commissions accrue on deals (booked by tracking through `accrue`),
and on a schedule the merchant's saved card is charged off-session for everything accrued,
then each KOL's share is transferred to their connected account.

A settlement is a stable object: it is made (claiming the accruals it covers) and committed
before any charge, and it has one PaymentIntent for its life, created under the key
`settlement-<id>`. A declined charge leaves it `failed` with its error, visible to the
merchant; the next run confirms the same PaymentIntent again (with the card saved by then),
so however many times runs crash, retry or lose Stripe's answer, a PaymentIntent succeeds at
most once and the merchant pays a settlement once. Each KOL share's transfer is recorded with
the key `commission-<accrual id>` before it is sent.
"""

from collections.abc import Mapping
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import stripe
import structlog

from contracts.ledger import EntryKind
from contracts.payments import BillingOut, SettlementOut, SettlementPage
from services.errors import Invalid, Unavailable
from services.ledger import rules as ledger_rules
from services.ledger import service as ledger
from services.payments import accounts, operations, queries, rules
from services.payments.gateway import StripeGateway
from services.payments.operations import Kind, Operation, Status

log = structlog.get_logger(__name__)
CHARGES = (Kind.SETTLEMENT, Kind.SETTLEMENT_RETRY)


async def save_payment_method(
    pool: asyncpg.Pool, gateway: StripeGateway, merchant_id: UUID, payment_method: str
) -> BillingOut:
    """The merchant's Stripe customer (made once) with this card as its default."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(queries.LOCK_BILLING_OF, str(merchant_id))
        billing = await conn.fetchrow(queries.LOCK_BILLING, merchant_id)
        if billing is None:
            key = await operations.next_key(
                conn, rules.customer_key(merchant_id), merchant_id, Kind.CUSTOMER
            )
            params = {"metadata": {"merchant_id": str(merchant_id)}}
            op = await operations.record(conn, Kind.CUSTOMER, key, params, subject_id=merchant_id)
    if billing is None:
        done = await operations.execute(pool, gateway, op.id, apply_customer)
        if not done.settled:
            raise operations.Unsettled(done)
        async with pool.acquire() as conn:
            billing = await conn.fetchrow(queries.LOCK_BILLING, merchant_id)
    try:
        card = await gateway.save_card(billing["stripe_customer_id"], payment_method)
    except stripe.CardError as error:
        raise Invalid("payment_method", error.user_message or "the card was declined") from None
    except stripe.InvalidRequestError as error:  # unknown, or another customer's, card
        message = "Stripe has no such payment method" if error.http_status == 404 else None
        raise Invalid("payment_method", message or error.user_message or str(error)) from None
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError):
        # Attaching a card to its customer again is harmless: the merchant may send it again.
        raise Unavailable(
            "the payment provider did not answer; send the card again",
            headers={"Retry-After": "5"},
        ) from None
    async with pool.acquire() as conn:
        await conn.execute(queries.SAVE_CARD, merchant_id, card.id)
    last4 = card.card.last4 if card.card else None
    return BillingOut(
        stripe_customer_id=billing["stripe_customer_id"],
        payment_method_id=card.id,
        card_last4=last4,
    )


async def apply_customer(conn: asyncpg.Connection, op: Operation) -> None:
    if op.status is Status.SUCCEEDED:
        await conn.execute(queries.INSERT_BILLING, op.subject_id, op.stripe_id)


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


async def settle(
    pool: asyncpg.Pool, gateway: StripeGateway, merchant_id: UUID, currency: str
) -> SettlementOut | None:
    """Charge the merchant for accrued commissions (or retry a declined charge), then transfer
    the KOLs' shares; None when nothing is owed (the shares of settlements paid before that
    still wait for their transfer are sent then)."""
    async with pool.acquire() as conn, conn.transaction():
        settlement = await _open_settlement(conn, merchant_id, currency)
        charge = await _record_charge(conn, settlement) if settlement is not None else None
    if settlement is None:
        await transfer_shares(pool, gateway, merchant_id)
        return None
    if charge is not None:
        await operations.execute(pool, gateway, charge.id, apply_charge)
    async with pool.acquire() as conn:
        settlement = await conn.fetchrow(queries.FIND_SETTLEMENT, settlement["id"])
    if settlement["status"] == "paid":
        await transfer_shares(pool, gateway, merchant_id)
    return _settlement_out(settlement)


async def _open_settlement(
    conn: asyncpg.Connection, merchant_id: UUID, currency: str
) -> asyncpg.Record | None:
    """The merchant's unpaid settlement in `currency`, or a new one claiming every unsettled
    accrual; None when nothing is owed."""
    settlement = await conn.fetchrow(queries.OPEN_SETTLEMENT, merchant_id, currency)
    if settlement is not None:
        return settlement
    total = await conn.fetchval(queries.UNSETTLED_TOTAL, merchant_id, currency)
    if total == 0:
        return None
    settlement = await conn.fetchrow(queries.INSERT_SETTLEMENT, merchant_id, currency, total)
    await conn.execute(queries.CLAIM_ACCRUALS, merchant_id, currency, settlement["id"])
    return settlement


async def _record_charge(conn: asyncpg.Connection, settlement: asyncpg.Record) -> Operation | None:
    """The settlement's charge under way, or a new one: its PaymentIntent made (and confirmed
    off-session), or, after a decline, confirmed again."""
    sid = settlement["id"]
    under_way = await operations.open_of_subject(conn, sid, *CHARGES)
    if under_way is not None:
        return under_way
    billing = await conn.fetchrow(queries.LOCK_BILLING, settlement["merchant_id"])
    if billing is None or billing["payment_method_id"] is None:
        await _failed(conn, sid, "no saved payment method", None)
        return None
    card = {"payment_method": billing["payment_method_id"], "off_session": True}
    base = rules.settlement_key(sid)
    if settlement["payment_intent_id"] is not None:
        key = await operations.next_key(conn, f"{base}-confirm", sid, Kind.SETTLEMENT_RETRY)
        params = {"payment_intent": settlement["payment_intent_id"], **card}
        return await operations.record(conn, Kind.SETTLEMENT_RETRY, key, params, subject_id=sid)
    params = {
        "amount": settlement["amount"],
        "currency": rules.stripe_currency(settlement["currency"]),
        "customer": billing["stripe_customer_id"],
        "confirm": True,
        "description": f"kolmarket commissions {sid}",
        "metadata": {"settlement_id": str(sid), "merchant_id": str(settlement["merchant_id"])},
        **card,
    }
    key = await operations.next_key(conn, base, sid, Kind.SETTLEMENT)
    return await operations.record(
        conn, Kind.SETTLEMENT, key, params, subject_id=sid, amount=settlement["amount"],
        currency=settlement["currency"],
    )  # fmt: skip


async def apply_charge(conn: asyncpg.Connection, op: Operation) -> None:
    """Book a settlement's charge: paid (and in the ledger), or declined with its reason."""
    settlement = await conn.fetchrow(queries.LOCK_SETTLEMENT, op.subject_id)
    if settlement["status"] == "paid":
        return
    if op.status is not Status.SUCCEEDED:
        intent = (op.result or {}).get("payment_intent")
        await _failed(conn, settlement["id"], op.error or "card_declined", intent)
        return
    sid, amount, currency = settlement["id"], settlement["amount"], settlement["currency"]
    await conn.execute(queries.SETTLEMENT_PAID, sid, op.stripe_id)
    lines = ledger_rules.settlement(settlement["merchant_id"], currency, amount)
    await ledger.post(
        conn, EntryKind.SETTLEMENT, lines, memo=f"commissions {sid}", external_id=op.stripe_id
    )
    log.info("commissions_settled", settlement_id=str(sid), amount=amount)


async def _failed(
    conn: asyncpg.Connection, settlement_id: UUID, error: str, intent_id: str | None
) -> None:
    log.warning("commission_settlement_failed", settlement_id=str(settlement_id), error=error)
    await conn.execute(queries.SETTLEMENT_FAILED, settlement_id, error[:500], intent_id)


async def transfer_shares(pool: asyncpg.Pool, gateway: StripeGateway, merchant_id: UUID) -> int:
    """Transfer each settled commission's KOL share whose KOL can receive payouts; the rest
    stays owed to the KOL (shown in their earnings) until a later run."""
    async with pool.acquire() as conn:
        waiting = await conn.fetch(queries.UNTRANSFERRED_SHARES, merchant_id)
    for account in {s["stripe_account_id"] for s in waiting if not s["payouts_enabled"]}:
        await accounts.refresh_account(pool, gateway, account)
    async with pool.acquire() as conn, conn.transaction():
        transfers = [
            op
            for share in await conn.fetch(queries.LOCK_UNTRANSFERRED_SHARES, merchant_id)
            if (op := await _record_share(conn, share)) is not None
        ]
    moved = 0
    for op in transfers:
        done = await operations.execute(pool, gateway, op.id, apply_share)
        moved += done.status is Status.SUCCEEDED
    return moved


async def _record_share(conn: asyncpg.Connection, share: asyncpg.Record) -> Operation | None:
    if not share["payouts_enabled"]:
        return None
    accrual_id = share["id"]
    under_way = await operations.open_of_subject(conn, accrual_id, Kind.COMMISSION)
    if under_way is not None:
        return under_way
    key = await operations.next_key(
        conn, rules.commission_key(accrual_id), accrual_id, Kind.COMMISSION
    )
    params = {
        "amount": share["share"],
        "currency": rules.stripe_currency(share["currency"]),
        "destination": share["stripe_account_id"],
        "transfer_group": rules.transfer_group(share["deal_id"]),
        "metadata": {"deal_id": str(share["deal_id"]), "commission_id": str(accrual_id)},
    }
    return await operations.record(
        conn, Kind.COMMISSION, key, params, deal_id=share["deal_id"], subject_id=accrual_id,
        amount=share["share"], currency=share["currency"],
        context={"kol_id": str(share["kol_id"])},
    )  # fmt: skip


async def apply_share(conn: asyncpg.Connection, op: Operation) -> None:
    """Book a KOL's commission share Stripe transferred; a refused one waits for a later run."""
    if op.status is not Status.SUCCEEDED:
        log.warning("commission_transfer_failed", accrual_id=str(op.subject_id), error=op.error)
        return
    assert op.amount is not None and op.currency is not None
    await conn.execute(queries.SHARE_TRANSFERRED, op.subject_id, op.stripe_id)
    lines = ledger_rules.payout(UUID(op.context["kol_id"]), op.currency, op.amount)
    await ledger.post(
        conn, EntryKind.PAYOUT, lines, deal_id=op.deal_id, memo=f"commission {op.stripe_id}",
        external_id=op.stripe_id,
    )  # fmt: skip


async def settle_all(pool: asyncpg.Pool, gateway: StripeGateway, limit: int = 200) -> int:
    """The scheduled run: every merchant with accrued or failed commissions; returns how many
    settlements were paid."""
    async with pool.acquire() as conn:
        owing = await conn.fetch(queries.MERCHANTS_TO_SETTLE, limit)
    paid = 0
    for row in owing:
        settled = await settle(pool, gateway, row["merchant_id"], row["currency"])
        paid += settled is not None and settled.status == "paid"
    return paid


async def settlements(conn: asyncpg.Connection, merchant_id: UUID) -> SettlementPage:
    rows = await conn.fetch(queries.SETTLEMENTS_OF_MERCHANT, merchant_id)
    return SettlementPage(items=[_settlement_out(r) for r in rows])


def _settlement_out(row: asyncpg.Record) -> SettlementOut:
    return msgspec.convert(dict(row), SettlementOut)


APPLIERS: dict[Kind, operations.Applier] = {
    Kind.CUSTOMER: apply_customer,
    Kind.SETTLEMENT: apply_charge,
    Kind.SETTLEMENT_RETRY: apply_charge,
    Kind.COMMISSION: apply_share,
}
