"""Clicks are kept in the spool until they are stored: a database outage, a copy whose answer
was lost, a stopped process, a cut-short line or a memory bound never lose or double one."""

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from structlog.testing import capture_logs

from services import database
from services.tracking.clicks import ClickRecorder
from services.tracking.spool import SUFFIX, Click, ClickSpool
from tests.helpers import Client
from tests.tracking.support import CHROME, make_deal

COUNT = "SELECT count(*) FROM clicks WHERE id = any($1::uuid[])"


class Outage:
    """A pool in front of the real one that fails while the database is "down", or whose copy
    reaches the database but loses its answer."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool, self.down, self.lose_answer = pool, False, False

    def acquire(self) -> Any:
        if self.down:
            raise ConnectionRefusedError("the database is down")
        return _Acquired(self)


class _Acquired:
    def __init__(self, outage: Outage) -> None:
        self.outage, self.inner = outage, outage.pool.acquire()

    async def __aenter__(self) -> Any:
        conn = await self.inner.__aenter__()
        return _LosingAnswers(conn, self.outage) if self.outage.lose_answer else conn

    async def __aexit__(self, *exc: Any) -> None:
        await self.inner.__aexit__(*exc)


class _LosingAnswers:
    def __init__(self, conn: asyncpg.Connection, outage: Outage) -> None:
        self.conn, self.outage = conn, outage

    async def copy_records_to_table(self, *args: Any, **kwargs: Any) -> None:
        await self.conn.copy_records_to_table(*args, **kwargs)
        self.outage.lose_answer = False
        raise ConnectionResetError("the answer to the copy was lost")


@pytest.fixture(scope="module")
async def deal_id(client: Client) -> uuid.UUID:
    return uuid.UUID((await make_deal(client))["id"])


@pytest.fixture
async def outage(database_url: str) -> AsyncIterator[Outage]:
    pool = await database.create_pool(database_url, min_size=1, max_size=2)
    try:
        yield Outage(pool)
    finally:
        await pool.close()


def _clicks(deal_id: uuid.UUID, n: int) -> list[Click]:
    now = datetime.now(UTC)
    return [(uuid.uuid4(), deal_id, now, "v", CHROME, None) for _ in range(n)]


def _segments(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"*{SUFFIX}"))


async def test_clicks_wait_in_the_spool_during_an_outage_and_are_stored_once_after(
    outage: Outage, db: asyncpg.Connection, deal_id: uuid.UUID, tmp_path: Path
) -> None:
    recorder = ClickRecorder(outage, tmp_path)  # type: ignore[arg-type]
    first, second = _clicks(deal_id, 5), _clicks(deal_id, 3)
    outage.down = True
    for click in first:
        recorder.record(click)
    with pytest.raises(ConnectionRefusedError):
        await recorder.flush()
    for click in second:
        recorder.record(click)
    with pytest.raises(ConnectionRefusedError):
        await recorder.flush()
    ids = [c[0] for c in first + second]
    assert await db.fetchval(COUNT, ids) == 0
    assert recorder.waiting == 8 and len(_segments(tmp_path)) == 2
    outage.down = False
    assert await recorder.flush() == 8
    assert await db.fetchval(COUNT, ids) == 8
    assert _segments(tmp_path) == [] and recorder.waiting == 0


async def test_a_copy_whose_answer_was_lost_is_not_stored_twice(
    outage: Outage, db: asyncpg.Connection, deal_id: uuid.UUID, tmp_path: Path
) -> None:
    recorder = ClickRecorder(outage, tmp_path)  # type: ignore[arg-type]
    clicks = _clicks(deal_id, 4)
    for click in clicks:
        recorder.record(click)
    outage.lose_answer = True
    with pytest.raises(ConnectionResetError):
        await recorder.flush()
    ids = [c[0] for c in clicks]
    assert await db.fetchval(COUNT, ids) == 4  # the copy did commit
    assert await recorder.flush() == 0  # replayed: every click was there already
    assert await db.fetchval(COUNT, ids) == 4
    assert _segments(tmp_path) == []


async def test_a_stopped_process_segments_are_replayed_by_another_and_live_ones_are_not(
    outage: Outage, db: asyncpg.Connection, deal_id: uuid.UUID, tmp_path: Path
) -> None:
    stopping = ClickRecorder(outage, tmp_path)  # type: ignore[arg-type]
    other = ClickRecorder(outage.pool, tmp_path)
    clicks = _clicks(deal_id, 6)
    outage.down = True
    for click in clicks[:3]:
        stopping.record(click)
    with pytest.raises(ConnectionRefusedError):
        await stopping.flush()
    for click in clicks[3:]:
        stopping.record(click)
    assert await other.replay_orphans() == 0  # held by a live process
    assert len(_segments(tmp_path)) == 2
    await stopping.stop()  # the database is still down: the segments stay, released
    assert len(_segments(tmp_path)) == 2
    assert await other.replay_orphans() == 6
    assert await db.fetchval(COUNT, [c[0] for c in clicks]) == 6
    assert _segments(tmp_path) == []
    assert await ClickRecorder(outage.pool, tmp_path).replay_orphans() == 0
    await other.stop()


async def test_a_line_cut_short_is_skipped_and_the_others_are_stored(
    pool: asyncpg.Pool, db: asyncpg.Connection, deal_id: uuid.UUID, tmp_path: Path
) -> None:
    spool = ClickSpool(tmp_path)
    clicks = _clicks(deal_id, 3)
    for click in clicks:
        spool.append(click)
    assert spool.current is not None
    os.write(spool.current.fd, b'["0190b6a1-0000-7000-8000-0000000000')  # the disk filled up
    spool.close()
    assert await ClickRecorder(pool, tmp_path).replay_orphans() == 3
    assert await db.fetchval(COUNT, [c[0] for c in clicks]) == 3
    assert _segments(tmp_path) == []


async def test_clicks_of_a_deal_this_database_does_not_know_are_left_out(
    pool: asyncpg.Pool, db: asyncpg.Connection, deal_id: uuid.UUID, tmp_path: Path
) -> None:
    spool = ClickSpool(tmp_path)
    known, unknown = _clicks(deal_id, 2), _clicks(uuid.uuid4(), 2)
    for click in known + unknown:
        spool.append(click)
    spool.close()
    assert await ClickRecorder(pool, tmp_path).replay_orphans() == 2
    assert await db.fetchval(COUNT, [c[0] for c in known + unknown]) == 2
    assert _segments(tmp_path) == []


async def test_beyond_the_memory_bound_clicks_are_stored_from_the_spool(
    pool: asyncpg.Pool, db: asyncpg.Connection, deal_id: uuid.UUID, tmp_path: Path
) -> None:
    recorder = ClickRecorder(pool, tmp_path, max_waiting=2)
    clicks = _clicks(deal_id, 7)
    for click in clicks:
        recorder.record(click)
    assert recorder.waiting == 7
    assert await recorder.flush() == 7
    assert await db.fetchval(COUNT, [c[0] for c in clicks]) == 7
    assert _segments(tmp_path) == []


async def test_a_click_is_in_the_spool_file_before_record_returns(
    pool: asyncpg.Pool, deal_id: uuid.UUID, tmp_path: Path
) -> None:
    recorder = ClickRecorder(pool, tmp_path)
    click = _clicks(deal_id, 1)[0]
    recorder.record(click)
    (segment,) = _segments(tmp_path)
    assert str(click[0]).encode() in segment.read_bytes()
    await recorder.stop()
    assert _segments(tmp_path) == []


async def test_a_spool_folder_that_cannot_be_made_leaves_clicks_in_memory_and_says_so(
    pool: asyncpg.Pool, db: asyncpg.Connection, deal_id: uuid.UUID, tmp_path: Path
) -> None:
    taken = tmp_path / "a-file"
    taken.write_text("")
    recorder = ClickRecorder(pool, taken / "clicks")  # no folder can be made under a file
    clicks = _clicks(deal_id, 3)
    with capture_logs() as logs:
        for click in clicks:
            recorder.record(click)
    assert [e["event"] for e in logs] == ["click_not_spooled"]  # once, not once a click
    assert await recorder.flush() == 3
    assert await db.fetchval(COUNT, [c[0] for c in clicks]) == 3
    assert await recorder.replay_orphans() == 0
