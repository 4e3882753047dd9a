"""The tracking redirect `GET /t/{code}`: a buyer following a KOL's link is sent on to the
product page with a click id the shop reports back with orders.

It is the busiest route and stays short: links are cached in the process (a link's
destination never changes), clicks are buffered in memory and written in bulk by a background
task (`ClickRecorder`), and no database connection is taken for a known link.
"""

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import structlog
from litestar import Request, get
from litestar.datastructures import ResponseHeader
from litestar.params import FromPath
from litestar.response.base import ASGIResponse
from litestar.types import Receive, Scope, Send

from services.errors import NotFound
from services.tracking import rules_clicks as rules
from services.web import PUBLIC, problem_responses

log = structlog.get_logger(__name__)

FIND_LINK = "SELECT deal_id, destination FROM tracking_links WHERE code = $1"
CLICK_COLUMNS = ("id", "deal_id", "clicked_at", "visitor", "user_agent", "referrer")
Click = tuple[UUID, UUID, datetime, str, str | None, str | None]


class LinkCache:
    """Known links by code, at most `size` of them (the oldest is forgotten first)."""

    def __init__(self, size: int = 100_000) -> None:
        self.size = size
        self._links: dict[str, rules.Link] = {}

    async def find(self, pool: asyncpg.Pool, code: str) -> rules.Link | None:
        found = self._links.get(code)
        if found is not None:
            return found
        if not rules.is_code(code):
            return None
        async with pool.acquire() as conn:
            row = await conn.fetchrow(FIND_LINK, code)
        if row is None:
            return None
        found = rules.link(row["deal_id"], row["destination"])
        if len(self._links) >= self.size:
            del self._links[next(iter(self._links))]
        self._links[code] = found
        return found


class ClickRecorder:
    """Clicks wait in memory and are copied into `clicks` together: every `interval` seconds,
    or as soon as `batch` of them wait. `flush()` writes everything recorded before it."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        interval: float = 0.1,
        batch: int = 1_000,
        max_waiting: int = 100_000,
    ) -> None:
        self.pool = pool
        self.interval = interval
        self.batch = batch
        self.max_waiting = max_waiting
        self.dropped = 0
        self._waiting: list[Click] = []
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def record(self, click: Click) -> None:
        if len(self._waiting) >= self.max_waiting:
            self.dropped += 1  # the database has been unreachable for a while
            return
        self._waiting.append(click)
        if len(self._waiting) >= self.batch:
            self._wake.set()

    async def flush(self) -> int:
        """Write the waiting clicks; on failure they wait for the next flush."""
        async with self._lock:
            clicks, self._waiting = self._waiting, []
            if not clicks:
                return 0
            try:
                async with self.pool.acquire() as conn:
                    await conn.copy_records_to_table(
                        "clicks", records=clicks, columns=CLICK_COLUMNS
                    )
            except BaseException:
                room = max(0, self.max_waiting - len(self._waiting))
                self._waiting[:0] = clicks[:room]
                raise
            return len(clicks)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="click-recorder")

    async def stop(self) -> None:
        """Let the background task finish its round, then write what is left."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
        try:
            await self.flush()
        except Exception as exc:  # shutting down: say what is lost rather than fail
            log.error("clicks_not_written", waiting=len(self._waiting), error=repr(exc))
        if self.dropped:
            log.warning("clicks_dropped", count=self.dropped)

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
            except Exception as exc:  # the task outlives any one failed write
                log.error("clicks_not_written", waiting=len(self._waiting), error=repr(exc))
                await asyncio.sleep(1)


class RedirectAnswer(ASGIResponse):
    """A bare 302 with its headers encoded at once: the busiest answer skips the general
    response's header bookkeeping."""

    def __init__(self, location: str) -> None:  # a complete answer of its own
        self.location = location.encode("ascii")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [
            (b"location", self.location),
            (b"cache-control", b"no-store"),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 302, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _agent_and_referrer(scope: Scope) -> tuple[str, str | None]:
    agent, referrer = "", None
    for name, value in scope["headers"]:
        if name == b"user-agent":
            agent = value.decode("latin-1")
        elif name == b"referer":
            referrer = value.decode("latin-1")
    return agent, referrer


@get(
    "/t/{code:str}",
    opt={PUBLIC: True},
    tags=["tracking"],
    operation_id="followTrackingLink",
    summary="Follow a deal's tracking link: redirects to the product page with a click id",
    description=(
        "Answers 302 with `Location` = the brief's product URL plus a `kmk_click` query "
        "parameter (a UUID, the click id the shop reports back with the order). The click is "
        "recorded unless the user agent is a crawler, link preview or HTTP library. No "
        "authentication; rate limited per client address."
    ),
    status_code=302,
    response_description="Redirect to the product page",
    response_headers=[
        ResponseHeader(
            name="Location",
            value="https://shop.example.com/glow?kmk_click=<click id>",
            description="the product URL with `kmk_click=<click id>` added to its query",
            documentation_only=True,
            required=True,
        )
    ],
    responses=problem_responses(404, 429),
)
async def follow_link(request: Request[Any, Any, Any], code: FromPath[str]) -> RedirectAnswer:
    state = request.app.state
    address = request.client.host if request.client else "unknown"
    state.click_limiter.hit(f"click:{address}")
    link = await state.tracking_links.find(state.pool, code)
    if link is None:
        raise NotFound("tracking link", code)
    user_agent, referrer = _agent_and_referrer(request.scope)
    if rules.is_bot(user_agent):
        return RedirectAnswer(link.plain)  # not a click, so no click id to report back
    click_id = uuid4()
    state.clicks.record(
        (
            click_id,
            link.deal_id,
            datetime.now(UTC),
            rules.visitor(state.visitor_key, address),
            rules.clip(user_agent),
            rules.clip(referrer),
        )
    )
    return RedirectAnswer(link.location(click_id))


REDIRECT_ROUTES = [follow_link]
