"""Cursor pagination: an opaque cursor naming the last row of a page by (time, id).

Lists are ordered newest first by an immutable timestamp and the id; the next page starts
strictly after the cursor's row, so rows added meanwhile never shift a page.
"""

import base64
import binascii
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from services.errors import Invalid


class _Position(msgspec.Struct, array_like=True, frozen=True):
    at: datetime
    id: UUID


def encode(at: datetime, ident: UUID) -> str:
    raw = msgspec.json.encode(_Position(at, ident))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None) -> tuple[datetime | None, UUID | None]:
    """(time, id) of the row the page starts after; (None, None) for the first page."""
    if cursor is None:
        return None, None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = msgspec.json.decode(raw, type=_Position)
        at = position.at.astimezone(UTC)  # a time the database can hold
    except (binascii.Error, ValueError, OverflowError, msgspec.ValidationError):
        raise Invalid("cursor", "cursor is not one this API returned") from None
    return at, position.id


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
