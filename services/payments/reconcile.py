"""Reconciliation: settle every call to Stripe whose outcome we do not know, and compare the
ledger with the Stripe objects it references.

`settle_due` finds operations left `unknown` (their answer was lost), or `pending`/`sent`
whose caller died between steps (their lease has ended), and asks Stripe what happened by
sending the same request with the same idempotency key, which answers with what Stripe did
the first time. A transfer or refund old enough that its key may have expired at Stripe is
looked up by its metadata first.

`audit` compares, for every deal and settlement with money, what the ledger booked with what
Stripe holds (payments received, refunds, transfers, settlement charges) and lists each
difference; `kolmarket reconcile` prints them and a daily job logs them as errors.
"""

# Statements are composed from this module's constant fragments only (hence the file-wide S608
# exemption); values always travel as $n parameters.
# ruff: noqa: S608

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import asyncpg
import stripe
import structlog

from services.payments import accounts, commissions, operations, payouts, rules, service
from services.payments.gateway import StripeGateway
from services.payments.operations import Kind, Operation

log = structlog.get_logger(__name__)

APPLIERS: dict[Kind, operations.Applier] = {
    **service.APPLIERS,
    **commissions.APPLIERS,
    Kind.PAYOUT: payouts.apply_payout,
    Kind.PAYOUT_ACCOUNT: accounts.apply_payout_account,
}
GRACE = timedelta(seconds=30)  # a caller that recorded an operation calls it at once
DUE = f"""
    SELECT {operations.COLUMNS} FROM payment_operations
    WHERE status IN ('pending', 'sent', 'unknown')
      AND (lease_until IS NULL OR lease_until < now())
      AND updated_at < now() - $1::interval
    ORDER BY updated_at
    LIMIT $2
"""


async def settle_due(
    pool: asyncpg.Pool, gateway: StripeGateway, *, grace: timedelta = GRACE, limit: int = 200
) -> int:
    """Settle the operations whose outcome is unknown; returns how many were settled."""
    async with pool.acquire() as conn:
        due = [operations.operation(r) for r in await conn.fetch(DUE, grace, limit)]
    settled = 0
    for op in due:
        done = await operations.execute(pool, gateway, op.id, APPLIERS[op.kind])
        settled += done.settled
        log.info("payment_operation_reconciled", operation_id=str(op.id), kind=op.kind,
                 status=done.status)  # fmt: skip
    return settled


@dataclass(frozen=True, slots=True)
class Mismatch:
    subject: str  # deal <id>, settlement <id>, operation <id>
    what: str  # funded, refunded, transferred, charged, unsettled
    ledger: int
    stripe: int

    def __str__(self) -> str:
        return f"{self.subject}: {self.what} {self.ledger} in the ledger, {self.stripe} at Stripe"


LEDGER_BY_DEAL = """
    SELECT e.deal_id, e.kind, -sum(p.amount)::bigint AS amount
    FROM journal_entries e JOIN postings p ON p.entry_id = e.id
    JOIN ledger_accounts a ON a.id = p.account_id
    WHERE ($1::uuid IS NULL AND e.deal_id IS NOT NULL OR e.deal_id = $1)
      AND a.kind = 'stripe_clearing' AND e.kind IN ('funding', 'refund', 'payout')
    GROUP BY e.deal_id, e.kind
"""
FUNDINGS = "SELECT deal_id, payment_intent_id FROM deal_fundings"
FUNDING_OF_DEAL = "SELECT payment_intent_id FROM deal_fundings WHERE deal_id = $1"
SETTLEMENTS = """
    SELECT s.id, s.payment_intent_id, s.amount, s.status,
           (SELECT count(*) FROM journal_entries e
            WHERE e.kind = 'settlement' AND e.external_id = s.payment_intent_id) AS booked
    FROM commission_settlements s WHERE s.payment_intent_id IS NOT NULL
"""
STALE = f"""
    SELECT {operations.COLUMNS} FROM payment_operations
    WHERE status IN ('pending', 'sent', 'unknown') AND updated_at < now() - interval '1 hour'
"""


