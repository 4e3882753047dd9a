"""What the worker runs beside its jobs for notifications: the consumer that turns new events
into notifications, and the sender that mails what is due.

Both wake when events commit (LISTEN `kolmarket_events`), when mails are recorded
(`kolmarket_notification_mails`), or every few seconds (retries come due by time). They run as
two tasks, so a slow mail server never holds back the inbox. Several workers share the work:
the consumer runs in one at a time and mails are leased.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import structlog

from services.feed.listener import EVENTS_CHANNEL, EventSignal
from services.notifications import derive, queries, sending
from services.notifications.mail import Mailer, mailer_for
from services.settings import Settings

POLL_SECONDS = 5.0
LEASE_MARGIN = 10.0  # seconds a lease outlives the mail's three timed steps
log = structlog.get_logger(__name__)


class Notifier:
    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: Settings,
        *,
        url: str | None = None,
        mailer: Mailer | None = None,
    ) -> None:
        self._pool = pool
        self._settings = settings
        self._mailer = mailer or mailer_for(settings)
        self._lease = 3 * settings.smtp_timeout_seconds + LEASE_MARGIN
        self._signal = EventSignal(url, (EVENTS_CHANNEL, queries.MAILS_CHANNEL))

    async def drain(self, now: datetime | None = None) -> tuple[int, int]:
        """Derive every notification of the events so far, then send every mail due (at
        `now`); returns (notifications, mail attempts). For runs that stop when idle."""
        async with self._pool.acquire() as conn:
            made = await derive.derive_all(conn, self._settings)
        sent = await sending.send_due(
            self._pool, self._mailer, now or datetime.now(UTC), self._lease
        )
        return made, sent

    async def catch_up(self, wait_seconds: float = 30.0) -> tuple[int, int]:
        """Like `drain`, after waiting (at most `wait_seconds`) until every event written so
        far can be read: a transaction still open elsewhere on the server holds newer events
        back until it ends. For one-off runs (the demo) that no worker follows."""
        made, deadline = 0, time.monotonic() + wait_seconds
        async with self._pool.acquire() as conn:
            last = await conn.fetchval(queries.LAST_EVENT)
            while True:
                made += await derive.derive_all(conn, self._settings)
                if last is None or await conn.fetchval(queries.POSITION_PASSED, last):
                    break
                if time.monotonic() > deadline:
                    log.warning("notifications_held_back", waiting_for_event=last)
                    break
                await asyncio.sleep(0.1)
        more, sent = await self.drain()
        return made + more, sent

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Derive and send in the background for the duration of the block."""
        await self._signal.start()
        tasks = [
            asyncio.create_task(self._forever("notification_round_failed", self._derive)),
            asyncio.create_task(self._forever("email_round_failed", self._send)),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self._signal.stop()

    async def _derive(self) -> bool:
        async with self._pool.acquire() as conn:
            read, _ = await derive.derive(conn, self._settings)
        return read == derive.BATCH

    async def _send(self) -> bool:
        now = datetime.now(UTC)
        statuses = await sending.send_round(
            self._pool, self._mailer, now, self._lease, sending.CONCURRENCY
        )
        return len(statuses) == sending.CONCURRENCY

    async def _forever(self, failure: str, step: Callable[[], Awaitable[bool]]) -> None:
        """Run `step` while it says more is waiting, then wait for a wake-up or the poll."""
        while True:
            woken = self._signal.current
            try:
                if await step():
                    continue
            except (OSError, asyncpg.PostgresError) as error:
                log.warning(failure, error=str(error))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_SECONDS):
                    await woken.wait()
