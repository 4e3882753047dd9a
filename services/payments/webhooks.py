"""Stripe's webhook: a verified event is stored once by its id and processed in the same
transaction, so a repeated delivery is a no-op and a crash stores nothing (Stripe retries).

Handlers are written for any order of arrival: each one moves state only forward, guarded in
SQL, so an event about an unknown object or a state already reached changes nothing. What an
event needs from Stripe (an account's readiness) is read before the transaction; a refund it
calls for (a payment that arrived after its deal was cancelled) is recorded in it and made
after it commits.
"""

import time
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
from services.payments import operations, queries, service
from services.payments.gateway import StripeGateway
from services.payments.operations import Operation

log = structlog.get_logger(__name__)
TOLERANCE = 300  # seconds a signature's timestamp may be off, either way
Handler = Callable[[asyncpg.Connection, dict[str, Any], Any], Awaitable[Operation | None]]


class BadSignature(DomainError):
    """The sender is not Stripe, as far as we can tell: unauthenticated."""

    status = 401
    title = "Bad signature"
    type_slug = "bad-signature"


class BadEvent(DomainError):
    title = "Bad event"
    type_slug = "bad-event"


async def receive(
    pool: asyncpg.Pool, gateway: StripeGateway, payload: bytes, signature: str
) -> WebhookAck:
    """Verify first; then store the event id and process the event, once, in one transaction."""
    event = _verified(gateway, payload, signature)
    raw = event.to_dict()
    obj = (raw.get("data") or {}).get("object")
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
        raise BadEvent("the event carries no data.object.id")
    fetched = await _fetched(gateway, event.type, obj)
    async with pool.acquire() as conn, conn.transaction():
        if await conn.fetchrow(queries.RECORD_STRIPE_EVENT, event.id, event.type) is None:
            log.info("stripe_event_repeated", event_id=event.id, type=event.type)
            return WebhookAck(received=True, duplicate=True)
        handler = HANDLERS.get(event.type)
        refund = await handler(conn, obj, fetched) if handler is not None else None
    if refund is not None:
        await operations.execute(pool, gateway, refund.id, service.apply_refund)
    log.info("stripe_event_processed", event_id=event.id, type=event.type)
    return WebhookAck(received=True, duplicate=False)


def _verified(gateway: StripeGateway, payload: bytes, signature: str) -> stripe.Event:
    """The event, if Stripe signed it recently: a timestamp too far in the past or the future
    is refused."""
    stamp = next((p[2:] for p in signature.split(",") if p.startswith("t=")), "")
    try:
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > TOLERANCE:
            raise stripe.SignatureVerificationError("timestamp outside the tolerance", signature)
        return gateway.verify_event(payload, signature)
    except (ValueError, stripe.SignatureVerificationError) as error:
        log.warning("stripe_event_rejected", reason=type(error).__name__)
        raise BadSignature("the Stripe-Signature header does not verify this payload") from None


async def _fetched(gateway: StripeGateway, kind: str, obj: dict[str, Any]) -> Any:
    """What a handler needs from Stripe, read before any transaction opens."""
    if kind == "account.updated":
        return await gateway.retrieve_account(obj["id"])
    return None


async def _intent_succeeded(
    conn: asyncpg.Connection, intent: dict[str, Any], _: Any
) -> Operation | None:
    """Book the escrow and mark the deal funded; unknown or already funded intents are no-ops.
    A payment that arrives after its deal was cancelled is refunded in full."""
    funding = await conn.fetchrow(queries.FUNDING_SUCCEEDED, intent["id"])
    if funding is None or await ledger.booked(conn, intent["id"]):
        return None
    deal_id, currency = funding["deal_id"], funding["currency"]
    amount = intent.get("amount_received") or intent["amount"]
    await ledger.post(
        conn, EntryKind.FUNDING, ledger_rules.funding(deal_id, currency, amount),
        deal_id=deal_id, memo=f"payment {intent['id']}", external_id=intent["id"],
    )  # fmt: skip
    funded = DealFunded(
        deal_id=deal_id, merchant_id=funding["merchant_id"], kol_id=funding["kol_id"],
        amount=amount, currency=currency, payment_intent_id=intent["id"],
    )  # fmt: skip
    try:
        await deals.move(
            conn, deal_id, DealStatus.FUNDED, expect={DealStatus.AWAITING_FUNDING}, event=funded
        )
    except Conflict:
        log.warning("deal_paid_after_cancel", deal_id=str(deal_id), payment_intent_id=intent["id"])
        deal = await conn.fetchrow(queries.LOCK_DEAL, deal_id)
        return await service.record_refund(conn, deal, amount, "cancelled")
    log.info("deal_funded", deal_id=str(deal_id), amount=amount)
    return None


async def _intent_failed(
    conn: asyncpg.Connection, intent: dict[str, Any], _: Any
) -> Operation | None:
    error = intent.get("last_payment_error") or {}
    message = error.get("code") or error.get("message") or "payment failed"
    await conn.execute(queries.FUNDING_FAILED, intent["id"], str(message)[:500])
    return None


async def _account_updated(
    conn: asyncpg.Connection, account: dict[str, Any], fetched: Any
) -> Operation | None:
    """Events may arrive out of order, so readiness is read from Stripe, not from the event."""
    ready, submitted = bool(fetched.payouts_enabled), bool(fetched.details_submitted)
    await conn.execute(queries.UPDATE_PAYOUT_ACCOUNT, account["id"], ready, submitted)
    return None


HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": _intent_succeeded,
    "payment_intent.payment_failed": _intent_failed,
    "account.updated": _account_updated,
}
