"""A signed-in caller's current standing, checked on every request.

An access token says who the caller is; what the caller may do comes from the database as it
is now: the account enabled, its merchant enabled, its membership and role. Reading that on
every request would cost a query each time, so each process keeps a small cache of it, and
PostgreSQL empties the cache for everyone: a trigger on `users`, `merchant_members` and
`merchants` sends `NOTIFY kolmarket_standing` with the user or merchant whose standing
changed, delivered to every listening process when the change commits. The process that made
the change also forgets at once, before it answers.

While the listening connection is down the cache is not used (every request reads the
database) and it is emptied when listening resumes, since notices sent meanwhile are lost.
Entries also expire after `ttl` seconds, a bound on staleness should a notice ever be missed
without the connection noticing.
"""

import asyncio
import contextlib
import time
from dataclasses import dataclass
from uuid import UUID

import asyncpg
import structlog

from services import database
from services.actors import Caller
from services.errors import Unauthorized

log = structlog.get_logger(__name__)
CHANNEL = "kolmarket_standing"
PING_SECONDS = 30.0

FIND_STANDING = """
    SELECT u.role, u.disabled_at IS NOT NULL AS disabled,
           m.merchant_id, m.role AS member_role, mc.disabled_at IS NOT NULL AS merchant_disabled,
           k.id AS kol_id
    FROM users u
    LEFT JOIN merchant_members m ON m.user_id = u.id
    LEFT JOIN merchants mc ON mc.id = m.merchant_id
    LEFT JOIN kols k ON k.user_id = u.id
    WHERE u.id = $1
"""


@dataclass(frozen=True, slots=True)
class Standing:
    """What a user may do now: a caller, or the reason it may not act at all."""

    caller: Caller | None
    refusal: str | None
    merchant_id: UUID | None

    def admit(self) -> Caller:
        if self.caller is None:
            raise Unauthorized(self.refusal or "the account cannot act")
        return self.caller


def standing_of(user_id: UUID, row: asyncpg.Record | None) -> Standing:
    if row is None:
        return Standing(None, "the account no longer exists", None)
    merchant_id = row["merchant_id"]
    if row["disabled"]:
        return Standing(None, "the account is disabled", merchant_id)
    if row["merchant_disabled"]:
        return Standing(None, "the account's merchant is disabled", merchant_id)
    caller = Caller(
        kind=row["role"],
        user_id=user_id,
        merchant_id=merchant_id,
        member_role=row["member_role"],
        kol_id=row["kol_id"],
    )
    return Standing(caller, None, merchant_id)


async def read(conn: asyncpg.Connection, user_id: UUID) -> Standing:
    return standing_of(user_id, await conn.fetchrow(FIND_STANDING, user_id))


class StandingCache:
    """Per-process standing of recent callers, emptied by notices from PostgreSQL."""

    def __init__(
        self, ttl: float = 60.0, max_entries: int = 50_000, acquire_timeout: float | None = None
    ) -> None:
        self.ttl = ttl
        self.acquire_timeout = acquire_timeout  # waiting for a pooled connection to read
        self.max_entries = max_entries
        self._entries: dict[UUID, tuple[float, Standing]] = {}
        self._generation = 0  # moves on every forget: a read begun before is not kept
        self._live = False
        self._task: asyncio.Task[None] | None = None
        self.notices = 0  # received from PostgreSQL so far

    @property
    def live(self) -> bool:
        return self._live

    async def get(self, pool: asyncpg.Pool, user_id: UUID) -> Standing:
        """The user's standing: cached, or read from the database."""
        entry = self._entries.get(user_id)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        generation = self._generation
        async with pool.acquire(timeout=self.acquire_timeout) as conn:
            standing = await read(conn, user_id)
        if self._live and generation == self._generation:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[user_id] = (time.monotonic() + self.ttl, standing)
        return standing

    def forget(self, *, user_id: UUID | None = None, merchant_id: UUID | None = None) -> None:
        """Drop what is known of a user, or of every member of a merchant."""
        self._generation += 1
        if user_id is not None:
            self._entries.pop(user_id, None)
        if merchant_id is not None:
            stale = [u for u, (_, s) in self._entries.items() if s.merchant_id == merchant_id]
            for user in stale:
                del self._entries[user]

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()

    def notified(self, payload: str) -> None:
        self.notices += 1
        kind, _, ident = payload.partition(":")
        try:
            uid = UUID(ident)
        except ValueError:
            self.clear()
            return
        if kind == "user":
            self.forget(user_id=uid)
        elif kind == "merchant":
            self.forget(merchant_id=uid)
        else:
            self.clear()

    async def start(self, url: str) -> None:
        """Listen for changes in the background until `stop`."""
        self._task = asyncio.create_task(self._listen(url))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._live = False
        self.clear()

    async def _listen(self, url: str) -> None:
        delay = 0.5
        while True:
            try:
                await self._listen_once(url)
                delay = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("standing_listener_failed", error=type(exc).__name__)
            finally:
                self._live = False
                self.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    async def _listen_once(self, url: str) -> None:
        """Listen on one connection until it is lost; a ping every half minute finds a
        connection that died without a word."""
        lost = asyncio.Event()
        conn = await database.connect(url)
        try:
            conn.add_termination_listener(lambda _: lost.set())
            await conn.add_listener(CHANNEL, lambda *args: self.notified(args[-1]))
            self.clear()  # notices sent before listening began are not coming
            self._live = True
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), timeout=PING_SECONDS)
                if not lost.is_set():
                    await conn.fetchval("SELECT 1", timeout=PING_SECONDS)
            log.warning("standing_listener_lost")
        finally:
            if not conn.is_closed():
                await conn.close()
