"""Reference prices follow the current rate card: when an operator publishes a card, every
account is priced again by it, in batches, each naming the card's version.

A batch locks its accounts (a KOL's new metrics wait for it, or it for them) and stops as
soon as a newer card is current: that card's own run prices everything again.
"""

from uuid import UUID

import asyncpg
import structlog

from contracts.common import Platform
from contracts.pricing import RateCard
from services.catalog import rules
from services.planning.ratecards import current_rate_card

log = structlog.get_logger(__name__)
BATCH = 2_000

NEXT_BATCH = """
    SELECT id, platform, followers, median_views, engagement_rate, authenticity,
           rate_card_version
    FROM kol_accounts WHERE id > $1 ORDER BY id LIMIT $2
    FOR UPDATE
"""
SET_PRICES = """
    UPDATE kol_accounts a
    SET reference_price = u.price, price_currency = $3, rate_card_version = $4
    FROM unnest($1::uuid[], $2::bigint[]) AS u (id, price)
    WHERE a.id = u.id
"""
FIRST_ID = UUID(int=0)


async def reprice(pool: asyncpg.Pool, version: str, batch: int = BATCH) -> int:
    """Price every account with card `version` while it is the current card; how many
    accounts changed their price or card."""
    after, changed = FIRST_ID, 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            card = await current_rate_card(conn)
            if card.version != version:
                log.info("reprice_superseded", version=version, current=card.version)
                return changed
            rows = await conn.fetch(NEXT_BATCH, after, batch)
            stale = [r for r in rows if r["rate_card_version"] != version]
            if stale:
                prices = [_price(card, r) for r in stale]
                ids = [r["id"] for r in stale]
                await conn.execute(SET_PRICES, ids, prices, card.currency, card.version)
        changed += len(stale)
        if len(rows) < batch:
            log.info("accounts_repriced", version=version, accounts=changed)
            return changed
        after = rows[-1]["id"]


def _price(card: RateCard, row: asyncpg.Record) -> int | None:
    return rules.reference_price(
        card,
        Platform(row["platform"]),
        row["followers"],
        row["median_views"],
        row["engagement_rate"],
        row["authenticity"],
    )
