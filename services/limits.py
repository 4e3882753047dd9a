"""Rate limits shared by every process: fixed windows counted in one place for all replicas
(the `limit_counters` table, or Redis where `REDIS_URL` is set) and decided in the process.

Each process keeps, per key, the last count the store gave it (`known`) and the hits it let
through since (`pending`). Far from the limit a hit is decided locally at no cost; the process
may let through a share of what was left at its last look (an eighth of it) before it must
ask again. Near the limit every hit is counted in the store first and decided on the total it
answers, so the limit holds however many processes share it. A background task sends the
pending hits every 100 ms, so each process soon sees the others' hits. The keys a process
remembers are bounded (the least recently used one is forgotten first, its pending hits
still sent); the store keeps every key. When the store cannot be reached, each process falls
back to counting on its own, and says so in the log.
"""

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

import asyncpg
import structlog

from services.errors import TooManyRequests

log = structlog.get_logger(__name__)

SYNC_SECONDS = 0.1  # pending hits reach the store at least this often
SPREAD = 8  # a process lets through at most 1/SPREAD of what was left before asking again
KEYS = 100_000  # keys one limit remembers in a process
KEEP_SECONDS = 3_600  # counters of windows older than this are purged from the table
PURGE_SECONDS = 300.0
KEY_CHARS = 200  # of a key as stored (an address or a caller is far shorter)

# One row per key and window; UNLOGGED: a counter lost in a server crash only forgets who
# called in the last minute. The rows are sent sorted, so two processes never deadlock.
ADD = """
    INSERT INTO limit_counters AS c (window_start, key, hits)
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[])
    ON CONFLICT (window_start, key) DO UPDATE SET hits = c.hits + excluded.hits
    RETURNING c.window_start, c.key, c.hits
"""
PURGE = "DELETE FROM limit_counters WHERE window_start < $1"

Increment = tuple[int, str, int]  # window start (epoch seconds), key, hits


class CounterStore(Protocol):
    """Where every process's hits add up: `add` counts the increments and answers each
    (window, key)'s total."""

    async def add(
        self, window_seconds: int, increments: Sequence[Increment]
    ) -> list[Increment]: ...

    async def purge(self) -> None: ...

    async def close(self) -> None: ...


class PostgresCounters:
    """Counters in the `limit_counters` table of the app's database."""

    def __init__(self, pool: asyncpg.Pool, timeout: float = 1.0) -> None:
        self.pool, self.timeout = pool, timeout

    async def add(self, window_seconds: int, increments: Sequence[Increment]) -> list[Increment]:
        ordered = sorted(increments)
        async with self.pool.acquire(timeout=self.timeout) as conn:
            rows = await conn.fetch(
                ADD, [i[0] for i in ordered], [i[1] for i in ordered], [i[2] for i in ordered],
                timeout=self.timeout,
            )  # fmt: skip
        return [(r[0], r[1], r[2]) for r in rows]

    async def purge(self) -> None:
        async with self.pool.acquire(timeout=self.timeout) as conn:
            await conn.execute(PURGE, int(time.time()) - KEEP_SECONDS)

    async def close(self) -> None:
        """The pool belongs to the app."""


class RedisCounters:
    """Counters in Redis: one key per limit key and window, expiring after its window."""

    def __init__(self, url: str, timeout: float = 1.0) -> None:
        import redis.asyncio as redis

        self.redis = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )

    async def add(self, window_seconds: int, increments: Sequence[Increment]) -> list[Increment]:
        pipe = self.redis.pipeline(transaction=False)
        for window, key, hits in increments:
            name = f"kolmarket:limit:{key}:{window}"
            pipe.incrby(name, hits)
            pipe.expireat(name, window + window_seconds + 60)
        totals = (await pipe.execute())[0::2]
        return [(w, k, int(t)) for (w, k, _), t in zip(increments, totals, strict=True)]

    async def purge(self) -> None:
        """Redis expires the keys itself."""

    async def close(self) -> None:
        await self.redis.aclose()


class _Count:
    __slots__ = ("known", "pending", "window")

    def __init__(self, window: int) -> None:
        self.window, self.known, self.pending = window, 0, 0


