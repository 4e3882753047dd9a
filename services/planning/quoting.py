"""Quotes of one deliverable, for a catalog account or given metrics, with the current card."""

import asyncpg
import msgspec

from contracts.pricing import AccountMetrics, ProductTerms, Quote, QuoteRequest
from contracts.quotes import QuoteIn
from pricing.quotes import quote as price
from services.actors import Caller
from services.errors import Invalid, NotFound
from services.planning.ratecards import current_rate_card

# A merchant quotes for its own briefs; KOLs and operators for any published one.
BRIEF_PRODUCT = """
    SELECT average_order_value, commission_bp, currency FROM briefs
    WHERE id = $1 AND (merchant_id = $2 OR (status <> 'draft' AND $3))
"""
ACCOUNT_METRICS = """
    SELECT platform, followers, median_views, engagement_rate, authenticity
    FROM kol_accounts WHERE id = $1
"""


async def quote(conn: asyncpg.Connection, caller: Caller, data: QuoteIn) -> Quote:
    if (data.account_id is None) == (data.account is None):
        raise Invalid("account_id", "give exactly one of account_id and account")
    if data.brief_id is not None and data.product is not None:
        raise Invalid("brief_id", "give a brief or a product, not both")
    product, currency = data.product or ProductTerms(average_order_value=0), data.currency
    if data.brief_id is not None:
        brief = await conn.fetchrow(
            BRIEF_PRODUCT, data.brief_id, caller.merchant_id, caller.kind != "merchant"
        )
        if brief is None:
            raise NotFound("brief", data.brief_id)
        product = ProductTerms(
            average_order_value=brief["average_order_value"], commission_bp=brief["commission_bp"]
        )
        currency = currency or brief["currency"]
    account = data.account
    if data.account_id is not None:
        row = await conn.fetchrow(ACCOUNT_METRICS, data.account_id)
        if row is None:
            raise NotFound("account", data.account_id)
        account = msgspec.convert(dict(row), AccountMetrics)
    assert account is not None
    card = await current_rate_card(conn)
    request = QuoteRequest(
        account=account,
        deliverable=data.deliverable,
        product=product,
        currency=currency or card.currency,
    )
    return price(request, card)
