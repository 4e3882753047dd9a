"""Every call to Stripe, made exactly once: record, call, apply, reconcile.

1. **Record**: `record` writes the operation in the business transaction that decides it,
   with an idempotency key derived from the business object (`payout-<id>`), never from an
   attempt; it commits with the decision.
2. **Call**: `execute` takes a short lease on the operation (so two processes never call at
   once) and calls Stripe outside any transaction, with connect and read timeouts and a
   bounded number of retries that reuse the key.
3. **Apply**: in a second transaction the outcome is written on the operation and handed to
   the kind's applier, which books the ledger and moves the business rows.
4. **Reconcile**: an operation whose answer was lost stays `unknown` (so does one whose caller
   died between steps, once its lease ends) and blocks conflicting movements of the same
   money. `reconcile.settle_due` calls it again with the same key, which answers with what
   Stripe did the first time, and applies that.

Every step is safe to run twice: the key makes the call idempotent at Stripe, the lease token
lets only one process apply an outcome, and the ledger books a Stripe object at most once.
"""

# Statements are composed from this module's constant fragments only (hence the file-wide S608
# exemption); values always travel as $n parameters.
# ruff: noqa: S608

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import msgspec
import stripe
import structlog

from contracts.payments import OperationKind, OperationStatus
from services.errors import Conflict, Unavailable
from services.payments.gateway import StripeGateway

log = structlog.get_logger(__name__)

LEASE = timedelta(seconds=60)  # longer than a call with all its retries can take
RETRY_AFTER = 5  # seconds a client waits before asking again about an unsettled operation


Kind = OperationKind
Status = OperationStatus
OPEN = (Status.PENDING, Status.SENT, Status.UNKNOWN)


class Operation(msgspec.Struct, kw_only=True, frozen=True):
    id: UUID
    kind: Kind
    idempotency_key: str
    deal_id: UUID | None
    subject_id: UUID | None
    amount: int | None
    currency: str | None
    params: dict[str, Any]
    context: dict[str, Any]
    status: Status
    stripe_id: str | None
    result: dict[str, Any] | None
    error: str | None
    attempts: int
    created_at: datetime

    @property
    def settled(self) -> bool:
        return self.status in (Status.SUCCEEDED, Status.FAILED)


COLUMNS = """
    id, kind, idempotency_key, deal_id, subject_id, amount, currency, params, context, status,
    stripe_id, result, error, attempts, created_at
"""
RECORD = f"""
    INSERT INTO payment_operations (kind, idempotency_key, deal_id, subject_id, amount,
                                    currency, params, context)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING {COLUMNS}
"""
FIND_BY_KEY = f"SELECT {COLUMNS} FROM payment_operations WHERE idempotency_key = $1"
FIND = f"SELECT {COLUMNS} FROM payment_operations WHERE id = $1"
CLAIM = f"""
    UPDATE payment_operations
    SET status = 'sent', attempts = attempts + 1, lease_token = $2,
        lease_until = now() + $3::interval, updated_at = now()
    WHERE id = $1 AND status IN ('pending', 'sent', 'unknown')
      AND (lease_until IS NULL OR lease_until < now())
    RETURNING {COLUMNS}
"""
SETTLE = f"""
    UPDATE payment_operations
    SET status = $3, stripe_id = $4, result = $5, error = $6, lease_token = NULL,
        lease_until = NULL, updated_at = now(), settled_at = now()
    WHERE id = $1 AND lease_token = $2
    RETURNING {COLUMNS}
"""
LOST = """
    UPDATE payment_operations
    SET status = 'unknown', error = $3, lease_token = NULL, lease_until = NULL, updated_at = now()
    WHERE id = $1 AND lease_token = $2
"""
OPEN_OF_DEAL = f"""
    SELECT {COLUMNS} FROM payment_operations
    WHERE deal_id = $1 AND status IN ('pending', 'sent', 'unknown') AND kind = any($2::text[])
    ORDER BY created_at LIMIT 1
"""
OPEN_OF_SUBJECT = f"""
    SELECT {COLUMNS} FROM payment_operations
    WHERE subject_id = $1 AND status IN ('pending', 'sent', 'unknown') AND kind = any($2::text[])
    ORDER BY created_at LIMIT 1
"""
FAILED_OF_SUBJECT = """
    SELECT count(*) FROM payment_operations
    WHERE subject_id = $1 AND kind = any($2::text[]) AND status = 'failed'
"""
OF_DEAL = f"""
    SELECT {COLUMNS} FROM payment_operations WHERE deal_id = $1 ORDER BY created_at, id LIMIT 200
"""


