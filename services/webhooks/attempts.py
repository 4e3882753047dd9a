"""Record, call, apply: the three steps of one delivery attempt.

1. Claim (record): in a short transaction, due deliveries are leased to this sender
   (`claim`, and `next_attempt_at` moved to the lease's end), then committed.
2. Call: outside any transaction, the signed message is POSTed with a timeout.
3. Apply: in a second transaction, the attempt is logged and the delivery delivered,
   scheduled again or given up; the endpoint's health is updated, and an endpoint that
   answered 410 or failed for five days is disabled with a `webhook_endpoint.disabled`
   event for its owner.

A sender killed between the steps leaves the delivery due again when its lease ends: it is
sent again with the same `webhook-id` (at least once).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import msgspec
import structlog

from contracts.events import WebhookEndpointDisabled
from contracts.webhooks import DeliveryStatus
from services import events
from services.feed import rules as feed_rules
from services.webhooks import queries, rules
from services.webhooks.delivery import Sender, signed_headers
from services.webhooks.rules import Outcome

log = structlog.get_logger(__name__)
PING_MESSAGE = "a test message from kolmarket"


@dataclass(frozen=True, slots=True)
class Result:
    delivery: Any  # the claimed row
    claim: UUID
    attempted_at: datetime
    outcome: Outcome


async def claim(conn: asyncpg.Connection, limit: int, lease_seconds: float) -> tuple[UUID, list]:
    """Lease up to `limit` due deliveries; their claim id and rows."""
    token = uuid4()
    rows = await conn.fetch(queries.CLAIM, limit, lease_seconds, token)
    return token, rows


def message_of(row: Any) -> tuple[str, bytes]:
    """The claimed delivery's message id and body (a ping when it has no event)."""
    if row["event_id"] is None:
        message_id = f"ping_{row['id']}"
        document: dict[str, Any] = {
            "id": message_id,
            "type": "ping",
            "timestamp": row["recorded_at"],
            "object": {"type": "webhook_endpoint", "id": row["endpoint_id"], "version": 0},
            "data": {"endpoint_id": row["endpoint_id"], "message": PING_MESSAGE},
        }
    else:
        document = feed_rules.message(row)
        message_id = document["id"]
    return message_id, msgspec.json.encode(document)


async def attempt(sender: Sender, row: Any, token: UUID) -> Result:
    """Call: sign and send one claimed delivery; never raises."""
    message_id, body = message_of(row)
    secrets = [row["secret"], *([row["previous_secret"]] if row["previous_secret"] else [])]
    attempted_at = datetime.now(UTC)
    outcome = await sender.send(row["url"], body, signed_headers(message_id, body, secrets))
    return Result(row, token, attempted_at, outcome)


async def apply(
    conn: asyncpg.Connection, results: Sequence[Result], schedule: tuple[float, ...]
) -> None:
    """Apply: record a batch of attempts in one transaction."""
    if not results:
        return
    now = datetime.now(UTC)
    fates = [rules.fate(r.outcome, r.delivery["attempts"] + 1, now, schedule) for r in results]
    async with conn.transaction():
        await conn.execute(
            queries.APPLY,
            [r.delivery["id"] for r in results],
            [r.claim for r in results],
            [r.outcome.status_code for r in results],
            [r.outcome.latency_ms for r in results],
            [r.outcome.error for r in results],
            [r.attempted_at for r in results],
            [status.value for status, _ in fates],
            [next_at for _, next_at in fates],
        )
        await _update_health(conn, results, now)
    for result, (status, _) in zip(results, fates, strict=True):
        if status is not DeliveryStatus.DELIVERED:
            log.info(
                "webhook_attempt_failed", delivery_id=str(result.delivery["id"]),
                endpoint_id=str(result.delivery["endpoint_id"]), status=status.value,
                status_code=result.outcome.status_code, error=result.outcome.error,
            )  # fmt: skip


async def _update_health(
    conn: asyncpg.Connection, results: Sequence[Result], now: datetime
) -> None:
    latest: dict[UUID, Result] = {}
    for result in sorted(results, key=lambda r: r.attempted_at):
        latest[result.delivery["endpoint_id"]] = result
    healthy = [e for e, r in latest.items() if rules.succeeded(r.outcome)]
    failing = [e for e, r in latest.items() if not rules.succeeded(r.outcome)]
    gone = list({r.delivery["endpoint_id"] for r in results if rules.gone(r.outcome)})
    await conn.execute(queries.MARK_HEALTHY, healthy)
    await conn.execute(queries.MARK_FAILING, failing, now)
    disabled = await conn.fetch(queries.DISABLE_GONE, gone) if gone else []
    await _tell_owners(conn, disabled)
    if failing:
        await disable_failing(conn, now, failing)


async def disable_failing(
    conn: asyncpg.Connection, now: datetime, endpoint_ids: list[UUID] | None = None
) -> int:
    """Disable the endpoints (of `endpoint_ids`, or all) failing for five days; returns how
    many."""
    rows = await conn.fetch(queries.DISABLE_FAILING, now - rules.DISABLE_AFTER, endpoint_ids)
    await _tell_owners(conn, rows)
    return len(rows)


async def _tell_owners(conn: asyncpg.Connection, rows: Sequence[asyncpg.Record]) -> None:
    items = [
        (
            WebhookEndpointDisabled(
                endpoint_id=row["id"], merchant_id=row["merchant_id"], url=row["url"],
                reason=row["disabled_reason"], failing_since=row["failing_since"],
            ),
            row["id"], row["merchant_id"], None,
        )
        for row in rows
    ]  # fmt: skip
    await events.append_many(conn, items)
    for row in rows:
        log.warning(
            "webhook_endpoint_disabled", endpoint_id=str(row["id"]),
            merchant_id=str(row["merchant_id"]), reason=row["disabled_reason"],
        )  # fmt: skip
