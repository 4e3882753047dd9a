"""A proxy in front of the Stripe peer that fails when told to, for the tests of what the
product does when Stripe cannot be reached or its answer is lost.

    proxy = FaultProxy(peer_url)
    proxy.start()                                         # then point the app at proxy.url
    proxy.inject("drop", "POST", "/v1/transfers")         # Stripe acts, its answer is lost
    proxy.inject("refuse", "POST", "/v1/refunds")         # closed at once, never forwarded
    proxy.inject("hang", "POST", "/v1/payment_intents", seconds=30)  # held, then dropped
    with proxy.unreachable():                             # connections are refused meanwhile
        ...

A rule matches a method, a path prefix and, if given, a text the request's body must contain;
it fires `times` times. A `drop` rule may run `then` once Stripe has answered and before the
answer is thrown away (the tests kill a worker there). Everything else is forwarded as it came.
Each answer closes its connection, so no idle connection outlives `unreachable()`. Every
request is noted in `seen` with what became of it.

The proxy runs its own event loop in a thread of its own: the app's test client blocks the
tests' loop while the app answers, and the app must still reach Stripe meanwhile.
"""

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import aiohttp
from aiohttp import web

Fault = Literal["drop", "refuse", "hang"]
# Headers about one hop's connection, not about the request itself.
HOP_BY_HOP = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade"}
)
T = TypeVar("T")


@dataclass
class Rule:
    fault: Fault
    method: str
    path: str
    times: int = 1
    seconds: float = 30.0  # how long a `hang` holds the request before dropping it
    contains: str = ""
    then: Callable[[], None] | None = None
    fired: int = 0

    def matches(self, method: str, path: str, body: bytes) -> bool:
        return (
            self.fired < self.times
            and method == self.method
            and path.startswith(self.path)
            and self.contains.encode() in body
        )


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.rules: list[Rule] = []
        self.seen: list[tuple[str, str, str]] = []  # method, path, what became of it
        self.port = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._released: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        self._run(self._start())

    def close(self) -> None:
        self._run(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def inject(
        self,
        fault: Fault,
        method: str,
        path: str,
        *,
        times: int = 1,
        seconds: float = 30.0,
        contains: str = "",
        then: Callable[[], None] | None = None,
    ) -> Rule:
        rule = Rule(fault, method, path, times, seconds, contains, then)
        with self._lock:
            self.rules.append(rule)
        return rule

    def release(self) -> None:
        """End every hang now (each held request is dropped)."""
        self._run(self._release())

    def reset(self) -> None:
        """No rules, nothing held, nothing seen."""
        self.release()
        with self._lock:
            self.rules.clear()
            self.seen.clear()

    def outcomes(self, method: str, path: str) -> list[str]:
        """What became of each request to `path`, in order."""
        with self._lock:
            return [what for m, p, what in self.seen if m == method and p.startswith(path)]

    @contextlib.contextmanager
    def unreachable(self) -> Iterator[None]:
        """Stop listening: every connection is refused until the block ends."""
        assert self._site is not None
        self._run(self._site.stop())
        try:
            yield
        finally:
            self._run(self._listen())

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=30)

    async def _start(self) -> None:
        self._released = asyncio.Event()
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        self._session = aiohttp.ClientSession(auto_decompress=False)
        await self._listen()

    async def _close(self) -> None:
        await self._release()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _release(self) -> None:
        assert self._released is not None
        released, self._released = self._released, asyncio.Event()
        released.set()

    async def _listen(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await self._site.start()
        self.port = self._runner.addresses[0][1]

    def _match(self, request: web.Request, body: bytes) -> Rule | None:
        method, path = request.method, request.path
        with self._lock:
            rule = next((r for r in self.rules if r.matches(method, path, body)), None)
            if rule is not None:
                rule.fired += 1
            self.seen.append((method, path, rule.fault if rule else "forwarded"))
            return rule

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        rule = self._match(request, body)
        if rule is None:
            return await self._forward(request, body)
        if rule.fault == "hang":
            assert self._released is not None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(rule.seconds):
                    await self._released.wait()
        elif rule.fault == "drop":
            await self._forward(request, body)
            if rule.then is not None:
                rule.then()
        if request.transport is not None:
            request.transport.close()  # the client never gets an answer
        return web.Response(status=204)

    async def _forward(self, request: web.Request, body: bytes) -> web.Response:
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        async with self._session.request(
            request.method, self.upstream + request.path_qs, headers=headers, data=body
        ) as answer:
            content = await answer.read()
            back = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
        forwarded = web.Response(body=content, status=answer.status, headers=back)
        forwarded.force_close()
        return forwarded
