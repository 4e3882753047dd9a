"""The event outbox: every state change appends its event in the change's own transaction.

The event's type is its payload's tag (`offer.accepted`), so the two can never disagree.
"""

import functools
from collections.abc import Sequence
from uuid import UUID

import asyncpg
import msgspec

from contracts.events import EventPayload

INSERT_EVENT = """
    INSERT INTO events (type, aggregate_type, aggregate_id, merchant_id, kol_id, payload)
    VALUES ($1, $2, $3, $4, $5, $6)
"""

# Several events travel as one typed array per column; each payload as its JSON text, which
# PostgreSQL parses once into the row's jsonb.
INSERT_EVENTS = """
    INSERT INTO events (type, aggregate_type, aggregate_id, merchant_id, kol_id, payload)
    SELECT u.type, u.aggregate_type, u.aggregate_id, u.merchant_id, u.kol_id, u.payload::jsonb
    FROM unnest($1::text[], $2::text[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[])
        AS u (type, aggregate_type, aggregate_id, merchant_id, kol_id, payload)
"""
_encode = msgspec.json.Encoder().encode


def event_type(payload: EventPayload) -> str:
    return type_of(type(payload))


@functools.cache
def type_of(kind: type[msgspec.Struct]) -> str:
    """The type of the events of a payload struct (its tag, `offer.accepted`)."""
    tag = kind.__struct_config__.tag
    assert isinstance(tag, str)
    return tag


@functools.cache
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
    kinds = [event_type(payload) for payload, _, _, _ in items]
    await conn.execute(
        INSERT_EVENTS,
        kinds,
        [aggregate_type(kind) for kind in kinds],
        [aggregate_id for _, aggregate_id, _, _ in items],
        [merchant_id for _, _, merchant_id, _ in items],
        [kol_id for _, _, _, kol_id in items],
        [_encode(payload).decode() for payload, _, _, _ in items],
    )
