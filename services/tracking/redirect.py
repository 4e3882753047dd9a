"""The tracking redirect `GET /t/{code}`: a buyer following a KOL's link is sent on to the
product page with a click id the shop reports back with orders.

It is the busiest route and stays short: links are cached in the process (a link's
destination never changes), each click is appended to the process's spool file before the
answer and copied into the database in bulk by a background task (`clicks.ClickRecorder`), and
no database connection is taken for a known link. The per-address click limit is shared by
every process (`services.limits`).
"""

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import asyncpg
from litestar import Request, get
from litestar.datastructures import ResponseHeader
from litestar.params import FromPath
from litestar.response.base import ASGIResponse
from litestar.types import Receive, Scope, Send

from services.errors import NotFound
from services.tracking import rules_clicks as rules
from services.web import PUBLIC, problem_responses

FIND_LINK = "SELECT deal_id, destination FROM tracking_links WHERE code = $1"


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
        "Answers 302 with `Location` = the brief's product URL plus a `kmk_click` query parameter "
        "(a UUID, the click id the shop reports back with the order). The click is recorded unless "
        "the user agent is a crawler, link preview or HTTP library (its redirect then carries no "
        "click id). 404 when no tracking link has this code."
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
    await state.click_limiter.hit(address)
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
