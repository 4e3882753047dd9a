"""Pure rules of the events feed: whose events a caller sees, and how an event row reads as
the message partners and browsers receive."""

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from services.actors import Caller
from services.errors import Forbidden


def scope_of(caller: Caller) -> tuple[str, UUID | None]:
    """Members and partners of a merchant see its events; a KOL the events naming it (its
    offers, deals, content, payouts and disputes); operators all."""
    if caller.kind in ("merchant", "partner") and caller.merchant_id is not None:
        return "merchant", caller.merchant_id
    if caller.kind == "kol" and caller.kol_id is not None:
        return "kol", caller.kol_id
    if caller.kind == "operator":
        return "all", None
    raise Forbidden(f"a {caller.kind} account has no events to read")


def message_id(event_id: int) -> str:
    """The `webhook-id` of an event's message: the same on every delivery attempt."""
    return f"evt_{event_id}"


def message(event: Mapping[str, Any]) -> dict[str, Any]:
    """The message an event travels as (Standard Webhooks style): `type`, `timestamp` and
    `data` (the payload), with the message id and the object it is about at its version
    (the event id: a later event of the same object always has a higher one).

    `event` has the event row's columns, its id as `event_id`."""
    return {
        "id": message_id(event["event_id"]),
        "type": event["type"],
        "timestamp": event["created_at"],
        "object": {
            "type": event["aggregate_type"],
            "id": event["aggregate_id"],
            "version": event["event_id"],
        },
        "data": event["payload"],
    }
