"""`kolmarket serve --demo` loads a usable marketplace, and loading it again changes nothing."""

import asyncio

import asyncpg
import pytest

from services import database
from services.demo import CATALOG_SIZE, load_demo
from tests.support.database import scratch_database

COUNTS = """
    SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM kols) AS kols,
           (SELECT count(*) FROM kol_accounts) AS accounts, (SELECT count(*) FROM briefs) AS briefs,
           (SELECT count(*) FROM offers WHERE status = 'open') AS offers,
           (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM deals) AS deals,
           (SELECT count(*) FROM clicks) AS clicks,
           (SELECT count(*) FILTER (WHERE status = 'pending') FROM conversions) AS pending,
           (SELECT count(*) FILTER (WHERE status = 'held') FROM conversions) AS held,
           (SELECT count(*) FILTER (WHERE status = 'rejected') FROM conversions) AS rejected,
           (SELECT count(*) FROM plans WHERE adopted_at IS NOT NULL) AS adopted,
           (SELECT count(*) FROM plans) AS plans,
           (SELECT count(*) FROM plan_items i JOIN plans p ON p.id = i.plan_id
            WHERE p.adopted_at IS NOT NULL) AS chosen
"""
# Offers made from the adopted plan: to KOLs it chose, on its brief, proposed by the merchant.
FROM_PLAN = """
    SELECT count(*) FROM offers o JOIN plans p ON p.brief_id = o.brief_id
    WHERE p.adopted_at IS NOT NULL AND o.status = 'open' AND o.proposed_by = 'merchant'
      AND EXISTS (SELECT 1 FROM plan_items i WHERE i.plan_id = p.id AND i.kol_id = o.kol_id)
"""


@pytest.fixture(scope="module")
def demo_url(server_url: str):
    with scratch_database(server_url, "kolmarket_demo") as url:
        yield url


async def _counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(database.asyncpg_dsn(url))
    try:
        return dict(await conn.fetchrow(COUNTS)) | {"from_plan": await conn.fetchval(FROM_PLAN)}
    finally:
        await conn.close()


def test_demo_loads_once_and_again_changes_nothing(demo_url: str) -> None:
    load_demo(demo_url)
    first = asyncio.run(_counts(demo_url))
    assert first["kols"] >= CATALOG_SIZE + 1
    assert first["briefs"] == 1
    # The adopted plan (a selection following an allocation) chose creators, and each KOL it
    # chose has an open offer from it, beside the first invitation.
    assert (first["adopted"], first["plans"]) == (1, 2)
    assert first["chosen"] >= first["from_plan"] > 0
    assert first["offers"] == 1 + first["from_plan"]
    assert (first["deals"], first["clicks"]) == (1, 60)
    assert (first["pending"], first["held"], first["rejected"]) == (9, 1, 1)
    load_demo(demo_url)
    assert asyncio.run(_counts(demo_url)) == first
