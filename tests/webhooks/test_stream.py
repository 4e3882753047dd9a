"""The live stream over a real server on loopback: a KOL connected to `GET /v1/events/stream`
receives its invitation as it commits, disconnects, reconnects with `Last-Event-ID` and
misses nothing of what happened meanwhile."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from litestar import Litestar

from services.api.app import create_app
from services.settings import Settings
from tests.helpers import Client, kol, merchant
from tests.negotiation.support import answer, invite
from tests.webhooks.conftest import WAIT
from tests.webhooks.support import published_brief

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def server(hook_settings: Settings) -> AsyncIterator[str]:
    app: Litestar = create_app(hook_settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    running = uvicorn.Server(config)
    task = asyncio.create_task(running.serve())
    async with asyncio.timeout(WAIT):
        while not running.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
            await asyncio.sleep(0.02)
    port = running.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    await task


async def _read(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    """Server-Sent Events as dicts (`id`, `event`, `data`); comments as `comment`."""
    event: dict[str, Any] = {}
    async for line in lines:
        if not line:
            if event:
                yield event
            event = {}
        elif line.startswith(":"):
            event["comment"] = line[1:].strip()
        else:
            name, _, value = line.partition(":")
            event[name] = value.removeprefix(" ")


async def _collect(
    base: str, headers: dict[str, str], until: str, seen: list[dict[str, Any]]
) -> None:
    """Follow the stream until an event of type `until` arrives, keeping what came."""
    async with (
        httpx.AsyncClient(base_url=base, timeout=WAIT) as http,
        http.stream("GET", "/v1/events/stream", headers=headers) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        async for event in _read(response.aiter_lines()):
            if "event" in event:
                seen.append(event)
                if event["event"] == until:
                    return


async def test_a_kol_resumes_the_stream_without_missing_an_event(
    server: str, hook_client: Client
) -> None:
    owner, creator = await merchant(hook_client), await kol(hook_client)
    brief_id = await published_brief(hook_client, owner)
    stream_headers = {**creator.headers, "Accept": "text/event-stream"}

    first: list[dict[str, Any]] = []
    following = asyncio.create_task(_collect(server, stream_headers, "offer.created", first))
    await asyncio.sleep(0.3)  # let the stream start before the invitation is sent
    offer = await invite(hook_client, owner, brief_id, creator)
    async with asyncio.timeout(WAIT):
        await following
    assert [e["event"] for e in first] == ["offer.created"]
    assert '"offer_id":"' + offer["id"] in first[0]["data"]

    # Disconnected: the merchant withdraws the offer and invites again meanwhile.
    withdrawn = await answer(hook_client, owner, offer, "withdraw", 1)
    assert withdrawn.status_code == 200, withdrawn.text
    second_brief = await published_brief(hook_client, owner)
    again = await invite(hook_client, owner, second_brief, creator)

    resumed: list[dict[str, Any]] = []
    headers = {**stream_headers, "Last-Event-ID": first[-1]["id"]}
    async with asyncio.timeout(WAIT):
        await _collect(server, headers, "offer.created", resumed)
    assert [e["event"] for e in resumed] == ["offer.withdrawn", "offer.created"]
    assert again["id"] in resumed[-1]["data"]
    assert all(e["event"] != "brief.published" for e in first + resumed)


async def test_the_stream_needs_a_client_accepting_events_and_a_valid_last_event_id(
    server: str, hook_client: Client
) -> None:
    creator = await kol(hook_client)
    async with httpx.AsyncClient(base_url=server, timeout=WAIT) as http:
        json_only = {**creator.headers, "Accept": "application/json"}
        plain = await http.get("/v1/events/stream", headers=json_only)
        assert plain.status_code == 406
        bad = await http.get(
            "/v1/events/stream",
            headers={**creator.headers, "Accept": "text/event-stream", "Last-Event-ID": "x!"},
        )
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "Last-Event-ID"
        anonymous = await http.get("/v1/events/stream", headers={"Accept": "text/event-stream"})
        assert anonymous.status_code == 401
        empty = {**creator.headers, "Last-Event-ID": ""}  # as if not sent: starts now
        async with http.stream("GET", "/v1/events/stream", headers=empty) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")


async def test_a_quiet_stream_sends_heartbeats(server: str, hook_client: Client) -> None:
    creator = await kol(hook_client)
    headers = {**creator.headers, "Accept": "text/event-stream"}
    async with (
        httpx.AsyncClient(base_url=server, timeout=WAIT) as http,
        http.stream("GET", "/v1/events/stream", headers=headers) as response,
        asyncio.timeout(WAIT),
    ):
        async for event in _read(response.aiter_lines()):
            if event.get("comment") == "heartbeat":
                break
    assert event["comment"] == "heartbeat"
    assert "data" not in event
