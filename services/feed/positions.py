"""Positions in the event log, in the order events became visible.

`events.id` is taken at insert, but transactions commit in another order: a reader that
remembers "the last id I saw" can skip an event whose transaction committed after a later
id's. Each event row therefore records the id of the transaction that wrote it (`xid`), and
a reader hands out only events whose transaction is older than its snapshot's xmin: every
such transaction has ended, so no event can still appear below that line. Read in (xid, id)
order, a position (xid, id) says "everything up to here was handed out", and an event that
shows up later always sorts after it.
"""

import re
from typing import NamedTuple

from services.errors import Invalid

# `<transaction id>.<event id>`: 18 digits each stay within the database's bigint.
PATTERN = r"^[0-9]{1,18}\.[0-9]{1,18}$"
_POSITION = re.compile(PATTERN)


class Position(NamedTuple):
    xid: int
    id: int


START = Position(0, 0)


def encode(position: Position) -> str:
    return f"{position.xid}.{position.id}"


def decode(text: str, field: str = "cursor") -> Position:
    """The position a cursor (or `Last-Event-ID`) of this API's shape names; 422 otherwise."""
    if _POSITION.match(text) is None:
        raise Invalid(field, f"{field} is not one this API returned")
    xid, ident = text.split(".")
    return Position(int(xid), int(ident))


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
