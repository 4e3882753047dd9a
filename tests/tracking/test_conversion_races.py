"""Two batches racing for one order: the order counts once; the batch that loses the race is
refused whole (and can be sent again), never half stored."""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from contracts.tracking import ConversionIn
from services import database
from services.errors import Conflict
from services.tracking import service
from tests.helpers import Client, merchant
from tests.tracking.test_conversions import make_deal

WAITING = "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1"


def _order(order_id: str, code: str) -> ConversionIn:
    return ConversionIn(
        order_id=order_id, amount=10_000, currency="USD", occurred_at=datetime.now(UTC),
        tracking_code=code,
    )  # fmt: skip


async def _wait_for_lock(db: asyncpg.Connection, pid: int) -> None:
    for _ in range(200):
        if await db.fetchval(WAITING, pid) == "Lock":
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the second batch never waited for the first")


async def test_an_order_counted_by_a_racing_batch_refuses_the_other_batch_whole(
    client: Client, db: Any, database_url: str
) -> None:
    owner = await merchant(client)
    first_deal, second_deal = await make_deal(client, db, owner), await make_deal(client, db, owner)
    merchant_id = uuid.UUID(owner.me["merchant_id"])
    order_id, other_id = f"race-{uuid.uuid4().hex[:8]}", f"race-{uuid.uuid4().hex[:8]}"
    first, second = await database.connect(database_url), await database.connect(database_url)
    try:
        outer = first.transaction()
        await outer.start()  # the first batch has written, and not yet committed
        await service.record(first, merchant_id, [_order(order_id, first_deal.code)])
        racing = asyncio.create_task(
            service.record(
                second,
                merchant_id,
                [_order(other_id, second_deal.code), _order(order_id, second_deal.code)],
            )
        )
        await _wait_for_lock(db, second.get_server_pid())
        await outer.commit()
        with pytest.raises(Conflict, match="send them again"):
            await racing
    finally:
        await first.close()
        await second.close()
    rows = await db.fetch(
        "SELECT order_id, deal_id FROM conversions WHERE order_id = any($1::text[])",
        [order_id, other_id],
    )
    assert [(r["order_id"], str(r["deal_id"])) for r in rows] == [(order_id, first_deal.id)]
    counted = await db.fetchval(
        "SELECT commission_counted FROM tracking_links WHERE deal_id = $1",
        uuid.UUID(second_deal.id),
    )
    assert counted == 0
