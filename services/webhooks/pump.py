"""The delivery pump the worker runs beside its jobs: fan out new events, send what is due.

It wakes when events commit (LISTEN `kolmarket_events`), when a delivery is asked for
(`kolmarket_webhook_deliveries`: a retry or a ping), when an answer was applied, or every
second. Up to `WEBHOOK_CONCURRENCY` attempts run at once per worker; their results are
applied in batches. Several workers share the work: the fan-out runs in one at a time and
claims skip each other's rows.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import asyncpg
import structlog

from services.feed.listener import EVENTS_CHANNEL, EventSignal
from services.settings import Settings
from services.webhooks import attempts, fanout, queries, rules
from services.webhooks.attempts import Result
from services.webhooks.delivery import HttpSender, Sender

POLL_SECONDS = 1.0
LEASE_MARGIN = 5.0  # seconds a claim outlives the request timeout
APPLY_BATCH = 500
FANOUT_INTERVAL = 0.05  # seconds
# What a lost or restarting database raises; the pump carries on and tries again.
DATABASE_AWAY = (
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)
log = structlog.get_logger(__name__)


class Pump:
    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: Settings,
        *,
        url: str | None = None,
        sender: Sender | None = None,
    ) -> None:
        self._pool = pool
        self._concurrency = settings.webhook_concurrency
        self._lease = settings.webhook_timeout_seconds + LEASE_MARGIN
        self._schedule = settings.webhook_retry_schedule or rules.RETRY_SCHEDULE
        self._sender = sender or HttpSender(
            settings.webhook_timeout_seconds, settings.webhook_allow_local
        )
        self._signal = EventSignal(url, (EVENTS_CHANNEL, queries.DELIVERIES_CHANNEL))
        self._inflight: set[asyncio.Task[None]] = set()
        self._results: asyncio.Queue[Result] = asyncio.Queue()
        self._answered = asyncio.Event()
        self._fanned_at = 0.0

    async def drain(self) -> int:
        """Fan out and send everything due now, waiting for each answer (retries due at
        once included); returns the attempts made. For runs that stop when idle."""
        made = 0
        while True:
            async with self._pool.acquire() as conn:
                await fanout.fan_out_all(conn)
                token, rows = await attempts.claim(conn, self._concurrency, self._lease)
            if not rows:
                return made
            results = await asyncio.gather(
                *(attempts.attempt(self._sender, r, token) for r in rows)
            )
            async with self._pool.acquire() as conn:
                await attempts.apply(conn, results, self._schedule)
            made += len(results)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run in the background for the duration of the block; on leaving, stop taking
        work, let the attempts under way finish and record them."""
        await self._signal.start()
        loop = asyncio.create_task(self._run())
        applier = asyncio.create_task(self._apply_forever())
        try:
            yield
        finally:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
            if self._inflight:
                await asyncio.wait(self._inflight)
            applier.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await applier
            await self._apply_waiting()
            await self._signal.stop()

    async def close(self) -> None:
        await self._sender.close()

    async def _run(self) -> None:
        while True:
            woken = self._signal.current
            try:
                busy, owed = await self._round()
            except (
                OSError,
                asyncpg.PostgresError,
                asyncpg.InterfaceError,
                asyncpg.InternalClientError,
            ) as error:
                log.warning("webhook_round_failed", error=str(error))
                busy, owed = False, False
            if busy:
                continue
            # A fan-out put off by its interval is made once the interval is over.
            remaining = max(0.0, self._fanned_at + FANOUT_INTERVAL - time.monotonic())
            timeout = remaining if owed else POLL_SECONDS
            waits = [asyncio.create_task(self._answered.wait())]
            if not owed:
                waits.append(asyncio.create_task(woken.wait()))
            try:
                await asyncio.wait(waits, timeout=timeout, return_when="FIRST_COMPLETED")
            finally:
                for task in waits:
                    task.cancel()
            self._answered.clear()

    async def _round(self) -> tuple[bool, bool]:
        """One fan-out step (at most every FANOUT_INTERVAL) and one claim: whether more is
        known to be waiting, and whether the fan-out was put off."""
        free = self._concurrency - len(self._inflight)
        read, owed = 0, True
        async with self._pool.acquire() as conn:
            if time.monotonic() - self._fanned_at >= FANOUT_INTERVAL:
                self._fanned_at, owed = time.monotonic(), False
                read, _ = await fanout.fan_out(conn)
            token, rows = await attempts.claim(conn, free, self._lease) if free else (None, [])
        for row in rows:
            task = asyncio.create_task(self._attempt(row, token))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        return read == fanout.BATCH or (free > 0 and len(rows) == free), owed

    async def _attempt(self, row: asyncpg.Record, token: object) -> None:
        result = await attempts.attempt(self._sender, row, token)  # type: ignore[arg-type]
        self._results.put_nowait(result)

    async def _apply_forever(self) -> None:
        while True:
            first = await self._results.get()
            await self._apply_batch([first])

    async def _apply_waiting(self) -> None:
        if not self._results.empty():
            await self._apply_batch([])

    async def _apply_batch(self, batch: list[Result]) -> None:
        while len(batch) < APPLY_BATCH and not self._results.empty():
            batch.append(self._results.get_nowait())
        try:
            async with self._pool.acquire() as conn:
                await attempts.apply(conn, batch, self._schedule)
        except (
            OSError,
            asyncpg.PostgresError,
            asyncpg.InterfaceError,
            asyncpg.InternalClientError,
        ) as error:
            # The claims' leases end and the deliveries are sent again.
            log.warning("webhook_results_lost", count=len(batch), error=str(error))
        self._answered.set()