async def audit(pool: asyncpg.Pool, gateway: StripeGateway) -> list[Mismatch]:
    """Every difference between the ledger and Stripe, and every call still unsettled."""
    async with pool.acquire() as conn:
        booked: dict[UUID, dict[str, int]] = defaultdict(dict)
        for row in await conn.fetch(LEDGER_BY_DEAL, None):
            booked[row["deal_id"]][row["kind"]] = abs(row["amount"])
        fundings = {r["deal_id"]: r["payment_intent_id"] for r in await conn.fetch(FUNDINGS)}
        settlements = await conn.fetch(SETTLEMENTS)
        stale = [operations.operation(r) for r in await conn.fetch(STALE)]
    found: list[Mismatch] = []
    for deal_id in sorted(set(booked) | set(fundings), key=str):
        found += await _deal(gateway, deal_id, booked.get(deal_id, {}), fundings.get(deal_id))
    for row in settlements:
        found += await _settlement(gateway, row)
    found += [_unsettled(op) for op in stale]
    return found


async def audit_deal(pool: asyncpg.Pool, gateway: StripeGateway, deal_id: UUID) -> list[Mismatch]:
    """The differences between one deal's ledger and what Stripe holds for it."""
    async with pool.acquire() as conn:
        booked = {r["kind"]: abs(r["amount"]) for r in await conn.fetch(LEDGER_BY_DEAL, deal_id)}
        intent_id = await conn.fetchval(FUNDING_OF_DEAL, deal_id)
    return await _deal(gateway, deal_id, booked, intent_id)


async def _deal(
    gateway: StripeGateway, deal_id: UUID, booked: dict[str, int], intent_id: str | None
) -> list[Mismatch]:
    funded = refunded = 0
    if intent_id is not None:
        intent = await gateway.retrieve_payment_intent(intent_id)
        funded = _received(intent)
        refunded = sum(r.amount for r in await gateway.list_refunds(intent_id)
                       if r.status in ("succeeded", "pending"))  # fmt: skip
    transfers = await gateway.list_transfers(rules.transfer_group(deal_id))
    transferred = sum(t.amount - (t.to_dict().get("amount_reversed") or 0) for t in transfers)
    subject = f"deal {deal_id}"
    pairs = (("funded", "funding", funded), ("refunded", "refund", refunded),
             ("transferred", "payout", transferred))  # fmt: skip
    return [
        Mismatch(subject, what, booked.get(kind, 0), at_stripe)
        for what, kind, at_stripe in pairs
        if booked.get(kind, 0) != at_stripe
    ]


async def _settlement(gateway: StripeGateway, row: asyncpg.Record) -> list[Mismatch]:
    intent = await gateway.retrieve_payment_intent(row["payment_intent_id"])
    charged = _received(intent)
    ledger = row["amount"] if row["booked"] else 0
    if charged == ledger:
        return []
    return [Mismatch(f"settlement {row['id']}", "charged", ledger, charged)]


def _received(intent: stripe.PaymentIntent) -> int:
    found = intent.to_dict()
    if found.get("status") != "succeeded":
        return 0
    return int(found.get("amount_received") or found.get("amount") or 0)


def _unsettled(op: Operation) -> Mismatch:
    return Mismatch(f"operation {op.id} ({op.kind}, {op.status})", "unsettled", 0, 0)


async def run_audit(pool: asyncpg.Pool, gateway: StripeGateway) -> list[Mismatch]:
    """The daily audit: settle what can be settled, then log every remaining difference."""
    await settle_due(pool, gateway)
    try:
        found = await audit(pool, gateway)
    except stripe.StripeError as error:
        log.error("reconciliation_failed", error=type(error).__name__)
        raise
    for mismatch in found:
        log.error("ledger_differs_from_stripe", mismatch=str(mismatch))
    log.info("reconciliation_ran", mismatches=len(found))
    return found
