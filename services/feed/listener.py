"""Wake-ups when events commit: one LISTEN connection per process, shared by every reader.

A commit that wrote events notifies the channel `kolmarket_events` (a trigger on `events`);
each API replica and worker listens on its own connection, so any number of replicas see
every commit. A notification carries nothing: readers wake and read from their own position,
so a lost or coalesced notification only delays them until their next timed read. The
connection is reopened when it drops.
"""

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import asyncpg
import structlog

from services import database

EVENTS_CHANNEL = "kolmarket_events"
log = structlog.get_logger(__name__)


class EventSignal:
    """`current` is an asyncio event set at the next notification: take it before reading,
    then wait on it, and no commit between the two is missed."""

    def __init__(self, url: str | None, channels: Sequence[str] = (EVENTS_CHANNEL,)) -> None:
        self._url = url
        self._channels = tuple(channels)
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def current(self) -> asyncio.Event:
        return self._event

    def wake(self, *_: Any) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def start(self) -> None:
        if self._url is not None and self._task is None:
            self._task = asyncio.create_task(self._listen(self._url))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _listen(self, url: str) -> None:
        while True:
            try:
                conn = await asyncpg.connect(database.asyncpg_dsn(url))
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("event_listener_connect_failed", error=str(error))
                await asyncio.sleep(2)
                continue
            try:
                await self._follow(conn)
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("event_listener_dropped", error=str(error))
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.shield(conn.close(timeout=2))

    async def _follow(self, conn: asyncpg.Connection) -> None:
        """Wake readers on each notification until the connection ends."""
        closed = asyncio.Event()
        conn.add_termination_listener(lambda _: closed.set())
        for channel in self._channels:
            await conn.add_listener(channel, self.wake)
        self.wake()  # catch up on what committed while not listening
        await closed.wait()
