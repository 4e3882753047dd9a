"""Sending one webhook message: Standard Webhooks signatures, and the HTTP call itself.

The signature is made with the `standardwebhooks` library over `id.timestamp.body`; during
the day after a secret rotation a second signature with the previous secret travels beside
the first (space-separated, as the specification allows). The call connects to the address
that passed the SSRF check (TLS still verifies the endpoint's own name), follows no
redirect, reads no more than a little of the answer and is given up after the timeout.
"""

import asyncio
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Protocol

import httpx
from standardwebhooks import Webhook

from services.errors import Invalid
from services.webhooks import addresses, rules
from services.webhooks.rules import Outcome, Target

USER_AGENT = "kolmarket-webhooks/1"
MAX_CLIENTS = 256
ANSWER_BYTES = 1024


def signed_headers(message_id: str, body: bytes, secrets: list[str]) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt (its timestamp is the attempt's)."""
    sent_at = datetime.fromtimestamp(int(time.time()), UTC)
    text = body.decode()
    signatures = " ".join(Webhook(s).sign(message_id, sent_at, text) for s in secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


class Sender(Protocol):
    """Posts a signed message to an endpoint and says what came of it; never raises."""

    async def send(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome: ...

    async def close(self) -> None: ...


class HttpSender:
    """The real sender: httpx, one client per host (so a pooled TLS connection only ever
    carries messages for the name it was verified for)."""

    def __init__(self, timeout: float, allow_local: bool) -> None:
        self._timeout = timeout
        self._allow_local = allow_local
        self._clients: OrderedDict[tuple[str, str, int], httpx.AsyncClient] = OrderedDict()

    async def send(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        started = time.monotonic()
        try:
            target = rules.parse_url(url, self._allow_local)
        except Invalid as invalid:
            return _outcome(started, None, f"refused: {invalid.errors[0][1]}")
        try:
            async with asyncio.timeout(self._timeout):
                address = await addresses.resolve(target, self._allow_local)
                status = await self._post(target, address, body, headers)
        except addresses.Refused as refused:
            return _outcome(started, None, f"refused: {refused}")
        except TimeoutError:
            return _outcome(started, None, f"no answer within {self._timeout:g} s")
        except httpx.HTTPError as error:
            return _outcome(started, None, f"{type(error).__name__}: {error}"[:300])
        except Exception as error:  # whatever went wrong, it is this attempt's failure
            return _outcome(started, None, f"{type(error).__name__}: {error}"[:300])
        return _outcome(started, status, None if 200 <= status < 300 else f"HTTP {status}")

    async def _post(
        self, target: Target, address: rules.Address, body: bytes, headers: dict[str, str]
    ) -> int:
        literal = f"[{address}]" if address.version == 6 else str(address)
        pinned = f"{target.scheme}://{literal}:{target.port}{target.path}"
        default_port = 443 if target.scheme == "https" else 80
        host = target.host if target.port == default_port else f"{target.host}:{target.port}"
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        client = self._client(target)
        request = client.build_request(
            "POST", pinned, content=body, headers={**headers, "host": host}, extensions=extensions
        )
        response = await client.send(request, stream=True)
        try:
            async for _ in response.aiter_raw(ANSWER_BYTES):
                break
        finally:
            await response.aclose()
        return response.status_code

    def _client(self, target: Target) -> httpx.AsyncClient:
        key = (target.scheme, target.host, target.port)
        client = self._clients.get(key)
        if client is None:
            client = httpx.AsyncClient(
                timeout=httpx.Timeout(self._timeout),
                follow_redirects=False,
                trust_env=False,
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            )
            self._clients[key] = client
            if len(self._clients) > MAX_CLIENTS:
                _, oldest = self._clients.popitem(last=False)
                asyncio.get_running_loop().create_task(oldest.aclose())
        self._clients.move_to_end(key)
        return client

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), OrderedDict()
        for client in clients:
            await client.aclose()


def _outcome(started: float, status: int | None, error: str | None) -> Outcome:
    return Outcome(status, int((time.monotonic() - started) * 1000), error)
