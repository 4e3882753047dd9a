"""Stripe's webhook: a verified event is stored once by its id and processed in the same
transaction, so a repeated delivery is a no-op and a crash stores nothing (Stripe retries).

Handlers are written for any order of arrival: each one moves state only forward, guarded in
SQL, so an event about an unknown object or a state already reached changes nothing.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import stripe
import structlog

from contracts.deals import DealStatus
from contracts.events import DealFunded
from contracts.ledger import EntryKind
from contracts.payments import WebhookAck
from services.deals import service as deals
from services.errors import Conflict, DomainError
from services.ledger import rules as ledger_rules
from services.ledger import service as ledger
from services.payments import queries
from services.payments.gateway import StripeGateway
from services.payments.payouts import refresh_account

log = structlog.get_logger(__name__)
Handler = Callable[[asyncpg.Connection, StripeGateway, dict[str, Any]], Awaitable[None]]


class BadSignature(DomainError):
    title = "Bad signature"
    type_slug = "bad-signature"


async def receive(
    conn: asyncpg.Connection, gateway: StripeGateway, payload: bytes, signature: str
) -> WebhookAck:
    """Verify first; then store the event id and process the event, once, in one transaction."""
    try:
        event = gateway.verify_event(payload, signature)
    except (ValueError, stripe.SignatureVerificationError) as error:
        log.warning("stripe_event_rejected", reason=type(error).__name__)
        raise BadSignature("the Stripe-Signature header does not verify this payload") from None
    async with conn.transaction():
        if await conn.fetchrow(queries.RECORD_STRIPE_EVENT, event.id, event.type) is None:
            log.info("stripe_event_repeated", event_id=event.id, type=event.type)
            return WebhookAck(received=True, duplicate=True)
        handler = HANDLERS.get(event.type)
        if handler is not None:
            await handler(conn, gateway, event.data.object.to_dict())
    log.info("stripe_event_processed", event_id=event.id, type=event.type)
    return WebhookAck(received=True, duplicate=False)


async def _intent_succeeded(
    conn: asyncpg.Connection, _: StripeGateway, intent: dict[str, Any]
) -> None:
    """Book the escrow and mark the deal funded; unknown or already funded intents are no-ops."""
    funding = await conn.fetchrow(queries.FUNDING_SUCCEEDED, intent["id"])
    if funding is None:
        return
    deal_id, currency = funding["deal_id"], funding["currency"]
    amount = intent.get("amount_received") or intent["amount"]
    await ledger.post(
        conn,
        EntryKind.FUNDING,
        ledger_rules.funding(deal_id, currency, amount),
        deal_id=deal_id,
        memo=f"payment {intent['id']}",
    )
    funded = DealFunded(
        deal_id=deal_id,
        merchant_id=funding["merchant_id"],
        kol_id=funding["kol_id"],
        amount=amount,
        currency=currency,
        payment_intent_id=intent["id"],
    )
    try:
        await deals.move(
            conn, deal_id, DealStatus.FUNDED, expect={DealStatus.AWAITING_FUNDING}, event=funded
        )
    except Conflict:
        log.warning(
            "deal_funded_out_of_state", deal_id=str(deal_id), payment_intent_id=intent["id"]
        )
        return
    log.info("deal_funded", deal_id=str(deal_id), amount=amount)


async def _intent_failed(
    conn: asyncpg.Connection, _: StripeGateway, intent: dict[str, Any]
) -> None:
    error = intent.get("last_payment_error") or {}
    message = error.get("code") or error.get("message") or "payment failed"
    await conn.execute(queries.FUNDING_FAILED, intent["id"], str(message)[:500])


async def _account_updated(
    conn: asyncpg.Connection, gateway: StripeGateway, account: dict[str, Any]
) -> None:
    """Events may arrive out of order, so readiness is read from Stripe, not from the event."""
    known = await conn.fetchval(queries.KNOWN_PAYOUT_ACCOUNT, account["id"])
    if known is None:
        return
    await refresh_account(conn, gateway, account["id"])


HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": _intent_succeeded,
    "payment_intent.payment_failed": _intent_failed,
    "account.updated": _account_updated,
}
