"""Recording clicks of tracking links: none acknowledged is ever lost, and the redirect never
waits for the database.

`ClickRecorder.record` keeps a click in the process's spool file (`spool.py`) and in memory;
every `interval` seconds (or as soon as `batch` clicks wait) the background task copies the
waiting clicks into `clicks` with one COPY and deletes their segment. If the copy fails (the
database is down), the segment stays on disk, memory lets go of its clicks, and the segment
is replayed from the file when the database answers again; a stopped process's segments are
replayed by the next process that starts (or by a running one within a minute). A replay
inserts with `ON CONFLICT (id) DO NOTHING`, so a copy whose commit was lost in transit is
not stored twice. Only clicks whose link exists in this database are replayed.
"""

import asyncio
import contextlib
import time
from pathlib import Path

import asyncpg
import structlog

from services.tracking.spool import Click, ClickSpool, Segment

log = structlog.get_logger(__name__)

CLICK_COLUMNS = ("id", "deal_id", "clicked_at", "visitor", "user_agent", "referrer")
REPLAY = """
    INSERT INTO clicks (id, deal_id, clicked_at, visitor, user_agent, referrer)
    SELECT r.* FROM unnest(
        $1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::text[]
    ) AS r (id, deal_id, clicked_at, visitor, user_agent, referrer)
    WHERE EXISTS (SELECT FROM tracking_links t WHERE t.deal_id = r.deal_id)
    ON CONFLICT (id) DO NOTHING
"""
ORPHAN_SECONDS = 60.0  # how often a running process looks for stopped processes' segments
RETRY_SECONDS = 1.0  # the wait after a failed write
STOP_SECONDS = 5.0  # the last write at a stop; what it cannot store stays in the spool


class ClickRecorder:
    """Clicks wait in the spool and in memory and are copied into `clicks` together.
    `flush()` stores everything recorded before it, or raises and keeps it in the spool."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        spool_folder: Path,
        *,
        interval: float = 0.1,
        batch: int = 1_000,
        max_waiting: int = 100_000,
    ) -> None:
        self.pool = pool
        self.spool = ClickSpool(spool_folder)
        self.interval, self.batch, self.max_waiting = interval, batch, max_waiting
        self._waiting: list[Click] = []  # the clicks of the current segment, while in memory
        self._in_memory = True  # whether _waiting holds every click of the current segment
        self._unspooled: list[Click] = []  # clicks the disk refused: memory is all they have
        self._unstored: list[Segment] = []  # sealed segments to replay from their files
        self._next_spool_error = 0.0
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def record(self, click: Click) -> None:
        try:
            self.spool.append(click)
        except OSError as exc:
            self._not_spooled(click, exc)
            return
        if not self._in_memory:
            return
        if len(self._waiting) >= self.max_waiting:
            self._waiting, self._in_memory = [], False  # the segment's file has them all
            return
        self._waiting.append(click)
        if len(self._waiting) >= self.batch:
            self._wake.set()

    def _not_spooled(self, click: Click, exc: OSError) -> None:
        """The disk refused the click (a full disk, a folder the process may not write): it
        waits in memory only, and is lost if the process stops before the database takes it.
        Logged at most once a minute."""
        if len(self._unspooled) < self.max_waiting:
            self._unspooled.append(click)
        now = time.monotonic()
        if now >= self._next_spool_error:
            self._next_spool_error = now + 60.0
            log.error("click_not_spooled", error=repr(exc), folder=str(self.spool.folder))

    @property
    def waiting(self) -> int:
        """Clicks recorded and not yet known to be stored."""
        in_files = sum(max(0, s.clicks) for s in self._unstored)
        current = self.spool.current.clicks if self.spool.current else 0
        return in_files + current + len(self._unspooled)

    async def flush(self) -> int:
        """Store every click recorded so far; returns how many this call stored."""
        async with self._lock:
            stored = await self._replay_unstored()
            sealed = self.spool.seal()
            clicks, in_memory = self._waiting, self._in_memory
            unspooled, self._unspooled = self._unspooled, []
            self._waiting, self._in_memory = [], True
            try:
                if sealed is not None and not in_memory:
                    stored += await self._replay(sealed)
                    clicks = []
                stored += await self._copy(clicks + unspooled)
            except BaseException:
                if sealed is not None:
                    self._unstored.append(sealed)
                self._unspooled[:0] = unspooled[: max(0, self.max_waiting - len(self._unspooled))]
                raise
            if sealed is not None:
                self.spool.remove(sealed)
            return stored

    async def _copy(self, clicks: list[Click]) -> int:
        if clicks:
            async with self.pool.acquire() as conn:
                await conn.copy_records_to_table("clicks", records=clicks, columns=CLICK_COLUMNS)
        return len(clicks)

    async def _replay_unstored(self) -> int:
        stored = 0
        while self._unstored:
            stored += await self._replay(self._unstored[0])
            self.spool.remove(self._unstored.pop(0))
        return stored

    async def _replay(self, segment: Segment) -> int:
        """Insert a segment's clicks from its file; those already stored are left alone."""
        stored = unreadable = 0
        for clicks, bad in self.spool.read(segment):
            unreadable += bad
            if clicks:
                columns = [list(column) for column in zip(*clicks, strict=True)]
                async with self.pool.acquire() as conn:
                    status = await conn.execute(REPLAY, *columns)
                stored += int(status.rsplit(" ", 1)[1])
        log.info(
            "spooled_clicks_replayed", segment=segment.path.name, stored=stored,
            unreadable=unreadable,
        )  # fmt: skip
        return stored

    async def replay_orphans(self) -> int:
        """Store the segments of processes that stopped; returns how many clicks were new."""
        async with self._lock:
            self._unstored.extend(self.spool.orphans())
            return await self._replay_unstored()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="click-recorder")

    async def stop(self) -> None:
        """Let the background task finish its round, then store what is left; what cannot be
        stored now stays in the spool for the next start."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
        try:
            async with asyncio.timeout(STOP_SECONDS):
                await self.flush()
        except Exception as exc:
            log.warning(
                "clicks_kept_in_spool", clicks=self.waiting, folder=str(self.spool.folder),
                error=repr(exc),
            )  # fmt: skip
        if self._unspooled:
            log.error("clicks_not_written", clicks=len(self._unspooled))
        for segment in self._unstored:
            self.spool.release(segment)
        self._unstored = []
        self.spool.close()

    async def _run(self) -> None:
        next_look = time.monotonic()
        while not self._stopping:
            try:
                if time.monotonic() >= next_look:
                    next_look = time.monotonic() + ORPHAN_SECONDS
                    await self.replay_orphans()
                await self.flush()
            except Exception as exc:  # the task outlives any failed write; the spool keeps
                log.warning("clicks_not_stored_yet", clicks=self.waiting, error=repr(exc))
                await asyncio.sleep(RETRY_SECONDS)
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()
            self._wake.clear()
