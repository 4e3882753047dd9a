"""The events API: every state change a caller may read, in the order changes committed.

Partners poll `GET /v1/events` from a cursor to catch up; browsers follow
`GET /v1/events/stream` (Server-Sent Events). Both name an event's place by an opaque cursor
that never skips an event committed late.
"""

from datetime import datetime
from uuid import UUID

import msgspec

from contracts.events import EventPayload
from contracts.webhooks import WebhookObject


class EventOut(msgspec.Struct, kw_only=True, frozen=True):
    """One event: `data` is its payload (the same as a webhook's `data`); `cursor` resumes
    the list or the stream right after it."""

    id: int
    type: str
    created_at: datetime
    object: WebhookObject
    data: EventPayload
    cursor: str


class EventPage(msgspec.Struct, kw_only=True, frozen=True):
    """Events in commit order, oldest first. `next_cursor` continues after this page (or
    from now when there was nothing new): keep it to poll for what comes next. `has_more`
    says a next page is already there."""

    items: list[EventOut]
    next_cursor: str
    has_more: bool


class EventQuery(msgspec.Struct, kw_only=True, frozen=True):
    """The filters of the events list (all optional)."""

    types: tuple[str, ...] = ()
    object_id: UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