class SharedLimit:
    """At most `limit` hits per key in each fixed window of `window_seconds` (aligned to the
    clock, the same windows in every process), across every process sharing the store."""

    def __init__(
        self, name: str, limit: int, window_seconds: int = 60, *, keys: int = KEYS
    ) -> None:
        assert 0 < window_seconds <= KEEP_SECONDS
        self.name, self.limit, self.window, self.keys = name, limit, window_seconds, keys
        self.store: CounterStore | None = None
        self._counts: OrderedDict[str, _Count] = OrderedDict()
        self._dirty: set[str] = set()
        self._forgotten: list[Increment] = []

    async def hit(self, key: str) -> None:
        """Count one hit of `key`, or raise TooManyRequests (with the seconds left)."""
        now = time.time()
        window = int(now) - int(now) % self.window
        count = self._count(key, window)
        if count.known + count.pending >= self.limit:
            raise self._refusal(window, now)
        if self.store is None or count.pending < (self.limit - count.known) // SPREAD:
            count.pending += 1
            self._dirty.add(key)
            return
        await self._ask_store(key, count, now)

    async def _ask_store(self, key: str, count: _Count, now: float) -> None:
        """Near the limit: this hit and the pending ones are counted first, then decided on
        the total; without the store, on this process's own count."""
        assert self.store is not None
        window, hits = count.window, count.pending + 1
        count.pending = 0
        try:
            answer = await self.store.add(self.window, [(window, self._stored(key), hits)])
        except Exception as exc:
            _unreachable(self.name, exc)
            count.pending += hits
            if count.known + count.pending > self.limit:
                count.pending -= 1
                raise self._refusal(window, now) from None
            self._dirty.add(key)
            return
        total = answer[0][2]
        count.known = max(count.known, total)
        if total > self.limit:
            raise self._refusal(window, now)

    def _count(self, key: str, window: int) -> _Count:
        count = self._counts.get(key)
        if count is None:
            count = self._counts[key] = _Count(window)
            if len(self._counts) > self.keys:
                self._forget_oldest()
        else:
            self._counts.move_to_end(key)
            if count.window != window:  # a new window: the old one's hits no longer matter
                count.window, count.known, count.pending = window, 0, 0
        return count

    def _forget_oldest(self) -> None:
        key, count = self._counts.popitem(last=False)
        if count.pending and self.store is not None:
            self._forgotten.append((count.window, self._stored(key), count.pending))

    def _stored(self, key: str) -> str:
        return f"{self.name}:{key[:KEY_CHARS]}"

    def _refusal(self, window: int, now: float) -> TooManyRequests:
        return TooManyRequests(retry_after=max(1, int(window + self.window - now + 0.999)))

    async def sync(self) -> None:
        """Send the pending hits of every key to the store and learn each key's total."""
        if self.store is None or not (self._dirty or self._forgotten):
            return
        sent = self._take_pending()
        if not sent:
            return
        try:
            totals = await self.store.add(self.window, list(sent.values()))
        except BaseException:
            self._give_back(sent)
            raise
        prefix = len(self.name) + 1
        for window, stored, total in totals:
            count = self._counts.get(stored[prefix:])
            if count is not None and count.window == window:
                count.known = max(count.known, total)

    def _take_pending(self) -> dict[tuple[int, str], Increment]:
        now = int(time.time())
        current = now - now % self.window
        sent: dict[tuple[int, str], Increment] = {}
        for window, stored, hits in self._forgotten:
            if window == current:
                previous = sent.get((window, stored), (window, stored, 0))[2]
                sent[window, stored] = (window, stored, previous + hits)
        self._forgotten = []
        for key in self._dirty:
            count = self._counts.get(key)
            if count is None or not count.pending or count.window != current:
                continue
            stored = self._stored(key)
            previous = sent.get((current, stored), (current, stored, 0))[2]
            sent[current, stored] = (current, stored, previous + count.pending)
            count.pending = 0
        self._dirty = set()
        return sent

    def _give_back(self, sent: dict[tuple[int, str], Increment]) -> None:
        prefix = len(self.name) + 1
        for window, stored, hits in sent.values():
            count = self._counts.get(stored[prefix:])
            if count is not None and count.window == window:
                count.pending += hits
                self._dirty.add(stored[prefix:])


_warned: dict[str, float] = {}


def _unreachable(name: str, exc: BaseException) -> None:
    """Say at most once a minute per limit that its store could not be reached."""
    now = time.monotonic()
    if now - _warned.get(name, -60.0) >= 60.0:
        _warned[name] = now
        log.warning("limit_store_unreachable", limit=name, error=repr(exc))


class SharedLimits:
    """The process's shared limits and the task that keeps them in step with the store."""

    def __init__(self) -> None:
        self.limits: list[SharedLimit] = []
        self.store: CounterStore | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def limit(self, name: str, limit: int, window_seconds: int = 60) -> SharedLimit:
        made = SharedLimit(name, limit, window_seconds)
        self.limits.append(made)
        return made

    def start(self, store: CounterStore) -> None:
        self.store = store
        for shared in self.limits:
            shared.store = store
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="shared-limits")

    async def stop(self) -> None:
        """Send what is pending one last time, then let go of the store."""
        self._stopping.set()
        if self._task is not None:
            await self._task
        await self.sync()
        for shared in self.limits:
            shared.store = None
        if self.store is not None:
            await self.store.close()

    async def sync(self) -> None:
        for shared in self.limits:
            try:
                await shared.sync()
            except Exception as exc:  # the next round tries again
                _unreachable(shared.name, exc)

    async def _run(self) -> None:
        purge_at = time.monotonic()
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), SYNC_SECONDS)
            await self.sync()
            if time.monotonic() >= purge_at and self.store is not None:
                purge_at = time.monotonic() + PURGE_SECONDS
                try:
                    await self.store.purge()
                except Exception as exc:
                    _unreachable("purge", exc)
