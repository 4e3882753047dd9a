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

# The events travel as one JSON document, parsed by PostgreSQL, rather than column arrays.
INSERT_EVENTS = """
    INSERT INTO events (type, aggregate_type, aggregate_id, merchant_id, kol_id, payload)
    SELECT r.type, r.aggregate_type, r.aggregate_id, r.merchant_id, r.kol_id, r.payload
    FROM jsonb_to_recordset($1::text::jsonb) AS r (
        type text, aggregate_type text, aggregate_id uuid, merchant_id uuid, kol_id uuid,
        payload jsonb
    )
"""


def event_type(payload: EventPayload) -> str:
    return type_of(type(payload))


def type_of(kind: type[msgspec.Struct]) -> str:
    """The type of the events of a payload struct (its tag, `offer.accepted`)."""
    tag = kind.__struct_config__.tag
    assert isinstance(tag, str)
    return tag


def aggregate_type(kind: str) -> str:
    """The aggregate an event type is about: `offer` of `offer.accepted`."""
    return kind.partition(".")[0]


def _row(
    payload: EventPayload, aggregate_id: UUID, merchant_id: UUID | None, kol_id: UUID | None
) -> tuple[object, ...]:
    kind = event_type(payload)
    return (
        kind,
        aggregate_type(kind),
        aggregate_id,
        merchant_id,
        kol_id,
        msgspec.to_builtins(payload),
    )


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
    """Record several events with one statement: (payload, aggregate_id, merchant_id, kol_id)
    each, in order."""
    if not items:
        return
    document = [
        {
            "type": (kind := event_type(payload)),
            "aggregate_type": aggregate_type(kind),
            "aggregate_id": aggregate_id,
            "merchant_id": merchant_id,
            "kol_id": kol_id,
            "payload": payload,
        }
        for payload, aggregate_id, merchant_id, kol_id in items
    ]
    await conn.execute(INSERT_EVENTS, msgspec.json.encode(document).decode())
