"""Cursor pagination: an opaque cursor naming the last row of a page by (time, id).

Lists are ordered newest first by an immutable timestamp and the id; the next page starts
strictly after the cursor's row, so rows added meanwhile never shift a page.
"""

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from services.errors import Invalid

# `<microseconds since 1970>.<id as 32 hex digits>`: every string of this shape names a
# position the database can hold (16 digits reach past the year 2200), so a cursor is either
# malformed or good.
PATTERN = r"^[0-9]{1,16}\.[0-9a-f]{32}$"
_CURSOR = re.compile(PATTERN)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def encode(at: datetime, ident: UUID) -> str:
    return f"{(at - _EPOCH) // _MICRO}.{ident.hex}"


def decode(cursor: str | None) -> tuple[datetime | None, UUID | None]:
    """(time, id) of the row the page starts after; (None, None) for the first page."""
    if cursor is None:
        return None, None
    if _CURSOR.match(cursor) is None:
        raise Invalid("cursor", "cursor is not one this API returned")
    micros, ident = cursor.split(".")
    return _EPOCH + int(micros) * _MICRO, UUID(hex=ident)


def split(rows: list[asyncpg.Record], limit: int, time_column: str) -> tuple[list[Any], str | None]:
    """A page of `rows` fetched with LIMIT limit + 1, and the cursor of the next page if any."""
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode(last[time_column], last["id"])


async def fetch_page(
    conn: asyncpg.Connection,
    query: str,
    *args: object,
    limit: int,
    cursor: str | None,
    time_column: str = "created_at",
) -> tuple[Sequence[asyncpg.Record], str | None]:
    """A page of `query`'s rows after `cursor`, and the cursor of the next page if any.

    The query takes `args` first, then the cursor's time and id and the row limit, as its
    last three parameters (`($n::timestamptz IS NULL OR (t, id) < ($n, $n+1::uuid))` and
    `LIMIT $n+2`)."""
    after, after_id = decode(cursor)
    rows = await conn.fetch(query, *args, after, after_id, limit + 1)
    return split(rows, limit, time_column)