def operation(row: Mapping[str, Any]) -> Operation:
    return msgspec.convert(dict(row), Operation)


async def record(
    conn: asyncpg.Connection,
    kind: Kind,
    key: str,
    params: dict[str, Any],
    *,
    deal_id: UUID | None = None,
    subject_id: UUID | None = None,
    amount: int | None = None,
    currency: str | None = None,
    context: dict[str, Any] | None = None,
) -> Operation:
    """Record the call to make, in the caller's transaction; the same key records once and
    answers with the operation already recorded."""
    row = await conn.fetchrow(
        RECORD, kind.value, key, deal_id, subject_id, amount, currency, params, context or {}
    )
    if row is None:
        row = await conn.fetchrow(FIND_BY_KEY, key)
    return operation(row)


async def next_key(conn: asyncpg.Connection, base: str, subject_id: UUID, *kinds: Kind) -> str:
    """The key of the subject's next call: `base`, or after calls Stripe refused (which it
    would refuse again under the same key), `base-retry-N`."""
    failed = await conn.fetchval(FAILED_OF_SUBJECT, subject_id, [k.value for k in kinds])
    return base if failed == 0 else f"{base}-retry-{failed}"


async def open_of_deal(conn: asyncpg.Connection, deal_id: UUID, *kinds: Kind) -> Operation | None:
    row = await conn.fetchrow(OPEN_OF_DEAL, deal_id, [k.value for k in kinds])
    return operation(row) if row is not None else None


async def open_of_subject(
    conn: asyncpg.Connection, subject_id: UUID, *kinds: Kind
) -> Operation | None:
    row = await conn.fetchrow(OPEN_OF_SUBJECT, subject_id, [k.value for k in kinds])
    return operation(row) if row is not None else None


class InFlight(Conflict):
    """A movement of the same money is under way, or its outcome is being confirmed."""

    def __init__(self, op: Operation, what: str) -> None:
        super().__init__(
            f"{what}: the {op.kind} operation {op.id} on this money is {op.status}; "
            "try again once it is settled"
        )
        self.operation = op

    def extra(self) -> dict[str, Any]:
        return {"operation": {"id": str(self.operation.id), "kind": self.operation.kind,
                              "status": self.operation.status}}  # fmt: skip


async def check_clear(conn: asyncpg.Connection, deal_id: UUID, what: str, *kinds: Kind) -> None:
    """Refuse with 409 while an operation of `kinds` on the deal's money is unsettled."""
    found = await open_of_deal(conn, deal_id, *kinds)
    if found is not None:
        raise InFlight(found, what)


class Unsettled(Unavailable):
    """Stripe did not answer in time; the operation is kept and will be confirmed."""

    status = 503
    title = "Payment provider unavailable"
    type_slug = "payment-unconfirmed"

    def __init__(self, op: Operation) -> None:
        super().__init__(
            f"the payment provider did not confirm the {op.kind} operation {op.id}; it is "
            "recorded and will be completed or reconciled, so sending the request again is safe",
            headers={"Retry-After": str(RETRY_AFTER)},
        )
        self.operation = op

    def extra(self) -> dict[str, Any]:
        return {"operation": {"id": str(self.operation.id), "kind": self.operation.kind,
                              "status": self.operation.status}}  # fmt: skip


class Outcome(msgspec.Struct, frozen=True):
    status: Status
    stripe_id: str | None = None
    result: dict[str, Any] | None = None
    error: str | None = None


Call = Callable[[StripeGateway, dict[str, Any], str], Awaitable[Any]]
Applier = Callable[[asyncpg.Connection, Operation], Awaitable[None]]

