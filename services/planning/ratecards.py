"""Rate cards in the database: the current one, and new versions (never an edit in place).

Publishing a card asks the catalog, in the same transaction, to price every account again
with it (the job `catalog:reprice_accounts`); quotes, plans and offers read the current card
directly, so they use a new card from the moment it is committed.
"""

import asyncpg
import msgspec

from contracts.pricing import RateCard
from pricing.ratecard import check_rate_card
from services.errors import Conflict, Unavailable
from services.jobs import defer

CURRENT = "SELECT card FROM rate_cards ORDER BY created_at DESC, id DESC LIMIT 1"
BY_VERSION = "SELECT card FROM rate_cards WHERE version = $1"
INSERT = """
    INSERT INTO rate_cards (version, currency, card, created_by, note)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (version) DO NOTHING
    RETURNING id
"""
REPRICE_TASK = "catalog:reprice_accounts"


async def current_rate_card(conn: asyncpg.Connection) -> RateCard:
    card = await conn.fetchval(CURRENT)
    if card is None:
        raise Unavailable("no rate card is installed; run migrations")
    return msgspec.convert(card, RateCard)


async def rate_card(conn: asyncpg.Connection, version: str) -> RateCard | None:
    card = await conn.fetchval(BY_VERSION, version)
    return None if card is None else msgspec.convert(card, RateCard)


async def publish_rate_card(
    conn: asyncpg.Connection, card: RateCard, operator_id: object, note: str
) -> RateCard:
    check_rate_card(card)
    document = msgspec.to_builtins(card)
    async with conn.transaction():
        created = await conn.fetchval(
            INSERT, card.version, card.currency, document, operator_id, note
        )
        if created is None:
            raise Conflict(f"rate card version {card.version} exists; publish a new version")
        await defer(conn, REPRICE_TASK, {"version": card.version})
    return card
