"""The event outbox: every state change appends its event in the change's own transaction.

The event's type is its payload's tag (`offer.accepted`), so the two can never disagree.
"""

from collections.abc import Sequence
from uuid import UUID

import asyncpg
import msgspec

from contracts.events import EventPayload

INSERT_EVENT = """
    INSERT INTO events (type, aggregate_type, aggregate_id, merchant_id, kol_id, payload)
    VALUES ($1, $2, $3, $4, $5, $6)
"""


def event_type(payload: EventPayload) -> str:
    tag = payload.__struct_config__.tag
    assert isinstance(tag, str)
    return tag


def _row(
    payload: EventPayload, aggregate_id: UUID, merchant_id: UUID | None, kol_id: UUID | None
) -> tuple[object, ...]:
    kind = event_type(payload)
    aggregate_type = kind.partition(".")[0]
    return (kind, aggregate_type, aggregate_id, merchant_id, kol_id, msgspec.to_builtins(payload))


async def append(
    conn: asyncpg.Connection,
    payload: EventPayload,
    *,
    aggregate_id: UUID,
    merchant_id: UUID | None,
    kol_id: UUID | None = None,
) -> None:
    """Record `payload` for the aggregate (brief, offer or deal) named by its type."""
    await conn.execute(INSERT_EVENT, *_row(payload, aggregate_id, merchant_id, kol_id))


async def append_many(
    conn: asyncpg.Connection,
    items: Sequence[tuple[EventPayload, UUID, UUID | None, UUID | None]],
) -> None:
    """Record several events at once: (payload, aggregate_id, merchant_id, kol_id) each."""
    if items:
        await conn.executemany(INSERT_EVENT, [_row(*item) for item in items])
