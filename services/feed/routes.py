"""HTTP face of the events feed: `GET /v1/events` (cursor pages for partners who poll or
catch up) and `GET /v1/events/stream` (Server-Sent Events for browsers)."""

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get
from litestar.exceptions import HTTPException
from litestar.params import HeaderParameter, Parameter, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from contracts.events import EventType
from contracts.feed import EventPage, EventQuery
from services.feed import positions, rules, service
from services.web import DB, AppSettings, CurrentCaller, Limit, allow, problem_responses

TypeFilter = Annotated[
    list[EventType] | None,
    QueryParameter(name="type", max_items=30, description="only events of these types"),
]
FeedCursor = Annotated[
    str | None,
    QueryParameter(pattern=positions.PATTERN, description="`next_cursor` of the previous page"),
]
LastEventId = Annotated[
    str | None,
    HeaderParameter(
        name="Last-Event-ID",
        required=False,
        pattern=f"^({positions.PATTERN.strip('^$')})?$",
        description="the `id` of the last event received: the stream resumes right after it "
        "(empty: as if not sent)",
    ),
]
RETRY_MS = 2_000  # how soon a browser reconnects after the stream ends


class EventsController(Controller):
    path = "/v1/events"
    tags = ["events"]
    security = [{"BearerToken": []}, {"ApiKey": []}]
    guards = [allow("merchant", "kol", "operator", scope="webhooks:manage")]

    @get(
        "/",
        operation_id="listEvents",
        summary="The caller's events in commit order, oldest first, after a cursor",
        description="Merchant members and partners (`webhooks:manage`) see their merchant's "
        "events, a KOL the events naming it, operators all. Keep `next_cursor` and ask again "
        "to receive what committed since; no event is skipped, even one whose transaction "
        "committed after a later event's.",
        responses=problem_responses(400, 401, 403, 422),
    )
    async def list_events(
        self,
        caller: CurrentCaller,
        db: DB,
        types: TypeFilter = None,
        object_id: Annotated[UUID | None, Parameter(description="the object's id")] = None,
        since: Annotated[datetime | None, Parameter(description="created at or after")] = None,
        until: Annotated[datetime | None, Parameter(description="created before")] = None,
        limit: Limit = 50,
        cursor: FeedCursor = None,
    ) -> EventPage:
        query = EventQuery(types=tuple(types or ()), object_id=object_id, since=since, until=until)
        return await service.list_events(db, caller, query, cursor, limit)

    @get(
        "/stream",
        operation_id="streamEvents",
        media_type="text/event-stream",
        summary="The caller's events live, as Server-Sent Events",
        description="An `Accept` header, when sent, must admit `text/event-stream` (406 "
        "otherwise). Each event's `id` is its cursor and "
        "its `data` the event as `GET /v1/events` lists it; reconnect with `Last-Event-ID` "
        "to miss nothing. Without it the stream starts now. A comment line arrives when "
        "nothing happened for a while, and the stream ends after the access token's "
        "lifetime (the client reconnects).",
        responses=problem_responses(400, 401, 403, 406, 422),
    )
    async def stream(
        self,
        request: Request[Any, Any, Any],
        caller: CurrentCaller,
        settings: AppSettings,
        db: DB,
        last_event_id: LastEventId = None,
    ) -> ServerSentEvent:
        if "accept" in request.headers and not request.accept.accepts("text/event-stream"):
            raise HTTPException(status_code=406, detail="accept text/event-stream")
        rules.scope_of(caller)
        if last_event_id:
            after = positions.decode(last_event_id, "Last-Event-ID")
        else:
            after = await service.current_position(db)
        state = request.app.state
        events = service.stream(
            state.pool, state.event_signal, caller, after,
            heartbeat_seconds=settings.event_stream_heartbeat_seconds,
            max_seconds=settings.access_token_ttl_seconds,
        )  # fmt: skip
        return ServerSentEvent(_messages(events), retry_duration=RETRY_MS)


async def _messages(
    events: AsyncIterator[service.StreamEvent | service.Heartbeat],
) -> AsyncIterator[ServerSentEventMessage]:
    async for item in events:
        if isinstance(item, service.Heartbeat):
            yield ServerSentEventMessage(data=None, comment="heartbeat")
        else:
            yield ServerSentEventMessage(id=item.id, event=item.type, data=item.data)


ROUTES = [EventsController]
