"""Batches racing on the same deals: each is judged without waiting for the other, and the one
that loses a race (an order counted first by the other, a cap the other used up meanwhile) is
judged again before it is stored, so an order counts once and a cap is never passed."""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from contracts.tracking import ConversionBatchOut, ConversionIn
from services import database
from services.tracking import service
from tests.helpers import Client, merchant
from tests.tracking.test_conversions import make_deal

WAITING = "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1"


def _order(order_id: str, code: str) -> ConversionIn:
    return ConversionIn(
        order_id=order_id, amount=10_000, currency="USD", occurred_at=datetime.now(UTC),
        tracking_code=code,
    )  # fmt: skip


async def _wait_for_lock(db: Any, pid: int) -> None:
    for _ in range(200):
        if await db.fetchval(WAITING, pid) == "Lock":
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the second batch never waited for the first")


async def _race(
    database_url: str,
    db: Any,
    merchant_id: uuid.UUID,
    first: list[ConversionIn],
    second: list[ConversionIn],
) -> ConversionBatchOut:
    """The first batch is stored and not yet committed when the second one reaches the point
    where it waits for it; then the first commits. The second batch's answer."""
    one, other = await database.connect(database_url), await database.connect(database_url)
    try:
        outer = one.transaction()
        await outer.start()
        await service.record(one, merchant_id, first)
        racing = asyncio.create_task(service.record(other, merchant_id, second))
        await _wait_for_lock(db, other.get_server_pid())
        await outer.commit()
        return await racing
    finally:
        await one.close()
        await other.close()


async def _counted(db: Any, deal_id: str) -> int:
    found: int = await db.fetchval(
        "SELECT commission_counted FROM tracking_links WHERE deal_id = $1", uuid.UUID(deal_id)
    )
    return found


async def test_an_order_counted_by_a_racing_batch_is_answered_as_a_duplicate(
    client: Client, db: Any, database_url: str
) -> None:
    owner = await merchant(client)
    first_deal, second_deal = await make_deal(client, db, owner), await make_deal(client, db, owner)
    order_id, other_id = f"race-{uuid.uuid4().hex[:8]}", f"race-{uuid.uuid4().hex[:8]}"
    answer = await _race(
        database_url, db, uuid.UUID(owner.me["merchant_id"]),
        [_order(order_id, first_deal.code)],
        [_order(other_id, second_deal.code), _order(order_id, second_deal.code)],
    )  # fmt: skip
    assert [(r.order_id, r.status, r.reasons) for r in answer.results] == [
        (other_id, "pending", []),
        (order_id, "rejected", ["duplicate"]),
    ]
    rows = await db.fetch(
        "SELECT order_id, deal_id, status FROM conversions WHERE order_id = any($1::text[])"
        " ORDER BY status, order_id",
        [order_id, other_id],
    )
    assert sorted((r["order_id"], str(r["deal_id"]), r["status"]) for r in rows) == sorted(
        [
            (order_id, first_deal.id, "pending"),
            (order_id, first_deal.id, "rejected"),
            (other_id, second_deal.id, "pending"),
        ]
    )
    assert await _counted(db, first_deal.id) == 1_500
    assert await _counted(db, second_deal.id) == 1_500


async def test_a_batch_that_raced_past_a_cap_is_judged_again_within_it(
    client: Client, db: Any, database_url: str
) -> None:
    owner = await merchant(client)
    deal = await make_deal(client, db, owner, commission_cap=2_000)
    first, second = f"cap-{uuid.uuid4().hex[:8]}", f"cap-{uuid.uuid4().hex[:8]}"
    answer = await _race(
        database_url, db, uuid.UUID(owner.me["merchant_id"]),
        [_order(first, deal.code)], [_order(second, deal.code)],
    )  # fmt: skip
    # Judged on its own, the second order would have earned 1,500 as well.
    assert [(r.status, r.commission) for r in answer.results] == [("pending", 500)]
    assert await _counted(db, deal.id) == 2_000
    total = await db.fetchval(
        "SELECT sum(commission) FROM conversions WHERE deal_id = $1", uuid.UUID(deal.id)
    )
    assert total == 2_000
