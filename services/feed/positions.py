"""Positions in the event log, in the order events became visible.

`events.id` is taken at insert, but transactions commit in another order: a reader that
remembers "the last id I saw" can skip an event whose transaction committed after a later
id's. Each event row therefore records the id of the transaction that wrote it (`xid`), and
a reader hands out only events whose transaction is older than its snapshot's xmin: every
such transaction has ended, so no event can still appear below that line. Read in (xid, id)
order, a position (xid, id) says "everything up to here was handed out", and an event that
shows up later always sorts after it.
"""

import base64
import binascii
from typing import NamedTuple

import msgspec

from services.errors import Invalid


class Position(NamedTuple):
    xid: int
    id: int


START = Position(0, 0)


def encode(position: Position) -> str:
    raw = msgspec.json.encode([position.xid, position.id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(text: str, field: str = "cursor") -> Position:
    """The position a cursor (or `Last-Event-ID`) this API gave names; 422 otherwise."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        xid, ident = msgspec.json.decode(raw, type=tuple[int, int])
    except (binascii.Error, ValueError, msgspec.ValidationError):
        raise Invalid(field, f"{field} is not one this API returned") from None
    if not (0 <= xid < 2**63 and 0 <= ident < 2**63):
        raise Invalid(field, f"{field} is not one this API returned")
    return Position(xid, ident)


def boundary(xmin: int) -> Position:
    """The position just before every transaction from `xmin` on."""
    return Position(xmin, 0)


def next_position(after: Position, last: Position | None, xmin: int, full: bool) -> Position:
    """Where a reader continues after a scan from `after` that returned rows up to `last`.

    A full page continues after its last row; a shorter one saw every visible event below
    the snapshot's xmin, so it may continue from there and skip rescanning others' events.
    """
    if full and last is not None:
        return last
    return max(after, last or START, boundary(xmin))