CALLS: dict[Kind, Call] = {
    Kind.FUNDING: lambda g, p, k: g.create_payment_intent(p, k),
    Kind.FUNDING_CANCEL: lambda g, p, k: g.cancel_payment_intent(p["payment_intent"], k),
    Kind.REFUND: lambda g, p, k: g.create_refund(p, k),
    Kind.PAYOUT: lambda g, p, k: g.create_transfer(p, k),
    Kind.COMMISSION: lambda g, p, k: g.create_transfer(p, k),
    Kind.SETTLEMENT: lambda g, p, k: g.create_payment_intent(p, k),
    Kind.SETTLEMENT_RETRY: lambda g, p, k: g.confirm_payment_intent(p, k),
    Kind.PAYOUT_ACCOUNT: lambda g, p, k: g.create_account(p, k),
    Kind.CUSTOMER: lambda g, p, k: g.create_customer(p, k),
}


async def call(gateway: StripeGateway, op: Operation) -> Outcome:
    """Make the operation's call; a refusal is final, a lost or missing answer is unknown."""
    try:
        made = await CALLS[op.kind](gateway, op.params, op.idempotency_key)
    except stripe.CardError as error:
        intent = error.error.payment_intent if error.error else None
        found = {"payment_intent": intent.id} if intent is not None else None
        return Outcome(Status.FAILED, result=found, error=error.code or "card_declined")
    except (
        stripe.InvalidRequestError,
        stripe.AuthenticationError,
        stripe.PermissionError,
        stripe.IdempotencyError,
    ) as error:
        return Outcome(Status.FAILED, error=_message(error))
    except stripe.StripeError as error:  # connection lost, timed out, 429, 5xx
        return Outcome(Status.UNKNOWN, error=_message(error))
    except (OSError, TimeoutError) as error:
        return Outcome(Status.UNKNOWN, error=type(error).__name__)
    return Outcome(Status.SUCCEEDED, stripe_id=made.id, result=_result(made))


def _message(error: stripe.StripeError) -> str:
    return (error.user_message or type(error).__name__)[:500]


def _result(made: Any) -> dict[str, Any]:
    """What the appliers read of Stripe's answer."""
    keep = ("id", "object", "status", "amount", "amount_received", "client_secret",
            "payouts_enabled", "details_submitted", "payment_intent", "destination")  # fmt: skip
    data = made.to_dict() if hasattr(made, "to_dict") else dict(made)
    return {k: data[k] for k in keep if k in data}


async def execute(
    pool: asyncpg.Pool, gateway: StripeGateway, op_id: UUID, apply: Applier, *, wait: float = 0
) -> Operation:
    """Call and apply the operation unless it is settled; when another process is calling it,
    wait up to `wait` seconds for its outcome. Returns the operation as it then stands."""
    token = uuid4()
    deadline = time.monotonic() + wait
    while True:
        async with pool.acquire() as conn:
            claimed = await conn.fetchrow(CLAIM, op_id, token, LEASE)
            found = operation(claimed or await conn.fetchrow(FIND, op_id))
        if claimed is not None or found.settled or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.05)
    if claimed is None:
        return found
    op = found
    outcome = await call(gateway, op)
    async with pool.acquire() as conn:
        if outcome.status is Status.UNKNOWN:
            await conn.execute(LOST, op_id, token, outcome.error)
            log.warning("payment_operation_unconfirmed", operation_id=str(op_id), kind=op.kind,
                        error=outcome.error)  # fmt: skip
            return operation(await conn.fetchrow(FIND, op_id))
        async with conn.transaction():
            settled = await conn.fetchrow(
                SETTLE, op_id, token, outcome.status.value, outcome.stripe_id, outcome.result,
                outcome.error,
            )  # fmt: skip
            if settled is None:  # our lease ended and another process took the operation over
                return operation(await conn.fetchrow(FIND, op_id))
            op = operation(settled)
            await apply(conn, op)
    log.info("payment_operation_settled", operation_id=str(op_id), kind=op.kind,
             status=op.status, stripe_id=op.stripe_id)  # fmt: skip
    return op


async def of_deal(conn: asyncpg.Connection, deal_id: UUID) -> list[Operation]:
    return [operation(r) for r in await conn.fetch(OF_DEAL, deal_id)]
