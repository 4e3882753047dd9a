"""Tracking links: every deal gets one when its offer is accepted, pointing at its brief's
product page; `GET /t/{code}` (`redirect.py`) follows it."""

import secrets
from uuid import UUID

import asyncpg

INSERT_LINK = """
    INSERT INTO tracking_links (code, deal_id, merchant_id, destination)
    SELECT $1, $2, b.merchant_id, b.product_url FROM briefs b WHERE b.id = $3
    RETURNING code
"""


def new_code() -> str:
    """12 URL-safe characters (72 random bits): a deal's tracking code."""
    return secrets.token_urlsafe(9)


async def open_link(conn: asyncpg.Connection, deal_id: UUID, brief_id: UUID) -> str:
    """Make the deal's link to its brief's product page, in the acceptance's transaction;
    returns its code."""
    code: str = await conn.fetchval(INSERT_LINK, new_code(), deal_id, brief_id)
    return code
