"""Cursor pagination: an opaque cursor naming the last row of a page by (time, id).

Lists are ordered newest first by an immutable timestamp and the id; the next page starts
strictly after the cursor's row, so rows added meanwhile never shift a page.
"""

import base64
import binascii
from datetime import datetime
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
    except (binascii.Error, ValueError, msgspec.ValidationError):
        raise Invalid("cursor", "cursor is not one this API returned") from None
    return position.at, position.id


def split(rows: list[asyncpg.Record], limit: int, time_column: str) -> tuple[list[Any], str | None]:
    """A page of `rows` fetched with LIMIT limit + 1, and the cursor of the next page if any."""
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode(last[time_column], last["id"])
