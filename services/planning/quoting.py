"""Quotes of one deliverable, for a catalog account or given metrics, with the current card."""

import asyncpg

from contracts.pricing import AccountMetrics, Quote, QuoteRequest
from contracts.quotes import QuoteIn
from pricing.quotes import quote as price
from services.errors import Invalid, NotFound
from services.planning.ratecards import current_rate_card

ACCOUNT_METRICS = """
    SELECT platform, followers, median_views, engagement_rate, authenticity
    FROM kol_accounts WHERE id = $1
"""


async def quote(conn: asyncpg.Connection, data: QuoteIn) -> Quote:
    if (data.account_id is None) == (data.account is None):
        raise Invalid("account_id", "give exactly one of account_id and account")
    account = data.account
    if data.account_id is not None:
        row = await conn.fetchrow(ACCOUNT_METRICS, data.account_id)
        if row is None:
            raise NotFound("account", data.account_id)
        account = AccountMetrics(**dict(row))
    assert account is not None
    card = await current_rate_card(conn)
    request = QuoteRequest(
        account=account,
        deliverable=data.deliverable,
        product=data.product,
        currency=data.currency or card.currency,
    )
    return price(request, card)
